/**
 * Part 3: context retrieval latency against 1,000,000 ticket_history rows
 * spread over 1,000 tenants, run the way the context-gatherer runs it: as
 * the application role (tep_app, RLS applies), one transaction per source
 * through TenantDatabase.withTenant with the per-source statement timeout,
 * with the gatherer's own queries (@tep/context-retrieval).
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import {
  ANY_WORD_QUERY,
  CONTEXT_QUERIES,
  extractMentions,
  findSimilarTickets,
  searchInputOf,
  searchTextOf,
} from '@tep/context-retrieval';
import type { Ticket } from '@tep/contracts';
import { TenantDatabase, createDataSource, type TenantTransaction } from '@tep/data';
import { benchDatabase, databaseExists, dropDatabase, type BenchDatabase } from './lib/environment';
import { summarize, type LatencySummary } from './lib/stats';

export interface ContextOptions {
  rows: number;
  tenants: number;
  queries: number;
  /** Keep the generated database for the next run (and reuse one of the same size). */
  keepDatabase: boolean;
}

export interface ContextReport {
  rows: number;
  tenants: number;
  kbArticles: number;
  inventory: number;
  /** Seconds to generate and index the rows (0 when reused). */
  generationSeconds: number;
  tableSizeMiB: number;
  /** ticket_postings with its indexes (the similar-ticket index). */
  postingsSizeMiB: number;
  queries: number;
  /** findSimilarTickets alone (its transaction and statement timeout included). */
  similarTicketsMs: LatencySummary;
  /** The one tenant with 100,000 rows, in the same database. */
  similarTicketsLargeTenantMs: LatencySummary;
  /** All three sources in parallel, as GatherContext.gather runs them. */
  gatherMs: LatencySummary;
  /** Rows the similar-tickets query returned, on average (5 at most). */
  meanSimilarFound: number;
  trigramFallbacks: number;
  explain: Record<string, string>;
  indexesUsed: Record<string, string[]>;
  /**
   * Rows of all tenants the sample's any-word query matches (superuser, no
   * RLS): what a scan of the GIN index on search_vector would have to visit
   * before RLS keeps the one tenant's rows.
   */
  ginCandidatesAllTenants: number;
}

const DATABASE = 'ai_agents_bench_ctx';
/** "A large client": one tenant with this many rows beside the 1,000 small ones. */
const LARGE_TENANT_ROWS = 100_000;
const STATEMENT_TIMEOUT_MS = 3000; // CONTEXT_SOURCE_TIMEOUT_MS default

const {
  similarTickets: SIMILAR_TICKETS,
  kbArticles: KB_ARTICLES,
  mentionedSystems: MENTIONED_SYSTEMS,
} = CONTEXT_QUERIES;
const SET_TIMEOUT = `SELECT set_config('statement_timeout', $1, true)`;

// ---- Vocabulary shared by the generated history and the incoming tickets.
const SYSTEMS = [
  'PostgreSQL database',
  'MySQL database',
  'Oracle database',
  'VPN',
  'Outlook',
  'Exchange mailbox',
  'printer',
  'Wi-Fi',
  'network switch',
  'firewall',
  'Active Directory',
  'SharePoint',
  'Teams',
  'laptop',
  'file server',
  'backup job',
  'DNS',
  'DHCP',
  'load balancer',
  'ERP',
  'CRM',
  'payroll application',
  'billing application',
  'Citrix',
  'Jira',
  'OneDrive',
  'SSO',
  'MFA',
  'web portal',
  'Kubernetes cluster',
];
const PROBLEMS = [
  'connection timeout',
  'not responding',
  'slow performance',
  'login failure',
  'disk full',
  'certificate expired',
  'high CPU usage',
  'memory leak',
  'access denied',
  'sync error',
  'crash on startup',
  'packet loss',
  'password reset',
  'license expired',
  'replication lag',
  'service unavailable',
  'HTTP 500 error',
  'cannot connect',
  'intermittent outage',
  'configuration drift',
  'blue screen',
  'paper jam',
  'quota exceeded',
  'account locked',
];
const HOSTS = [
  'db01',
  'db02',
  'app01',
  'app02',
  'web01',
  'web02',
  'mail01',
  'fs01',
  'vpn-gw',
  'dc01',
  'dc02',
  'print01',
  'erp01',
  'crm01',
  'lb01',
  'k8s-node3',
  'backup01',
  'sql03',
  'citrix02',
  'proxy01',
];
const FIXES = [
  'Restarted the service and monitored it for an hour',
  'Increased the connection pool size to 50',
  'Renewed the TLS certificate',
  'Cleared old log files and extended the volume',
  'Reset the user password and re-enrolled MFA',
  'Rebooted the switch and replaced the uplink cable',
  'Added the missing index and vacuumed the table',
  'Reinstalled the printer driver',
  'Unlocked the account in Active Directory',
  'Rolled back the last deployment',
  'Raised the mailbox quota',
  'Renewed the license key',
  'Updated the firewall rule for the subnet',
  'Failed over to the standby replica',
  'Re-created the Outlook profile',
  'Replaced the faulty disk',
  'Cleared the DNS cache and fixed the A record',
  'Extended the DHCP scope',
  'Patched the application to the latest version',
  'Restarted the load balancer health checks',
  'Increased the VM memory',
  'Removed the stuck print job',
  'Re-synchronised OneDrive',
  'Rotated the service account credentials',
];
const EXTRAS = [
  'Several users are affected.',
  'Only one user is affected.',
  'Started after the weekend maintenance.',
  'Happens intermittently during business hours.',
  'The issue blocks month-end reporting.',
  'Workaround: restart the client.',
  'Error appears in the event log.',
  'No recent changes according to the requester.',
];
const SERVICES = ['postgresql', 'mysql', 'exchange', 'nginx', 'iis', 'cups', 'openvpn', 'bind'];

/** Deterministic pseudo-random numbers (mulberry32), so runs query the same tickets. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tenantIdSql = (expr: string) => `md5('bench-tenant-' || (${expr}))::uuid`;

/** The same ids the SQL generates: md5('bench-tenant-<n>') as a uuid. */
async function tenantIds(admin: Client, tenants: number): Promise<string[]> {
  const { rows } = await admin.query<{ id: string }>(
    `SELECT ${tenantIdSql('i')}::text AS id FROM generate_series(0, $1 - 1) AS i ORDER BY i`,
    [tenants],
  );
  return rows.map((r) => r.id);
}

/** One INSERT … SELECT generate_series as superuser, GIN indexes built after the load. */
async function generate(db: BenchDatabase, options: ContextOptions): Promise<number> {
  const admin = new Client({ connectionString: db.adminUrl });
  await admin.connect();
  const started = performance.now();
  try {
    await admin.query(`SET maintenance_work_mem = '256MB'`);
    await admin.query(`SET synchronous_commit = off`);
    // Build the GIN indexes once after the load (same definitions), not row by row.
    const { rows: indexes } = await admin.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes
        WHERE tablename = 'ticket_history' AND indexdef ILIKE '%USING gin%'`,
    );
    for (const index of indexes) await admin.query(`DROP INDEX ${index.name}`);
    const h = (salt: number, n: number) => `(abs(hashint4(i * 31 + ${salt})) % ${n} + 1)`;
    // Document frequencies are computed once after the load (as db:reindex
    // would), not row by row through the trigger.
    await admin.query(`ALTER TABLE ticket_history DISABLE TRIGGER ticket_history_term_stats`);
    for (const [tenantExpr, from, count] of [
      [`i % ${options.tenants}`, 0, options.rows],
      // One large client in the same database: its own 100,000 rows.
      [`'large'`, options.rows, LARGE_TENANT_ROWS],
    ] as const) {
      await admin.query(
        `INSERT INTO ticket_history (tenant_id, ticket_id, display_id, subject, description, priority,
                                   status, resolution, source, ticket_created_at, resolved_at)
       SELECT ${tenantIdSql(tenantExpr)},
              'TKT-' || i, 'TKT-' || i,
              ($1::text[])[${h(1, SYSTEMS.length)}] || ' ' || ($2::text[])[${h(2, PROBLEMS.length)}]
                || CASE WHEN ${h(3, 2)} = 1 THEN ' on ' || ($3::text[])[${h(4, HOSTS.length)}] ELSE '' END,
              CASE ${h(5, 4)}
                WHEN 1 THEN 'User reports ' || ($2::text[])[${h(6, PROBLEMS.length)}] || ' with the ' || ($1::text[])[${h(7, SYSTEMS.length)}] || ' since ' || ${h(8, 11)} || ' AM. ' || ($5::text[])[${h(9, EXTRAS.length)}]
                WHEN 2 THEN 'Since this morning ' || ($3::text[])[${h(10, HOSTS.length)}] || ' shows ' || ($2::text[])[${h(11, PROBLEMS.length)}] || '. ' || ($5::text[])[${h(12, EXTRAS.length)}]
                WHEN 3 THEN ($1::text[])[${h(13, SYSTEMS.length)}] || ': ' || ($2::text[])[${h(14, PROBLEMS.length)}] || ' for the finance team.'
                ELSE 'Monitoring alert on ' || ($3::text[])[${h(15, HOSTS.length)}] || ': ' || ($2::text[])[${h(16, PROBLEMS.length)}] || '. ' || ($5::text[])[${h(17, EXTRAS.length)}]
              END,
              (ARRAY['Low', 'Medium', 'High', 'Urgent'])[${h(18, 4)}],
              CASE WHEN ${h(19, 10)} <= 7 THEN 'Resolved' ELSE 'Open' END,
              CASE WHEN ${h(19, 10)} <= 7 THEN ($4::text[])[${h(20, FIXES.length)}] || '.' END,
              'import',
              now() - (i % 730) * interval '1 day',
              CASE WHEN ${h(19, 10)} <= 7 THEN now() - (i % 730) * interval '1 day' + interval '4 hours' END
         FROM generate_series($7::int, $7::int + $6 - 1) AS i`,
        [SYSTEMS, PROBLEMS, HOSTS, FIXES, EXTRAS, count, from],
      );
    }
    await admin.query(`ALTER TABLE ticket_history ENABLE TRIGGER ticket_history_term_stats`);
    await admin.query(
      `INSERT INTO ticket_term_stats (tenant_id, lexeme, df)
       SELECT tenant_id, lexeme, count(*) FROM ticket_history, unnest(tsvector_to_array(retrieval_vector)) AS lexeme
        WHERE retrieval_eligible GROUP BY tenant_id, lexeme`,
    );
    await admin.query(
      `INSERT INTO ticket_corpus_stats (tenant_id, docs, total_len)
       SELECT tenant_id, count(*), sum(retrieval_len) FROM ticket_history
        WHERE retrieval_eligible GROUP BY tenant_id`,
    );
    // The postings likewise, into a table without its indexes (re-created after).
    const { rows: postingIndexes } = await admin.query<{ drop: string; create: string }>(
      `SELECT CASE WHEN c.conname IS NULL THEN 'DROP INDEX ' || i.indexname
                   ELSE 'ALTER TABLE ticket_postings DROP CONSTRAINT ' || c.conname END AS drop,
              CASE WHEN c.conname IS NULL THEN i.indexdef
                   ELSE 'ALTER TABLE ticket_postings ADD CONSTRAINT ' || c.conname || ' ' || pg_get_constraintdef(c.oid) END AS create
         FROM pg_indexes i LEFT JOIN pg_constraint c ON c.conname = i.indexname
        WHERE i.tablename = 'ticket_postings'`,
    );
    for (const index of postingIndexes) await admin.query(index.drop);
    await admin.query(
      `INSERT INTO ticket_postings (ticket_row, lexeme, tenant_id, impact)
       SELECT h.id, u.lexeme, h.tenant_id,
              tep_bm25_tf(tep_field_tf(u.weights), h.retrieval_len, c.total_len::float8 / greatest(c.docs, 1))
         FROM ticket_history h JOIN ticket_corpus_stats c USING (tenant_id)
        CROSS JOIN LATERAL unnest(h.retrieval_vector) AS u
        WHERE h.retrieval_eligible`,
    );
    for (const index of postingIndexes) await admin.query(index.create);
    for (const index of indexes) await admin.query(index.def);
    const perTenant = 20;
    await admin.query(
      `INSERT INTO kb_articles (tenant_id, article_id, title, content, keywords)
       SELECT ${tenantIdSql(`i % ${options.tenants}`)}, 'KB-' || (i / ${options.tenants}),
              'How to fix ' || ($2::text[])[${h(2, PROBLEMS.length)}] || ' on the ' || ($1::text[])[${h(1, SYSTEMS.length)}],
              ($3::text[])[${h(3, FIXES.length)}] || '. Then confirm with the requester.',
              lower(($1::text[])[${h(1, SYSTEMS.length)}])
         FROM generate_series(0, $4 - 1) AS i`,
      [SYSTEMS, PROBLEMS, FIXES, options.tenants * perTenant],
    );
    await admin.query(
      `INSERT INTO system_inventory (tenant_id, hostname, ip_address, service_name, status)
       SELECT ${tenantIdSql(`i % ${options.tenants}`)}, ($1::text[])[(i / ${options.tenants}) % ${HOSTS.length} + 1],
              ('10.' || (i % 250) || '.' || (i / ${options.tenants}) || '.' || (i % 200 + 1))::inet,
              ($2::text[])[${h(2, SERVICES.length)}],
              CASE WHEN ${h(3, 10)} = 1 THEN 'down' ELSE 'up' END
         FROM generate_series(0, $3 - 1) AS i`,
      [HOSTS, SERVICES, options.tenants * Math.min(perTenant, HOSTS.length)],
    );
    // VACUUM too: in production the rows were written long ago, so their hint
    // bits are set; otherwise the first queries would dirty and write pages.
    await admin.query('VACUUM (ANALYZE) ticket_history');
    await admin.query('VACUUM (ANALYZE) ticket_postings');
    await admin.query('VACUUM (ANALYZE) kb_articles');
    await admin.query('VACUUM (ANALYZE) system_inventory');
  } finally {
    await admin.end();
  }
  return (performance.now() - started) / 1000;
}

const EMPTY_TICKET: Ticket = {
  ticket_id: '',
  subject: '',
  description_html: '',
  description_text: '',
  resolution_text: null,
  priority: null,
  status: 'Open',
  requester_email: null,
  created_at: null,
  event: 'created',
};

interface IncomingTicket {
  ticket_id: string;
  subject: string;
  description_text: string;
}

function incomingTicket(rand: () => number, n: number): IncomingTicket {
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  const problem = pick(PROBLEMS);
  return {
    ticket_id: `NEW-${n}`,
    subject: `${pick(SYSTEMS)} ${problem}`,
    description_text:
      `Application reports '${pick(PROBLEMS)}' when using the ${pick(SYSTEMS)} on ${pick(HOSTS)}. ` +
      `Error started at ${1 + Math.floor(rand() * 11)}:30 AM. ${pick(EXTRAS)}`,
  };
}

const textOf = (t: IncomingTicket) => searchTextOf(t);

/** Exactly what the gatherer runs: BM25 fused with subject trigram similarity. */
async function similarTickets(tx: TenantTransaction, ticket: IncomingTicket) {
  const rows = await findSimilarTickets(tx, { ...EMPTY_TICKET, ...ticket });
  return {
    rows: rows.length,
    trigram: rows.length > 0 && rows.every((r) => r.match === 'trigram'),
  };
}

export async function benchContext(options: ContextOptions): Promise<ContextReport> {
  let generationSeconds = 0;
  let db: BenchDatabase;
  let reuse = false;
  if (options.keepDatabase && (await databaseExists(DATABASE))) {
    db = await benchDatabase(DATABASE, false);
    const check = new Client({ connectionString: db.adminUrl });
    await check.connect();
    const { rows } = await check.query<{ n: string; t: string }>(
      'SELECT count(*) AS n, count(DISTINCT tenant_id) AS t FROM ticket_history',
    );
    await check.end();
    // The small tenants plus the one large client.
    reuse =
      Number(rows[0].n) === options.rows + LARGE_TENANT_ROWS &&
      Number(rows[0].t) === options.tenants + 1;
  }
  if (!reuse) {
    db = await benchDatabase(DATABASE, true);
    console.log(`  [context] generating ${options.rows} rows over ${options.tenants} tenants…`);
    generationSeconds = await generate(db, options);
    console.log(`  [context] generated and indexed in ${generationSeconds.toFixed(0)} s`);
  } else {
    db = await benchDatabase(DATABASE, false);
    console.log(`  [context] reusing ${DATABASE}`);
  }

  const admin = new Client({ connectionString: db.adminUrl });
  await admin.connect();
  const dataSource = createDataSource({ url: db.appUrl, poolSize: 10, applicationName: 'bench' });
  await dataSource.initialize();
  try {
    const tenants = await tenantIds(admin, options.tenants);
    const counts = await admin.query<{ kb: string; inv: string; size: string; postings: string }>(
      `SELECT (SELECT count(*) FROM kb_articles) AS kb, (SELECT count(*) FROM system_inventory) AS inv,
              pg_total_relation_size('ticket_history') AS size,
              pg_total_relation_size('ticket_postings') AS postings`,
    );
    const database = new TenantDatabase(dataSource);
    const withDeadline = <T>(tenantId: string, work: (tx: TenantTransaction) => Promise<T>) =>
      database.withTenant(tenantId, async (tx) => {
        await tx.query(SET_TIMEOUT, [`${STATEMENT_TIMEOUT_MS}ms`]);
        return work(tx);
      });
    const rand = random(42);
    const gatherOnce = (tenantId: string, ticket: IncomingTicket) => {
      const mentions = extractMentions(`${ticket.subject}\n${ticket.description_text}`);
      return Promise.all([
        withDeadline(tenantId, (tx) => similarTickets(tx, ticket)),
        withDeadline(tenantId, (tx) => tx.query(KB_ARTICLES, [textOf(ticket), 3])),
        withDeadline(tenantId, (tx) =>
          tx.query(MENTIONED_SYSTEMS, [
            [...mentions.hosts, ...mentions.words],
            mentions.addresses,
            mentions.words,
            10,
          ]),
        ),
      ]);
    };
    // Warm the pool and the plan cache; not measured.
    for (let i = 0; i < 30; i++) {
      await gatherOnce(tenants[Math.floor(rand() * tenants.length)], incomingTicket(rand, i));
    }
    const similarMs: number[] = [];
    const gatherMs: number[] = [];
    let found = 0;
    let fallbacks = 0;
    for (let i = 0; i < options.queries; i++) {
      const tenantId = tenants[Math.floor(rand() * tenants.length)];
      const ticket = incomingTicket(rand, i);
      let t0 = performance.now();
      const result = await withDeadline(tenantId, (tx) => similarTickets(tx, ticket));
      similarMs.push(performance.now() - t0);
      found += result.rows;
      if (result.trigram) fallbacks++;
      const other = incomingTicket(rand, i + options.queries);
      t0 = performance.now();
      await gatherOnce(tenants[Math.floor(rand() * tenants.length)], other);
      gatherMs.push(performance.now() - t0);
    }

    const largeTenant = (
      await admin.query<{ id: string }>(`SELECT ${tenantIdSql(`'large'`)}::text AS id`)
    ).rows[0].id;
    const similarLargeMs: number[] = [];
    for (let i = 0; i < Math.min(options.queries, 200); i++) {
      const ticket = incomingTicket(rand, i + 2 * options.queries);
      const t0 = performance.now();
      await withDeadline(largeTenant, (tx) => similarTickets(tx, ticket));
      similarLargeMs.push(performance.now() - t0);
    }

    // EXPLAIN (ANALYZE, BUFFERS) as the application role, under RLS, same parameters.
    const sample = incomingTicket(random(7), 0);
    const mentions = extractMentions(`${sample.subject}\n${sample.description_text}`);
    const explain: Record<string, string> = {};
    const plans: [string, string, unknown[]][] = [
      [
        'similar tickets (BM25 + trigram)',
        SIMILAR_TICKETS,
        (({ text, language, subject }) => [
          text,
          language,
          sample.ticket_id,
          5,
          subject,
          tenants[0],
        ])(searchInputOf(sample)),
      ],
      ['kb articles', KB_ARTICLES, [textOf(sample), 3]],
      [
        'mentioned systems',
        MENTIONED_SYSTEMS,
        [[...mentions.hosts, ...mentions.words], mentions.addresses, mentions.words, 10],
      ],
    ];
    for (const [name, text, params] of plans) {
      const rows = await database.withTenant(tenants[0], (tx) =>
        tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params),
      );
      explain[name] =
        `-- sample ticket: ${JSON.stringify(sample.subject)}\n${rows.map((r) => r['QUERY PLAN']).join('\n')}`;
    }
    const indexesUsed = Object.fromEntries(
      Object.entries(explain).map(([name, plan]) => [
        name,
        [
          ...new Set(
            [
              ...plan.matchAll(
                /(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)/g,
              ),
            ].map((m) => m[1]),
          ),
        ],
      ]),
    );
    const gin = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM ticket_history, ${ANY_WORD_QUERY} AS q(query)
        WHERE search_vector @@ q.query AND resolution IS NOT NULL`,
      [textOf(sample)],
    );
    const report: ContextReport = {
      rows: options.rows,
      tenants: options.tenants,
      kbArticles: Number(counts.rows[0].kb),
      inventory: Number(counts.rows[0].inv),
      generationSeconds,
      tableSizeMiB: Math.round(Number(counts.rows[0].size) / 2 ** 20),
      postingsSizeMiB: Math.round(Number(counts.rows[0].postings) / 2 ** 20),
      queries: options.queries,
      similarTicketsMs: summarize(similarMs),
      similarTicketsLargeTenantMs: summarize(similarLargeMs),
      gatherMs: summarize(gatherMs),
      meanSimilarFound: found / options.queries,
      trigramFallbacks: fallbacks,
      explain,
      indexesUsed,
      ginCandidatesAllTenants: Number(gin.rows[0].n),
    };
    console.log(
      `  [context] similar tickets p50=${report.similarTicketsMs.p50.toFixed(1)} p95=${report.similarTicketsMs.p95.toFixed(1)} ` +
        `p99=${report.similarTicketsMs.p99.toFixed(1)} ms; whole gather p95=${report.gatherMs.p95.toFixed(1)} ms; ` +
        `indexes: ${JSON.stringify(indexesUsed)}`,
    );
    console.log(
      `  [context] similar tickets (large tenant, ${LARGE_TENANT_ROWS} rows) p50=${report.similarTicketsLargeTenantMs.p50.toFixed(1)} ` +
        `p95=${report.similarTicketsLargeTenantMs.p95.toFixed(1)} p99=${report.similarTicketsLargeTenantMs.p99.toFixed(1)} ms`,
    );
    return report;
  } finally {
    await dataSource.destroy();
    await admin.end();
    if (!options.keepDatabase) await dropDatabase(DATABASE);
  }
}

/** Which copied statements no longer appear in the gatherer's source (whitespace-normalised). */
