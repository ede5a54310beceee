/**
 * A fresh database per integration spec, cloned from a migrated template
 * (fast, and specs never see each other's rows). Roles are the platform's
 * own: the services' roles own nothing and cannot bypass RLS.
 */
import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';
import { PLATFORM_DEFAULTS } from '@tep/config';
import { provisionDatabase, withDatabase } from '@tep/data';

export const TEST_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? PLATFORM_DEFAULTS.databaseAdminUrl;
export const TEMPLATE_DATABASE = 'tep_test_template';

const roleUrl = (defaultUrl: string, database: string) => withDatabase(defaultUrl, database);

export async function prepareTemplateDatabase(): Promise<void> {
  const admin = new Client({ connectionString: TEST_ADMIN_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'tep\\_test\\_%'`,
    );
    for (const { datname } of rows) {
      await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(datname)} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
  await provisionDatabase({
    adminUrl: TEST_ADMIN_URL,
    ownerUrl: roleUrl(PLATFORM_DEFAULTS.databaseOwnerUrl, TEMPLATE_DATABASE),
    applicationUrl: roleUrl(PLATFORM_DEFAULTS.databaseUrl, TEMPLATE_DATABASE),
    registryUrl: roleUrl(PLATFORM_DEFAULTS.databaseRegistryUrl, TEMPLATE_DATABASE),
  });
}

export interface TestDatabase {
  name: string;
  /** The services' role (tep_app): RLS applies. */
  appUrl: string;
  /** The registry's role: may list every tenant_configs row. */
  registryUrl: string;
  ownerUrl: string;
  /** Superuser in this database: bypasses RLS, for arranging fixtures only. */
  adminUrl: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tep_test_${randomBytes(6).toString('hex')}`;
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
