/**
 * Feedback changes retrieval for that tenant only: the tickets a note cited
 * rank higher after a Helpful rating and lower after a Not helpful one,
 * bounded so one vote neither buries a strong match nor promotes a weak one.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { TenantDatabase, createDataSource, recordFeedback } from '@tep/data';
import { createTestDatabase, testTicket, type TestDatabase } from '@tep/testing';
import { findSimilarTickets } from './context.repository';

const A = randomUUID();
const B = randomUUID();

const query = testTicket({
  ticket_id: 'NEW-1',
  subject: 'Outlook keeps asking for the password',
  description_html: '',
  description_text: 'Outlook prompts for credentials again and again since this morning.',
});

describe('the feedback boost in similar-ticket ranking', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let tenants: TenantDatabase;

  const ranking = async (tenant: string) =>
    tenants.withTenant(tenant, async (tx) =>
      (await findSimilarTickets(tx, query, { limit: 5 })).map(
        (r) => [r.ticket_id, r.score] as const,
      ),
    );

  /** A job whose note cited `cited`, rated by a technician. */
  async function rate(
    tenant: string,
    cited: string[],
    rating: 'helpful' | 'not_helpful',
    jobId = randomUUID(),
  ) {
    await tenants.withTenant(tenant, async (tx) => {
      await tx.query(
        `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status, enhancement)
         VALUES ($1, $2, 'NEW-0', 'posted', $3) ON CONFLICT (tenant_id, job_id) DO NOTHING`,
        [tenant, jobId, JSON.stringify({ related_tickets: cited })],
      );
      await recordFeedback(tx, { jobId, rating, submittedAt: new Date().toISOString() });
    });
    return jobId;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = createDataSource({ url: db.appUrl, poolSize: 2 });
    await dataSource.initialize();
    tenants = new TenantDatabase(dataSource);
    for (const tenant of [A, B]) {
      await tenants.withTenant(tenant, (tx) =>
        tx.query(
          `INSERT INTO ticket_history (tenant_id, ticket_id, subject, description, resolution, status) VALUES
             ($1, 'TKT-1', 'Outlook asks for password repeatedly', 'Outlook password prompt loop', 'Cleared cached credentials in Credential Manager', 'Resolved'),
             ($1, 'TKT-2', 'Outlook password prompt keeps coming back', 'credentials prompt again', 'Re-created the Outlook profile', 'Resolved'),
             ($1, 'TKT-3', 'Printer offline on floor 3', 'paper jam', 'Cleared the jam', 'Resolved')`,
          [tenant],
        ),
      );
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('moves a cited ticket by at most 15 %, per tenant, and follows a changed answer', async () => {
    const before = new Map(await ranking(A));
    const [first, second] = [...before.keys()];
    expect(new Set([first, second])).toEqual(new Set(['TKT-1', 'TKT-2']));

    // Three notes citing the second-ranked ticket were helpful: it rises, within the bound.
    for (let i = 0; i < 3; i++) await rate(A, [second], 'helpful');
    const boosted = new Map(await ranking(A));
    expect(boosted.get(second)! / before.get(second)!).toBeGreaterThan(1.1);
    expect(boosted.get(second)! / before.get(second)!).toBeLessThanOrEqual(1.15 + 1e-3);
    // Another tenant's ranking is its own.
    expect(new Map(await ranking(B)).get(second)).toBeCloseTo(before.get(second)!, 3);

    // A single Not helpful vote moves the top ticket down by ~7 %, no more.
    const job = await rate(A, [first], 'not_helpful');
    const demoted = new Map(await ranking(A));
    const ratio = demoted.get(first)! / before.get(first)!;
    expect(ratio).toBeGreaterThan(0.92);
    expect(ratio).toBeLessThan(0.94);
    // Still far above an unrelated ticket: one vote buries nothing.
    expect(demoted.get(first)!).toBeGreaterThan((demoted.get('TKT-3') ?? 0) * 2);

    // The technician changes the answer to Helpful: the vote moves with it.
    await tenants.withTenant(A, (tx) =>
      recordFeedback(tx, {
        jobId: job,
        rating: 'helpful',
        submittedAt: new Date(Date.now() + 1000).toISOString(),
      }),
    );
    const votes = await tenants.withTenant(A, (tx) =>
      tx.query<{ helpful: number; not_helpful: number }>(
        `SELECT helpful, not_helpful FROM ticket_feedback WHERE tenant_id = $1 AND ticket_ref = $2`,
        [A, first],
      ),
    );
    expect(votes[0]).toEqual({ helpful: 1, not_helpful: 0 });
    expect(new Map(await ranking(A)).get(first)! / before.get(first)!).toBeGreaterThan(1.06);
  });
});
