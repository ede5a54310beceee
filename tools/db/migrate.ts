/**
 * `npm run db:migrate`: creates the roles and the `ai_agents` database when
 * missing and runs the migrations as the owner. Idempotent. An existing
 * role keeps its password unless `--reset-passwords` is given (then the
 * passwords in the URLs are set: rotation).
 */
import { PLATFORM_DEFAULTS, loadConfig, postgresUrl } from '@tep/config';
import { provisionDatabase } from '@tep/data';
import { z } from 'zod';

const schema = z.object({
  DATABASE_ADMIN_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseAdminUrl),
  DATABASE_OWNER_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseOwnerUrl),
  DATABASE_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseUrl),
  DATABASE_REGISTRY_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseRegistryUrl),
  DATABASE_POSTER_URL: postgresUrl.default(PLATFORM_DEFAULTS.databasePosterUrl),
});

async function main(): Promise<void> {
  const env = loadConfig(schema);
  await provisionDatabase({
    adminUrl: env.DATABASE_ADMIN_URL,
    ownerUrl: env.DATABASE_OWNER_URL,
    applicationUrl: env.DATABASE_URL,
    registryUrl: env.DATABASE_REGISTRY_URL,
    posterUrl: env.DATABASE_POSTER_URL,
    resetPasswords: process.argv.includes('--reset-passwords'),
    log: (line) => console.log(`[db:migrate] ${line}`),
  });
}

main().catch((error: unknown) => {
  console.error(`[db:migrate] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
