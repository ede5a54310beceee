import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';

/** Group roles the migrations grant to; login roles become members. */
export const APPLICATION_GROUP_ROLE = 'tep_application';
export const REGISTRY_ADMIN_GROUP_ROLE = 'tep_registry_admin';
/** May read tenant_configs.servicedesk_api_key_encrypted (the poster's login role is a member). */
export const CREDENTIAL_READER_GROUP_ROLE = 'tep_credential_reader';

export interface ProvisionOptions {
  /** A superuser connection (any database), e.g. postgres://postgres@127.0.0.1:5432/postgres. */
  adminUrl: string;
  /** The owner of the database and its tables; migrations run as it. */
  ownerUrl: string;
  /** Service roles: own nothing, not superuser, no BYPASSRLS. */
  applicationUrl: string;
  registryUrl: string;
  /**
   * The poster's role: the application role's rights plus the SDP credential
   * column. Default: `tep_poster:tep_poster` on the application URL's server
   * and database (development and tests).
   */
  posterUrl?: string;
  /**
   * Set the passwords in the URLs on roles that already exist (rotation).
   * Otherwise an existing role keeps its password: a provisioner run with a
   * stale or default URL must not lock the running services out.
   */
  resetPasswords?: boolean;
  log?: (line: string) => void;
}

interface RoleSpec {
  name: string;
  password: string;
}

function roleFromUrl(url: string, variable: string): RoleSpec & { database: string } {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.username);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`${variable} must name a user`);
  if (!database) throw new Error(`${variable} must name a database`);
  return { name, password: decodeURIComponent(parsed.password), database };
}

/**
 * Creates the roles and the database when missing, runs the migrations as
 * the owner and checks that the service roles cannot bypass row-level
 * security. Safe to run any number of times, also concurrently.
 */
export async function provisionDatabase(options: ProvisionOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const owner = roleFromUrl(options.ownerUrl, 'DATABASE_OWNER_URL');
  const app = roleFromUrl(options.applicationUrl, 'DATABASE_URL');
  const registry = roleFromUrl(options.registryUrl, 'DATABASE_REGISTRY_URL');
  const poster = roleFromUrl(
    options.posterUrl ?? defaultPosterUrl(options.applicationUrl),
    'DATABASE_POSTER_URL',
  );
  if ([app, registry, poster].some((role) => role.database !== owner.database)) {
    throw new Error(
      'DATABASE_URL, DATABASE_REGISTRY_URL, DATABASE_POSTER_URL and DATABASE_OWNER_URL must name one database',
    );
  }
  if (new Set([owner.name, app.name, registry.name, poster.name]).size !== 4) {
    throw new Error(
      'The owner, application, registry and poster roles must be four different roles',
    );
  }

  const admin = new Client({ connectionString: options.adminUrl });
  await admin.connect();
  try {
    await admin.query(`SELECT pg_advisory_lock(hashtext('tep-provision'))`);
    for (const group of [
      APPLICATION_GROUP_ROLE,
      REGISTRY_ADMIN_GROUP_ROLE,
      CREDENTIAL_READER_GROUP_ROLE,
    ]) {
      await ensureRole(admin, group, 'NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE');
    }
    const reset = options.resetPasswords ?? false;
    await ensureRole(admin, owner.name, 'LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', {
      password: owner.password,
      reset,
    });
    for (const role of [app, registry, poster]) {
      await ensureRole(
        admin,
        role.name,
        'LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT',
        { password: role.password, reset },
      );
    }
    await admin.query(`GRANT ${APPLICATION_GROUP_ROLE} TO ${escapeIdentifier(app.name)}`);
    await admin.query(
      `GRANT ${APPLICATION_GROUP_ROLE}, ${REGISTRY_ADMIN_GROUP_ROLE} TO ${escapeIdentifier(registry.name)}`,
    );
    await admin.query(
      `GRANT ${APPLICATION_GROUP_ROLE}, ${CREDENTIAL_READER_GROUP_ROLE} TO ${escapeIdentifier(poster.name)}`,
    );
    log(
      `roles ready: owner=${owner.name} application=${app.name} registry=${registry.name} poster=${poster.name}`,
    );

    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      owner.database,
    ]);
    if (exists.rowCount === 0) {
      await admin.query(
        `CREATE DATABASE ${escapeIdentifier(owner.database)} OWNER ${escapeIdentifier(owner.name)}`,
      );
      log(`database ${owner.database} created`);
    }
  } finally {
    await admin.end();
  }

  // Extensions and schema grants need a superuser in the target database.
  const adminInDb = new Client({
    connectionString: withDatabase(options.adminUrl, owner.database),
  });
  await adminInDb.connect();
  try {
    await adminInDb.query(`SELECT pg_advisory_lock(hashtext('tep-provision-db'))`);
    await adminInDb.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    // Tenant-first GIN indexes (managed PostgreSQL 15 and 17 offer it).
    await adminInDb.query('CREATE EXTENSION IF NOT EXISTS btree_gin');
    await adminInDb.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await adminInDb.query(`GRANT USAGE ON SCHEMA public TO ${APPLICATION_GROUP_ROLE}`);
    await adminInDb.query(
      `GRANT CONNECT ON DATABASE ${escapeIdentifier(owner.database)} TO ${APPLICATION_GROUP_ROLE}`,
    );
    await adminInDb.query(`GRANT CREATE ON SCHEMA public TO ${escapeIdentifier(owner.name)}`);

    const dataSource = new DataSource({
      type: 'postgres',
      url: options.ownerUrl,
      migrations: MIGRATIONS,
      migrationsTableName: 'typeorm_migrations',
      migrationsTransactionMode: 'each',
    });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations();
      log(
        applied.length
          ? `migrations applied: ${applied.map((m) => m.name).join(', ')}`
          : 'migrations: up to date',
      );
    } finally {
      await dataSource.destroy();
    }
    await assertServiceRolesAreConfined(adminInDb, [app.name, registry.name, poster.name]);
  } finally {
    await adminInDb.end();
  }
}

/** tep_poster:tep_poster on the application URL's server and database. */
function defaultPosterUrl(applicationUrl: string): string {
  const url = new URL(applicationUrl);
  url.username = 'tep_poster';
  url.password = 'tep_poster';
  return url.toString();
}

/** Creates the role with its password, or makes an existing one's attributes right (its password only when `reset`). */
async function ensureRole(
  client: Client,
  name: string,
  attributes: string,
  login: { password?: string; reset: boolean } = { reset: false },
): Promise<void> {
  const found = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  const passwordClause = (apply: boolean) =>
    apply && login.password ? ` PASSWORD ${escapeLiteral(login.password)}` : '';
  const alter = () =>
    client.query(
      `ALTER ROLE ${escapeIdentifier(name)} ${attributes}${passwordClause(login.reset)}`,
    );
  if (found.rowCount !== 0) {
    await alter();
    return;
  }
  try {
    await client.query(
      `CREATE ROLE ${escapeIdentifier(name)} ${attributes}${passwordClause(true)}`,
    );
  } catch (error) {
    // Another provisioner created it between our check and CREATE.
    if (/already exists/.test(String(error))) await alter();
    else throw error;
  }
}

/** The isolation guarantee rests on this: service roles cannot bypass RLS. */
async function assertServiceRolesAreConfined(client: Client, roles: string[]): Promise<void> {
  const { rows } = await client.query<{
    rolname: string;
    rolsuper: boolean;
    rolbypassrls: boolean;
    owned: number;
  }>(
    `SELECT r.rolname, r.rolsuper, r.rolbypassrls,
            (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
       FROM pg_roles r WHERE r.rolname = ANY($1)`,
    [roles],
  );
  for (const row of rows) {
    if (row.rolsuper || row.rolbypassrls || row.owned > 0) {
      throw new Error(
        `Role ${row.rolname} must not be superuser, bypass RLS or own tables (superuser=${row.rolsuper}, bypassrls=${row.rolbypassrls}, owns=${row.owned})`,
      );
    }
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
