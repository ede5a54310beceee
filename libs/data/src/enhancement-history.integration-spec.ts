/**
 * The poster's claim on a job under a prepared statement's generic plan.
 * PostgreSQL keeps a generic plan after five executions, made with the
 * table's statistics of that moment; one made while enhancement_history
 * was nearly empty chose the (tenant, ticket) index for a job lookup and
 * filtered on job_id, reading every job of the tenant on every claim as
 * the history grew (docs/benchmarks.md). The claim names the ticket too,
 * so whichever index such a plan uses reads only that ticket's jobs.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import { claimJobPost, findJob } from './enhancement-history';
import { TenantDatabase, createDataSource } from './tenant-database';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

interface PlanNode {
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
}

it("claims a job reading a few pages, not the tenant's whole history, with a plan made on an empty table", async () => {
  const tenant = randomUUID();
  const jobId = randomUUID();
  // One connection, so every transaction reuses its prepared statements and their plans.
  const source = createDataSource({ url: db.posterUrl, poolSize: 1 });
  await source.initialize();
  const admin = new Client({ connectionString: db.adminUrl });
  await admin.connect();
  try {
    const tenants = new TenantDatabase(source, { preparedStatements: true });
    // On the empty table: past the five custom plans, so the generic one is kept.
    for (let i = 0; i < 8; i += 1) {
      const missing = { jobId: randomUUID(), ticketId: 'T-1' };
      expect(await tenants.withTenant(tenant, (tx) => claimJobPost(tx, missing))).toBeUndefined();
      expect(await tenants.withTenant(tenant, (tx) => findJob(tx, missing))).toBeUndefined();
    }
    // Then the tenant's history grows: 4,000 jobs of other tickets, and this ticket's job.
    await admin.query(
      `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status, enhanced_text)
       SELECT $1, gen_random_uuid(), 'T-' || (g + 1), 'posted', repeat('x', 400)
         FROM generate_series(1, 4000) g`,
      [tenant],
    );
    await admin.query(
      `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status) VALUES ($1, $2, 'T-1', 'pending')`,
      [tenant, jobId],
    );

    const outcome = await tenants.withTenant(tenant, async (tx) => {
      const claimed = await claimJobPost(tx, { jobId, ticketId: 'T-1' });
      const found = await findJob(tx, { jobId, ticketId: 'T-1' });
      const statements = await tx.query<{ name: string; generic_plans: string }>(
        `SELECT name, generic_plans FROM pg_prepared_statements
          WHERE statement LIKE 'UPDATE enhancement_history SET post_attempts%'
             OR statement LIKE 'SELECT status, note_id FROM enhancement_history%'`,
      );
      // What each plan reads now (the ids are the test's own uuids and ticket).
      const pages = [];
      for (const { name } of statements) {
        const [{ 'QUERY PLAN': plan }] = await tx.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE ${name}('${tenant}', 'T-1', '${jobId}')`,
        );
        pages.push(plan[0].Plan['Shared Hit Blocks'] + plan[0].Plan['Shared Read Blocks']);
      }
      return { claimed, found, statements, pages };
    });

    expect(outcome.claimed).toEqual({ status: 'pending', note_id: null, attempt: 1 });
    expect(outcome.found).toEqual({ status: 'pending', note_id: null });
    expect(outcome.statements).toHaveLength(2);
    // The case this guards is the generic plan's: PostgreSQL did keep one.
    for (const s of outcome.statements) expect(Number(s.generic_plans)).toBeGreaterThan(0);
    // The tenant's 4,000 jobs span over a hundred pages; the ticket's job, a few.
    for (const pages of outcome.pages) expect(pages).toBeLessThan(20);
  } finally {
    await admin.end();
    await source.destroy();
  }
});
