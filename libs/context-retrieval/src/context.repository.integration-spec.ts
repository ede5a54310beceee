/** The context queries against real PostgreSQL, as the application role. */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Ticket } from '@tep/contracts';
import { TenantDatabase, createDataSource } from '@tep/data';
import { createTestDatabase, testTicket, type TestDatabase } from '@tep/testing';
import {
  findKbArticles,
  findMentionedSystems,
  findOpenSimilarTickets,
  findSimilarTickets,
  fillTermFrequencyBatch,
  indexPostingsBatch,
  recordTicket,
  recountRetrievalStats,
  reindexTicketHistoryBatch,
} from './context.repository';
import { extractMentions } from './mentions';

const A = randomUUID();
const B = randomUUID();

const ticket = (over: Partial<Ticket>): Ticket =>
  testTicket({
    ticket_id: 'NEW-1',
    subject: 'Database connection timeout error',
    description_html: '',
    description_text:
      'Application reports connection timeout when querying PostgreSQL on db01 (10.0.0.5).',
    ...over,
  });

describe('context queries', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let tenants: TenantDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = createDataSource({ url: db.appUrl, poolSize: 2 });
    await dataSource.initialize();
    tenants = new TenantDatabase(dataSource);
    for (const [tenant, prefix] of [
      [A, 'A'],
      [B, 'B'],
    ] as const) {
      await tenants.withTenant(tenant, async (tx) => {
        await tx.query(
          `INSERT INTO ticket_history (tenant_id, ticket_id, subject, description, resolution, status) VALUES
             ($1, 'TKT-1', 'Database connection pool exhausted', 'timeouts from the billing app', $2, 'Resolved'),
             ($1, 'TKT-2', 'Printer offline', 'paper jam', $3, 'Resolved'),
             ($1, 'TKT-3', 'Database timeout still open', 'no resolution yet', NULL, 'Open'),
             ($1, 'TKT-4', 'Kerberos tickt renewl failur', 'typo-laden subject', $4, 'Resolved')`,
          [
            tenant,
            `${prefix}: raised the pool size`,
            `${prefix}: cleared the jam`,
            `${prefix}: synced the clock`,
          ],
        );
        await tx.query(
          `INSERT INTO kb_articles (tenant_id, article_id, title, keywords, content) VALUES
             ($1, 'KB-1', $2, 'postgresql, connection, timeout', 'Check pg_stat_activity'),
             ($1, 'KB-2', 'Printer drivers', 'printer', 'Reinstall the driver')`,
          [tenant, `${prefix}: Diagnosing PostgreSQL connection timeouts`],
        );
        await tx.query(
          `INSERT INTO system_inventory (tenant_id, hostname, ip_address, service_name, status) VALUES
             ($1, 'db01.acme.local', '10.0.0.5', 'postgresql', 'degraded'),
             ($1, 'web01', '2001:db8::10', 'nginx', 'up'),
             ($1, 'unrelated', '10.9.9.9', 'smtp', 'up')`,
          [tenant],
        );
      });
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('finds resolved look-alikes by full text, ranked, only the tenant’s own', async () => {
    const found = await tenants.withTenant(A, (tx) => findSimilarTickets(tx, ticket({})));
    expect(found.map((t) => t.ticket_id)).toEqual(['TKT-1']);
    expect(found[0]).toMatchObject({ match: 'full_text', resolution: 'A: raised the pool size' });
    expect(found[0].score).toBeGreaterThan(0);
  });

  it('falls back to trigram similarity when stemming finds nothing', async () => {
    const found = await tenants.withTenant(B, (tx) =>
      findSimilarTickets(
        tx,
        ticket({ subject: 'Kerbros tickets renewals failing', description_text: '' }),
      ),
    );
    expect(found).toEqual([
      expect.objectContaining({
        ticket_id: 'TKT-4',
        match: 'trigram',
        resolution: 'B: synced the clock',
      }),
    ]);
  });

  it('ranks knowledge-base articles', async () => {
    const found = await tenants.withTenant(B, (tx) => findKbArticles(tx, ticket({})));
    expect(found[0]).toMatchObject({
      article_id: 'KB-1',
      title: 'B: Diagnosing PostgreSQL connection timeouts',
    });
    expect(found.map((a) => a.article_id)).not.toContain('KB-2');
  });

  it('finds the systems a ticket names by host, short host, IPv4, IPv6 shorthand and service', async () => {
    const text = 'db01 is slow; web01 at 2001:db8:0:0::10 too; postgresql errors';
    const found = await tenants.withTenant(A, (tx) =>
      findMentionedSystems(tx, extractMentions(text)),
    );
    expect(found.map((s) => [s.hostname, s.status])).toEqual([
      ['db01.acme.local', 'degraded'],
      ['web01', 'up'],
    ]);
    const byIp = await tenants.withTenant(A, (tx) =>
      findMentionedSystems(tx, extractMentions('ping 10.0.0.5 fails')),
    );
    expect(byIp).toEqual([
      expect.objectContaining({ hostname: 'db01.acme.local', matched_on: 'ip_address' }),
    ]);
  });

  it('records tickets so history grows: an update with a resolution makes it usable', async () => {
    const open = ticket({
      ticket_id: 'TKT-9',
      subject: 'VPN drops hourly',
      description_text: 'vpn gateway drops',
    });
    await tenants.withTenant(A, (tx) => recordTicket(tx, open));
    const query = ticket({ subject: 'VPN drops', description_text: '' });
    expect(await tenants.withTenant(A, (tx) => findSimilarTickets(tx, query))).toEqual([]);
    await tenants.withTenant(A, (tx) =>
      recordTicket(tx, {
        ...open,
        event: 'updated',
        status: 'Resolved',
        resolution_text: 'Aligned IKE lifetimes',
      }),
    );
    const found = await tenants.withTenant(A, (tx) => findSimilarTickets(tx, query));
    expect(found.map((t) => [t.ticket_id, t.resolution])).toEqual([
      ['TKT-9', 'Aligned IKE lifetimes'],
    ]);
    expect(await tenants.withTenant(B, (tx) => findSimilarTickets(tx, query))).toEqual([]);
  });

  it("moves a ticket's stored state only forward in its own time: a late, older delivery changes nothing", async () => {
    const base = ticket({ ticket_id: 'TKT-ORDER', subject: 'Scanner offline', status: 'Open' });
    const state = async () =>
      (
        await tenants.withTenant(A, (tx) =>
          tx.query<{ status: string; resolution: string | null }>(
            `SELECT status, resolution FROM ticket_history WHERE ticket_id = 'TKT-ORDER'`,
          ),
        )
      )[0];
    const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 9, minute)).toISOString();
    await tenants.withTenant(A, (tx) =>
      recordTicket(tx, {
        ...base,
        status: 'Resolved',
        resolution_text: 'Replaced the cable',
        updated_at: at(30),
      }),
    );
    // Delivered after it, but older in SDP's time: the open state of 09:10.
    await tenants.withTenant(A, (tx) =>
      recordTicket(tx, { ...base, status: 'Open', updated_at: at(10) }),
    );
    expect(await state()).toEqual({ status: 'Resolved', resolution: 'Replaced the cable' });
    // Newer again: reopened at 09:45.
    await tenants.withTenant(A, (tx) =>
      recordTicket(tx, { ...base, status: 'Reopened', updated_at: at(45) }),
    );
    expect((await state())?.status).toBe('Reopened');
    // A delivery without SDP's time still applies (nothing to order it by).
    await tenants.withTenant(A, (tx) => recordTicket(tx, { ...base, status: 'In Progress' }));
    expect((await state())?.status).toBe('In Progress');
  });

  it('never offers a resolution that says nothing, and weighs rare words over common ones', async () => {
    const C = randomUUID();
    await tenants.withTenant(C, async (tx) => {
      const rows: [string, string, string, string][] = [
        [
          'C-1',
          'Outlook error please help',
          'Please help, Outlook error, error again, please',
          'fixed',
        ],
        [
          'C-2',
          'Outlook error on start',
          'Outlook shows an error at start, please help',
          'Rebuilt the profile.',
        ],
        [
          'C-3',
          'Sign-in blocked',
          'AADSTS50076 when opening Teams',
          'Registered the Authenticator app for MFA.',
        ],
        ['C-4', 'Printer', 'error please help', 'Replaced the toner.'],
      ];
      for (const [id, subject, description, resolution] of rows) {
        await recordTicket(
          tx,
          ticket({
            ticket_id: id,
            subject,
            description_text: description,
            status: 'Resolved',
            resolution_text: resolution,
          }),
        );
      }
    });
    const found = await tenants.withTenant(C, (tx) =>
      findSimilarTickets(
        tx,
        ticket({
          subject: 'Sign-in error please help',
          description_text: 'AADSTS50076 error, please help',
        }),
      ),
    );
    expect(found.map((t) => t.ticket_id)).not.toContain('C-1');
    expect(found[0].ticket_id).toBe('C-3');
    for (const t of found) {
      expect(t.score).toBeGreaterThan(0);
      expect(t.score).toBeLessThanOrEqual(1);
    }
  });

  it('offers no ticket that shares only the commonest words of the query', async () => {
    const K = randomUUID();
    await tenants.withTenant(K, async (tx) => {
      const fixes = ['Replaced the toner.', 'Reset the mailbox rules.', 'Cleared the print queue.'];
      for (let n = 1; n <= 20; n++) {
        await recordTicket(
          tx,
          ticket({
            ticket_id: `K-${n}`,
            subject: ['Printer streaks', 'Mail rules lost', 'Queue stuck'][n % 3],
            description_text: 'The user reports it since this morning.',
            status: 'Resolved',
            resolution_text: fixes[n % 3],
          }),
        );
      }
      await recordTicket(
        tx,
        ticket({
          ticket_id: 'K-RARE',
          subject: 'BitLocker recovery screen at boot',
          description_text: 'The user reports it after the BIOS update.',
          status: 'Resolved',
          resolution_text: 'Suspended BitLocker, updated the BIOS, resumed.',
        }),
      );
    });
    const found = await tenants.withTenant(K, (tx) =>
      findSimilarTickets(
        tx,
        ticket({
          subject: 'BitLocker asks for a recovery key',
          description_text: 'The user reports it since this morning.',
        }),
      ),
    );
    // "user", "report", "morning" are in every ticket: together a sliver of the query's IDF mass.
    expect(found.map((t) => [t.ticket_id, t.match])).toEqual([['K-RARE', 'full_text']]);
  });

  it('matches a German ticket with German stemming', async () => {
    const D = randomUUID();
    await tenants.withTenant(D, async (tx) => {
      await recordTicket(
        tx,
        ticket({
          ticket_id: 'D-1',
          subject: 'Drucker im Büro druckt nicht',
          description_text: 'Die Druckaufträge bleiben in der Warteschlange hängen.',
          status: 'Resolved',
          resolution_text: 'Druckwarteschlange neu gestartet und Treiber aktualisiert.',
        }),
      );
    });
    const found = await tenants.withTenant(D, (tx) =>
      findSimilarTickets(
        tx,
        ticket({
          subject: 'Druckauftrag hängt',
          description_text: 'Mein Druckauftrag hängt in der Warteschlange fest',
        }),
      ),
    );
    expect(found.map((t) => [t.ticket_id, t.match])).toEqual([['D-1', 'full_text']]);
  });

  it('indexes rows written before the retrieval migration in resumable batches', async () => {
    const E = randomUUID();
    await tenants.withTenant(E, async (tx) => {
      await tx.query(
        `INSERT INTO ticket_history (tenant_id, ticket_id, subject, description, resolution, status)
         SELECT $1, 'E-' || g, 'Laufwerk voll ' || g, 'Das Laufwerk C ist voll', 'WinSxS bereinigt mit DISM', 'Resolved'
           FROM generate_series(1, 5) g`,
        [E],
      );
      expect(await reindexTicketHistoryBatch(tx, 2)).toBe(2);
      expect(await reindexTicketHistoryBatch(tx, 10)).toBe(3);
      expect(await reindexTicketHistoryBatch(tx, 10)).toBe(0);
      const languages = await tx.query<{ language: string }>(
        `SELECT DISTINCT language FROM ticket_history`,
      );
      expect(languages).toEqual([{ language: 'de' }]);
    });
  });

  it('finds a ticket that was resolved by a later update, and counts it once', async () => {
    const F = randomUUID();
    const open = ticket({
      ticket_id: 'F-1',
      subject: 'FortiClient VPN drops every ten minutes',
      description_text: 'The tunnel disconnects; DPD timeout in the FortiClient log.',
    });
    await tenants.withTenant(F, async (tx) => {
      await recordTicket(tx, open);
      await recordTicket(tx, {
        ...open,
        status: 'Resolved',
        resolution_text: 'Raised the DPD interval to 60 s.',
      });
      await recordTicket(tx, { ...open, status: 'Resolved', priority: 'Low' }); // no text change
    });
    const found = await tenants.withTenant(F, (tx) =>
      findSimilarTickets(
        tx,
        ticket({ subject: 'FortiClient keeps disconnecting', description_text: '' }),
      ),
    );
    expect(found.map((t) => [t.ticket_id, t.match])).toEqual([['F-1', 'full_text']]);
    const stats = await tenants.withTenant(F, (tx) =>
      tx.query<{ df: number; docs: number }>(
        `SELECT s.df, c.docs FROM ticket_term_stats s, ticket_corpus_stats c WHERE s.lexeme = 'forticli'`,
      ),
    );
    expect(stats).toEqual([{ df: 1, docs: 1 }]);
  });

  it('writes the postings of rows indexed before the postings migration, resumably', async () => {
    const G = randomUUID();
    const postings = (tx: Parameters<Parameters<TenantDatabase['withTenant']>[1]>[0]) =>
      tx.query<{ n: number }>(`SELECT count(DISTINCT ticket_row)::int AS n FROM ticket_postings`);
    await tenants.withTenant(G, async (tx) => {
      await tx.query(
        `INSERT INTO ticket_history (tenant_id, ticket_id, subject, description, resolution, status)
         SELECT $1, 'G-' || g, 'BitLocker recovery key prompt ' || g, 'after BIOS update', 'Suspended BitLocker before flashing', 'Resolved'
           FROM generate_series(1, 5) g`,
        [G],
      );
      // As the rows were before the migration: vectors and statistics, no postings.
      await tx.query(`DELETE FROM ticket_postings`);
      await tx.query(`UPDATE ticket_term_stats SET df = 99`);
      expect(await postings(tx)).toEqual([{ n: 0 }]);
    });
    const batches: { last: string | null; indexed: number }[] = [];
    for (let after: string | null = ''; after !== null;) {
      const batch = await tenants.withTenant(G, (tx) => indexPostingsBatch(tx, after!, 2));
      batches.push(batch);
      after = batch.last;
    }
    expect(batches).toEqual([
      { last: 'G-2', indexed: 2 },
      { last: 'G-4', indexed: 2 },
      { last: 'G-5', indexed: 1 },
      { last: null, indexed: 0 },
    ]);
    // Resumed from the start: nothing is written twice.
    expect(await tenants.withTenant(G, (tx) => indexPostingsBatch(tx, '', 10))).toEqual({
      last: 'G-5',
      indexed: 0,
    });
    await tenants.withTenant(G, recountRetrievalStats);
    await tenants.withTenant(G, async (tx) => {
      expect(await postings(tx)).toEqual([{ n: 5 }]);
      expect(await tx.query(`SELECT df FROM ticket_term_stats WHERE lexeme = 'bitlock'`)).toEqual([
        { df: 5 },
      ]);
      const found = await findSimilarTickets(
        tx,
        ticket({ subject: 'BitLocker asks for the recovery key', description_text: '' }),
      );
      expect(found).toHaveLength(5);
      expect(found.every((t) => t.match === 'full_text')).toBe(true);
    });
  });

  it('never stores a pasted password or card number in the history', async () => {
    const H = randomUUID();
    await tenants.withTenant(H, (tx) =>
      recordTicket(
        tx,
        ticket({
          ticket_id: 'H-1',
          description_text:
            'Cannot log in to the VPN. My password: Winter2026!x and the company card 4111 1111 1111 1111 is on file.',
          resolution_text: 'Reset done; temporary password: Tmp#4421 given by phone.',
        }),
      ),
    );
    const [row] = await tenants.withTenant(H, (tx) =>
      tx.query<{ description: string; resolution: string }>(
        `SELECT description, resolution FROM ticket_history WHERE ticket_id = 'H-1'`,
      ),
    );
    expect(row.description).toContain('Cannot log in to the VPN.');
    for (const secret of ['Winter2026!x', '4111 1111 1111 1111', 'Tmp#4421']) {
      expect(JSON.stringify(row)).not.toContain(secret);
    }
  });

  it("counts only the tenant's own recent open look-alikes for a possible outage", async () => {
    const [P, Q] = [randomUUID(), randomUUID()];
    const open = (n: number) =>
      ticket({
        ticket_id: `O-${n}`,
        subject: 'Citrix Workspace cannot launch the ERP desktop',
        description_text: `User ${n}: Cannot start desktop ERP-Prod since 10:05.`,
      });
    for (const tenant of [P, Q]) {
      await tenants.withTenant(tenant, async (tx) => {
        for (const n of [1, 2, 3]) await recordTicket(tx, open(n));
        await recordTicket(tx, ticket({ ticket_id: 'O-9', subject: 'Printer jammed on floor 2' }));
        await recordTicket(tx, {
          ...open(4),
          status: 'Resolved',
          resolution_text: 'Restarted the broker.',
        });
      });
    }
    // Q's three also arrived two hours ago: outside a 60-minute window.
    await tenants.withTenant(Q, (tx) =>
      tx.query(
        `UPDATE ticket_history SET created_at = now() - interval '2 hours' WHERE ticket_id LIKE 'O-%'`,
      ),
    );
    const found = await tenants.withTenant(P, (tx) =>
      findOpenSimilarTickets(tx, open(5), { minutes: 60, threshold: 3 }),
    );
    expect(found.map((t) => t.ticket_id).sort()).toEqual(['O-1', 'O-2', 'O-3']);
    expect(found.every((t) => t.score >= 0.2)).toBe(true);
    expect(
      await tenants.withTenant(Q, (tx) =>
        findOpenSimilarTickets(tx, open(5), { minutes: 60, threshold: 3 }),
      ),
    ).toEqual([]);
    expect(
      await tenants.withTenant(Q, (tx) =>
        findOpenSimilarTickets(tx, open(5), { minutes: 180, threshold: 3 }),
      ),
    ).toHaveLength(3);
  });
  it("ranks from stored term frequencies equal to the vector's, and fills them for rows written before them", async () => {
    const H = randomUUID();
    const resolved = (n: number, subject: string, resolution: string) =>
      ticket({ ticket_id: `H-${n}`, subject, status: 'Resolved', resolution_text: resolution });
    const incoming = ticket({
      ticket_id: 'H-NEW',
      subject: 'Outlook keeps asking for the password',
      description_text:
        'Outlook prompts for credentials again and again since the password change.',
    });
    await tenants.withTenant(H, async (tx) => {
      await recordTicket(
        tx,
        resolved(
          1,
          'Outlook password prompt loop',
          'Cleared the cached credentials in Credential Manager.',
        ),
      );
      await recordTicket(
        tx,
        resolved(2, 'Outlook asks for password after change', 'Re-created the Outlook profile.'),
      );
      await recordTicket(
        tx,
        resolved(3, 'Password expired on the VPN', 'Reset the password in AD.'),
      );
      for (const n of [4, 5]) {
        await recordTicket(tx, {
          ...incoming,
          ticket_id: `H-${n}`,
          description_text: `User ${n}: Outlook asks for the password.`,
        });
      }
    });
    const rank = () =>
      tenants.withTenant(H, async (tx) => ({
        similar: await findSimilarTickets(tx, incoming),
        open: await findOpenSimilarTickets(tx, incoming, { minutes: 60, threshold: 2 }),
      }));
    // Every row's arrays are its vector's words with tep_field_tf of their weights (what the ranking computed before).
    const differing = () =>
      tenants.withTenant(H, (tx) =>
        tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ticket_history h
            LEFT JOIN LATERAL (SELECT array_agg(u.lexeme) AS terms, array_agg(tep_field_tf(u.weights)) AS tf
                                 FROM unnest(h.retrieval_vector) u) v ON true
            WHERE h.retrieval_terms IS DISTINCT FROM v.terms OR h.retrieval_tf IS DISTINCT FROM v.tf`,
        ),
      );
    expect(await differing()).toEqual([{ n: 0 }]);
    const ranked = await rank();
    // H-3 shares only "password", which every resolved ticket has: not a candidate.
    expect(ranked.similar.map((t) => [t.ticket_id, t.match])).toEqual([
      ['H-2', 'full_text'],
      ['H-1', 'full_text'],
    ]);
    expect(ranked.open.map((t) => t.ticket_id).sort()).toEqual(['H-4', 'H-5']);
    // Subject words weigh 4, description words 1, resolution words 0.8: "outlook" is in H-2's subject and resolution.
    const [h2] = await tenants.withTenant(H, (tx) =>
      tx.query<{ tf: number }>(
        `SELECT retrieval_tf[array_position(retrieval_terms, 'outlook')] AS tf FROM ticket_history WHERE ticket_id = 'H-2'`,
      ),
    );
    expect(h2.tf).toBeCloseTo(4.8, 10);

    // As the rows were before the migration: no arrays, so no words to rank by until they are filled.
    await tenants.withTenant(H, (tx) =>
      tx.query(`UPDATE ticket_history SET retrieval_terms = NULL, retrieval_tf = NULL`),
    );
    expect((await rank()).open).toEqual([]);

    // db:reindex's step fills them in batches, without touching the statistics or postings.
    const counts = `SELECT (SELECT sum(df)::int FROM ticket_term_stats) AS df,
                           (SELECT count(*)::int FROM ticket_postings) AS postings`;
    const before = await tenants.withTenant(H, (tx) => tx.query(counts));
    expect(await tenants.withTenant(H, (tx) => fillTermFrequencyBatch(tx, 3))).toBe(3);
    expect(await tenants.withTenant(H, (tx) => fillTermFrequencyBatch(tx, 3))).toBe(2);
    expect(await tenants.withTenant(H, (tx) => fillTermFrequencyBatch(tx, 3))).toBe(0);
    expect(await differing()).toEqual([{ n: 0 }]);
    expect(await tenants.withTenant(H, (tx) => tx.query(counts))).toEqual(before);
    expect(await rank()).toEqual(ranked);
  });
});
