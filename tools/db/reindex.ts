/**
 * `npm run db:reindex`: indexes ticket_history rows written before the
 * retrieval migration (language detection, noise removal, BM25 statistics),
 * tenant by tenant in batches, as the application role under RLS. Online
 * and resumable: interrupted, it continues where it stopped.
 */
import { PLATFORM_DEFAULTS, loadConfig, postgresUrl } from '@tep/config';
import { reindexTicketHistoryBatch } from '@tep/context-retrieval';
import { TenantDatabase, createDataSource, withDatabase } from '@tep/data';
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
      `SELECT DISTINCT tenant_id FROM ticket_history WHERE language IS NULL`,
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
      let done = 0;
      for (;;) {
        const n = await db.withTenant(tenantId, (tx) =>
          reindexTicketHistoryBatch(tx, env.REINDEX_BATCH_SIZE),
        );
        if (n === 0) break;
        done += n;
      }
      total += done;
      log(`[db:reindex] tenant ${tenantId}: ${done} rows`);
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
