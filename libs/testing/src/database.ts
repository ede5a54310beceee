/**
 * A fresh database per integration spec, cloned from a migrated template
 * (fast, and specs never see each other's rows). Roles are the platform's
 * own: the services' roles own nothing and cannot bypass RLS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';
import { PLATFORM_DEFAULTS } from '@tep/config';
import { MIGRATION_FINGERPRINT, provisionDatabase, withDatabase } from '@tep/data';

export const TEST_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? PLATFORM_DEFAULTS.databaseAdminUrl;
/** One template per migration set: concurrent jest runs share it safely. */
export const TEMPLATE_DATABASE = `tep_tpl_${createHash('sha256').update(MIGRATION_FINGERPRINT).digest('hex').slice(0, 12)}`;
/** Spec databases older than this are leftovers of a killed run. */
const STALE_AFTER_SECONDS = 3600;

const roleUrl = (defaultUrl: string, database: string) => withDatabase(defaultUrl, database);

export async function prepareTemplateDatabase(): Promise<void> {
  const admin = new Client({ connectionString: TEST_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`SELECT pg_advisory_lock(hashtext('tep-test-template'))`);
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'tep\\_test\\_%' OR (datname LIKE 'tep\\_tpl\\_%' AND datname <> $1)`,
      [TEMPLATE_DATABASE],
    );
    const now = Math.floor(Date.now() / 1000);
    for (const { datname } of rows) {
      const created = Number(/^tep_test_(\d+)_/.exec(datname)?.[1] ?? 0);
      if (datname.startsWith('tep_tpl_') || now - created > STALE_AFTER_SECONDS) {
        await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(datname)} WITH (FORCE)`);
      }
    }
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      TEMPLATE_DATABASE,
    ]);
    if (exists.rowCount === 0) {
      await provisionDatabase({
        adminUrl: TEST_ADMIN_URL,
        ownerUrl: roleUrl(PLATFORM_DEFAULTS.databaseOwnerUrl, TEMPLATE_DATABASE),
        applicationUrl: roleUrl(PLATFORM_DEFAULTS.databaseUrl, TEMPLATE_DATABASE),
        registryUrl: roleUrl(PLATFORM_DEFAULTS.databaseRegistryUrl, TEMPLATE_DATABASE),
        posterUrl: roleUrl(PLATFORM_DEFAULTS.databasePosterUrl, TEMPLATE_DATABASE),
      });
    }
  } finally {
    await admin.end();
  }
}

export interface TestDatabase {
  name: string;
  /** The services' role (tep_app): RLS applies. */
  appUrl: string;
  /** The registry's role: may list every tenant_configs row. */
  registryUrl: string;
  /** The poster's role: the application role plus the SDP credential column. */
  posterUrl: string;
  ownerUrl: string;
  /** Superuser in this database: bypasses RLS, for arranging fixtures only. */
  adminUrl: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tep_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(
      `CREATE DATABASE ${escapeIdentifier(name)} TEMPLATE ${TEMPLATE_DATABASE} OWNER tep_owner`,
    );
  } finally {
    await admin.end();
  }
  return {
    name,
    appUrl: roleUrl(PLATFORM_DEFAULTS.databaseUrl, name),
    registryUrl: roleUrl(PLATFORM_DEFAULTS.databaseRegistryUrl, name),
    posterUrl: roleUrl(PLATFORM_DEFAULTS.databasePosterUrl, name),
    ownerUrl: roleUrl(PLATFORM_DEFAULTS.databaseOwnerUrl, name),
    adminUrl: withDatabase(TEST_ADMIN_URL, name),
    async drop() {
      const c = new Client({ connectionString: TEST_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
