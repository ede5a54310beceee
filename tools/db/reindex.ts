/**
 * `npm run db:reindex`: indexes ticket_history rows written before the
 * retrieval migrations, tenant by tenant in batches, as the application role
 * under RLS: first language detection and noise removal (which rebuild the
 * vector, statistics and postings through the trigger), then the postings of
 * rows whose vector was already right, then the word and frequency arrays the
 * ranking reads (rows from before the term-frequency-arrays migration).
 * Online and resumable: interrupted, it continues where it stopped.
 */
import { PLATFORM_DEFAULTS, loadConfig, postgresUrl } from '@tep/config';
import {
  fillTermFrequencyBatch,
  indexPostingsBatch,
  recountRetrievalStats,
  reindexTicketHistoryBatch,
} from '@tep/context-retrieval';
import { TenantDatabase, createDataSource, withDatabase, type TenantTransaction } from '@tep/data';
import { Client } from 'pg';
import { z } from 'zod';

const schema = z.object({
  DATABASE_ADMIN_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseAdminUrl),
  DATABASE_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseUrl),
  REINDEX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export async function reindexAll(env: z.infer<typeof schema>, log = console.log): Promise<number> {
  // Only the list of tenants needs to see past RLS; the work runs per tenant as the app role.
  const database = new URL(env.DATABASE_URL).pathname.slice(1);
  const admin = new Client({ connectionString: withDatabase(env.DATABASE_ADMIN_URL, database) });
  await admin.connect();
  const tenants = await admin
    .query<{ tenant_id: string }>(
      `SELECT DISTINCT tenant_id FROM ticket_history h
        WHERE language IS NULL
           OR (retrieval_terms IS NULL AND retrieval_vector IS NOT NULL)
           OR (retrieval_eligible AND NOT EXISTS (SELECT 1 FROM ticket_postings p WHERE p.ticket_row = h.id))`,
    )
    .finally(() => admin.end());
  const dataSource = createDataSource({
    url: env.DATABASE_URL,
    poolSize: 2,
    applicationName: 'reindex',
  });
  await dataSource.initialize();
  let total = 0;
  try {
    const db = new TenantDatabase(dataSource);
    for (const { tenant_id: tenantId } of tenants.rows) {
      // Runs a batch step, one transaction per batch, until a batch does nothing; returns the rows done.
      const untilDone = async (batch: (tx: TenantTransaction) => Promise<number>) => {
        for (let rows = 0; ;) {
          const n = await db.withTenant(tenantId, batch);
          if (n === 0) return rows;
          rows += n;
        }
      };
      const done = await untilDone((tx) => reindexTicketHistoryBatch(tx, env.REINDEX_BATCH_SIZE));
      let posted = 0;
      for (let after: string | null = ''; after !== null;) {
        const batch = await db.withTenant(tenantId, (tx) =>
          indexPostingsBatch(tx, after!, env.REINDEX_BATCH_SIZE),
        );
        after = batch.last;
        posted += batch.indexed;
      }
      if (posted > 0) await db.withTenant(tenantId, recountRetrievalStats);
      const filled = await untilDone((tx) => fillTermFrequencyBatch(tx, env.REINDEX_BATCH_SIZE));
      total += done + posted + filled;
      log(
        `[db:reindex] tenant ${tenantId}: ${done} rows re-read, ${posted} rows' postings written, ` +
          `${filled} rows' term frequencies filled`,
      );
    }
  } finally {
    await dataSource.destroy();
  }
  log(`[db:reindex] done: ${total} rows in ${tenants.rows.length} tenants`);
  return total;
}

if (require.main === module) {
  reindexAll(loadConfig(schema)).catch((error: unknown) => {
    console.error(`[db:reindex] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
