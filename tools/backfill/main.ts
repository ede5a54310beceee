/**
 * `npm run backfill -- --tenant <tenant_id> [--skip-kb]`
 * Back-fills a tenant's ticket_history (resolved requests) and kb_articles
 * (approved solutions) from its ServiceDesk Plus through the API client.
 * Safe to interrupt and run again: it resumes and never duplicates.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  PLATFORM_DEFAULTS,
  booleanFlag,
  encryptionKeySchema,
  loadConfig,
  postgresUrl,
} from '@tep/config';
import { TenantDatabase, createDataSource, isUuid, loadTenantServiceDesk } from '@tep/data';
import { SecretCipher } from '@tep/encryption';
import { clientForTenant } from '@tep/servicedesk-client';
import { assertPublicUrl } from '@tep/url-guard';
import { backfillTenant } from './backfill';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseUrl),
  TENANT_ENCRYPTION_KEY: encryptionKeySchema,
  SDP_TIMEOUT_MS: z.coerce.number().int().min(500).max(30_000).default(10_000),
  ALLOW_INSECURE_SERVICEDESK_URLS: booleanFlag.optional(),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { tenant: { type: 'string' }, 'skip-kb': { type: 'boolean', default: false } },
  });
  if (!isUuid(values.tenant)) throw new Error('--tenant <tenant_id (uuid)> is required');
  const env = loadConfig(envSchema);
  const allowInsecure = env.ALLOW_INSECURE_SERVICEDESK_URLS ?? env.NODE_ENV !== 'production';
  const dataSource = createDataSource({
    url: env.DATABASE_URL,
    poolSize: 2,
    applicationName: 'backfill',
  });
  await dataSource.initialize();
  try {
    const database = new TenantDatabase(dataSource);
    const tenant = await database.withTenant(values.tenant, loadTenantServiceDesk);
    if (!tenant) throw new Error(`No tenant ${values.tenant}`);
    const client = clientForTenant(tenant, SecretCipher.fromEnv(env.TENANT_ENCRYPTION_KEY), {
      timeoutMs: env.SDP_TIMEOUT_MS,
      beforeConnect: async (url) => {
        await assertPublicUrl(url, { allowInsecure });
      },
    });
    const result = await backfillTenant({
      tenantId: values.tenant,
      database,
      client,
      includeKb: !values['skip-kb'],
      onProgress: (p) =>
        console.log(
          `[backfill] ${p.kind}: fetched ${p.fetched}, stored ${p.stored}, skipped ${p.skipped}`,
        ),
    });
    console.log(
      `[backfill] done${result.resumedFrom ? ` (resumed from ${result.resumedFrom})` : ''}: ` +
        `${result.tickets.stored} tickets, ${result.kb.stored} KB articles stored`,
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(`[backfill] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
