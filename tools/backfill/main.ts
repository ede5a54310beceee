/**
 * `npm run backfill -- --tenant <tenant_id> [--skip-kb]`
 * Back-fills a tenant's ticket_history (resolved requests) and kb_articles
 * (approved solutions) from its ServiceDesk Plus through the API client.
 * Safe to interrupt and run again: it resumes and never duplicates.
 * An SDP Cloud tenant's Zoho access token comes from the platform's shared
 * token store in NATS KV (NATS_URL, NATS_NAMESPACE), as the poster's does,
 * so a back-fill mints no token of its own while a valid one exists.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  PLATFORM_DEFAULTS,
  baseServiceSchema,
  booleanFlag,
  encryptionKeySchema,
  resolveCredentialKey,
  loadConfig,
  postgresUrl,
} from '@tep/config';
import { ServiceDeskSettingsSchema, createTopology } from '@tep/contracts';
import { TenantDatabase, createDataSource, isUuid, loadTenantServiceDesk } from '@tep/data';
import { SecretCipher } from '@tep/encryption';
import { natsConnectionOptions, natsSettingsOf } from '@tep/pipeline';
import {
  clientForTenant,
  connectAccessTokenStore,
  type AccessTokenStore,
} from '@tep/servicedesk-client';
import { assertPublicUrl } from '@tep/url-guard';
import { backfillTenant } from './backfill';

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    // The poster's role: the back-fill reads the tenant's SDP credential, as the poster does.
    DATABASE_URL: postgresUrl.default(PLATFORM_DEFAULTS.databasePosterUrl),
    SERVICEDESK_CREDENTIAL_KEY: encryptionKeySchema.optional(),
    TENANT_ENCRYPTION_KEY: encryptionKeySchema.optional(),
    SDP_TIMEOUT_MS: z.coerce.number().int().min(500).max(30_000).default(10_000),
    ALLOW_INSECURE_SERVICEDESK_URLS: booleanFlag.optional(),
    // The same NATS settings as the services.
    ...baseServiceSchema('servicedesk-poster').pick({
      NATS_URL: true,
      NATS_NAMESPACE: true,
      NATS_USER: true,
      NATS_PASSWORD: true,
      NATS_TLS_CA_FILE: true,
    }).shape,
  })
  .transform((env, ctx) => ({
    ...env,
    SERVICEDESK_CREDENTIAL_KEY: resolveCredentialKey(env, ctx),
  }));
type Env = z.infer<typeof envSchema>;

/**
 * The shared Zoho access-token store, or none — with a warning — when NATS
 * cannot be reached: the back-fill then mints a private token (one of the
 * ten Zoho allows per refresh token per ten minutes) rather than not run.
 */
async function openTokenStore(
  env: Env,
  cipher: SecretCipher,
): Promise<{ store?: AccessTokenStore; close(): Promise<void> }> {
  const bucket = createTopology(env.NATS_NAMESPACE).oauthTokenBucket;
  try {
    const shared = await connectAccessTokenStore({
      connection: natsConnectionOptions(natsSettingsOf(env), 'backfill'),
      bucket,
      cipher,
    });
    console.log(`[backfill] Zoho access tokens: shared store ${bucket} (NATS KV)`);
    return shared;
  } catch (error) {
    console.warn(
      `[backfill] warning: the shared Zoho token store ${bucket} is unavailable (NATS at ${env.NATS_URL}: ${
        error instanceof Error ? error.message : String(error)
      }); continuing with a private access token, which counts against Zoho's 10 tokens per 10 minutes`,
    );
    return { close: () => Promise.resolve() };
  }
}

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
  let closeTokens = () => Promise.resolve();
  try {
    const database = new TenantDatabase(dataSource);
    const tenant = await database.withTenant(values.tenant, loadTenantServiceDesk);
    if (!tenant) throw new Error(`No tenant ${values.tenant}`);
    const cipher = SecretCipher.fromEnv(
      env.SERVICEDESK_CREDENTIAL_KEY,
      'SERVICEDESK_CREDENTIAL_KEY',
    );
    const cloud =
      ServiceDeskSettingsSchema.safeParse(tenant.servicedesk_settings ?? {}).data?.auth_kind ===
      'oauth';
    let tokenStore: AccessTokenStore | undefined;
    if (cloud) {
      const tokens = await openTokenStore(env, cipher);
      tokenStore = tokens.store;
      closeTokens = tokens.close;
    }
    const client = clientForTenant(tenant, cipher, {
      timeoutMs: env.SDP_TIMEOUT_MS,
      beforeConnect: async (url) => {
        await assertPublicUrl(url, { allowInsecure });
      },
      tokenStore,
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
    await closeTokens();
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(`[backfill] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
