/**
 * Row-level security, proven as the application role (tep_app) against a
 * real PostgreSQL. A test that passed as a superuser would prove nothing.
 * Every check runs twice: straight to PostgreSQL, and through PgBouncer in
 * transaction pooling mode (as production runs), where one server
 * connection serves many clients one transaction at a time.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  createTestDatabase,
  pgBouncerAvailable,
  startPgBouncer,
  type PgBouncer,
  type TestDatabase,
} from '@tep/testing';
import {
  InvalidTenantIdError,
  RegistryAdminStore,
  TENANT_TABLES,
  RETRIEVAL_TABLES,
  AUDIT_TABLE,
  TenantDatabase,
  createDataSource,
} from './index';

const TENANT_A = randomUUID();
const TENANT_B = randomUUID();

/** One representative row per tenant table; `$1` is the tenant id. */
const FIXTURES: Record<(typeof TENANT_TABLES)[number], string> = {
  tenant_configs: `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted, webhook_signing_secret_encrypted)
                   VALUES ($1, 'Tenant', 'https://sdp.example.com', 'gAAAA-key', 'gAAAA-secret')`,
  enhancement_history: `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id) VALUES ($1, gen_random_uuid(), 'TKT-1')`,
  ticket_history: `INSERT INTO ticket_history (tenant_id, ticket_id, subject) VALUES ($1, 'TKT-1', 'Printer jam')`,
  system_inventory: `INSERT INTO system_inventory (tenant_id, hostname, ip_address) VALUES ($1, 'db01', '10.0.0.5')`,
  kb_articles: `INSERT INTO kb_articles (tenant_id, article_id, title) VALUES ($1, 'KB-1', 'Reset a password')`,
  enhancement_feedback: `INSERT INTO enhancement_feedback (tenant_id, job_id, rating, submitted_at) VALUES ($1, gen_random_uuid(), 'helpful', now())`,
  ticket_feedback: `INSERT INTO ticket_feedback (tenant_id, ticket_ref, helpful) VALUES ($1, 'TKT-1', 1)`,
};

const ROUTES = ['straight to PostgreSQL', 'through PgBouncer (transaction pooling)'] as const;
type Route = (typeof ROUTES)[number];
if (!pgBouncerAvailable()) {
  console.log('rls: SKIPPED the PgBouncer route: /usr/sbin/pgbouncer is missing (ensure-tools.sh)');
}
const routes = ROUTES.filter((r) => r === ROUTES[0] || pgBouncerAvailable());

/** The roles' URLs for a route: the spec database's, or the same through a pooler. */
interface RoleUrls {
  appUrl: string;
  registryUrl: string;
  ownerUrl: string;
}

async function roleUrls(
  route: Route,
  db: TestDatabase,
): Promise<RoleUrls & { bouncer?: PgBouncer }> {
  if (route === ROUTES[0]) return db;
  const bouncer = await startPgBouncer({
    serverPort: Number(new URL(db.appUrl).port || 5432),
    users: ['tep_app', 'tep_registry', 'tep_owner'],
    poolSize: 2,
  });
  return {
    bouncer,
    appUrl: bouncer.through(db.appUrl),
    registryUrl: bouncer.through(db.registryUrl),
    ownerUrl: bouncer.through(db.ownerUrl),
  };
}

describe.each(routes)('row-level security as the application role, %s', (route) => {
  let db: TestDatabase;
  let urls: RoleUrls & { bouncer?: PgBouncer };
  let admin: Client;
  let dataSource: DataSource;
  let tenants: TenantDatabase;
  // tenant_configs: only the registry's role may write it (role-grants spec), so
  // its row-level security is proven as that role, without the admin opt-in.
  let registryRole: DataSource;
  let registryTenants: TenantDatabase;
  const sourceFor = (table: string) => (table === 'tenant_configs' ? registryRole : dataSource);
  const tenantsFor = (table: string) => (table === 'tenant_configs' ? registryTenants : tenants);

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    for (const tenant of [TENANT_A, TENANT_B]) {
      for (const sql of Object.values(FIXTURES)) await admin.query(sql, [tenant]);
    }
    urls = await roleUrls(route, db);
    // Pool of one: every transaction below reuses the same connection.
    dataSource = createDataSource({ url: urls.appUrl, poolSize: 1 });
    await dataSource.initialize();
    tenants = new TenantDatabase(dataSource);
    registryRole = createDataSource({ url: urls.registryUrl, poolSize: 1 });
    await registryRole.initialize();
    registryTenants = new TenantDatabase(registryRole);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await registryRole?.destroy();
    await admin?.end();
    await urls?.bouncer?.stop();
    await db?.drop();
  });

  it('runs as a role that is not superuser, cannot bypass RLS and owns nothing', async () => {
    const [role] = await dataSource.query<
      { rolname: string; rolsuper: boolean; rolbypassrls: boolean; owned: number }[]
    >(
      `SELECT rolname, rolsuper, rolbypassrls,
              (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owned
         FROM pg_roles r WHERE rolname = current_user`,
    );
    expect(role).toEqual({ rolname: 'tep_app', rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('has RLS enabled and forced on every table with a tenant_id, with USING and WITH CHECK', async () => {
    const { rows } = await admin.query<{
      relname: string;
      relrowsecurity: boolean;
      relforcerowsecurity: boolean;
    }>(
      `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
         FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE a.attname = 'tenant_id' AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
        ORDER BY c.relname`,
    );
    expect(rows.map((r) => r.relname)).toEqual(
      [...TENANT_TABLES, ...RETRIEVAL_TABLES, AUDIT_TABLE].sort(),
    );
    for (const row of rows) {
      expect(row).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
    }
    const policies = await admin.query<{ tablename: string; qual: string; with_check: string }>(
      `SELECT tablename, qual, with_check FROM pg_policies WHERE policyname LIKE '%_tenant_isolation' AND tablename = ANY($1)`,
      [[...TENANT_TABLES, ...RETRIEVAL_TABLES]],
    );
    expect(policies.rows).toHaveLength(TENANT_TABLES.length + RETRIEVAL_TABLES.length);
    for (const p of policies.rows) {
      expect(p.qual).toContain("current_setting('app.current_tenant_id'");
      expect(p.with_check).toContain("current_setting('app.current_tenant_id'");
    }
    // Tenants may read their audit entries but never write any.
    const audit = await admin.query<{ cmd: string }>(
      `SELECT cmd FROM pg_policies WHERE tablename = 'audit_log' AND policyname = 'audit_log_tenant_isolation'`,
    );
    expect(audit.rows).toEqual([{ cmd: 'SELECT' }]);
    const indexes = await admin.query<{ tablename: string }>(
      `SELECT DISTINCT tablename FROM pg_indexes
        WHERE schemaname = 'public' AND indexdef ~ '\\(tenant_id[,)]'`,
    );
    expect(indexes.rows.map((r) => r.tablename).sort()).toEqual(
      [...TENANT_TABLES, ...RETRIEVAL_TABLES, AUDIT_TABLE].sort(),
    );
  });

  it.each(TENANT_TABLES)('%s: no tenant set means no rows', async (table) => {
    const rows = await sourceFor(table).query<unknown[]>(`SELECT * FROM ${table}`);
    expect(rows).toHaveLength(0);
  });

  it.each(TENANT_TABLES)('%s: a tenant reads only its own rows', async (table) => {
    const seen = await tenantsFor(table).withTenant(TENANT_A, (tx) =>
      tx.query<{ tenant_id: string }>(`SELECT tenant_id FROM ${table}`),
    );
    expect(seen).toHaveLength(1);
    expect(seen[0].tenant_id).toBe(TENANT_A);
    const direct = await tenantsFor(table).withTenant(TENANT_A, (tx) =>
      tx.query(`SELECT * FROM ${table} WHERE tenant_id = $1`, [TENANT_B]),
    );
    expect(direct).toHaveLength(0);
  });

  it.each(TENANT_TABLES)(
    "%s: a tenant cannot update or delete another tenant's rows",
    async (table) => {
      await tenantsFor(table).withTenant(TENANT_A, async (tx) => {
        const updated = await tx.query(
          `UPDATE ${table} SET updated_at = now() WHERE tenant_id = $1 RETURNING tenant_id`,
          [TENANT_B],
        );
        const deleted = await tx.query(
          `DELETE FROM ${table} WHERE tenant_id = $1 RETURNING tenant_id`,
          [TENANT_B],
        );
        expect(updated).toHaveLength(0);
        expect(deleted).toHaveLength(0);
      });
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`,
        [TENANT_B],
      );
      expect(rows[0].n).toBe(1);
    },
  );

  it.each(TENANT_TABLES)(
    '%s: inserting a row for another tenant is refused by Postgres',
    async (table) => {
      const otherTenant = randomUUID();
      await expect(
        tenantsFor(table).withTenant(TENANT_A, (tx) => tx.query(FIXTURES[table], [otherTenant])),
      ).rejects.toThrow(/new row violates row-level security policy/);
    },
  );

  it.each(TENANT_TABLES)('%s: moving a row to another tenant is refused', async (table) => {
    await expect(
      tenantsFor(table).withTenant(TENANT_A, (tx) =>
        tx.query(`UPDATE ${table} SET tenant_id = $1`, [TENANT_B]),
      ),
    ).rejects.toThrow(/new row violates row-level security policy/);
  });

  it('alternating tenants on one pooled connection never leaks', async () => {
    for (let i = 0; i < 40; i++) {
      const tenant = i % 2 === 0 ? TENANT_A : TENANT_B;
      const rows = await tenants.withTenant(tenant, (tx) =>
        tx.query<{ tenant_id: string; backend: number }>(
          `SELECT tenant_id, pg_backend_pid() AS backend FROM ticket_history`,
        ),
      );
      expect(rows.map((r) => r.tenant_id)).toEqual([tenant]);
      // Between transactions the same connection has no tenant at all.
      const after = await dataSource.query<{ t: string | null; n: number }[]>(
        `SELECT current_setting('app.current_tenant_id', true) AS t, count(*)::int AS n FROM ticket_history`,
      );
      expect(after[0].n).toBe(0);
      expect(after[0].t ?? '').toBe('');
    }
    const pids = await dataSource.query<{ pid: number }[]>(`SELECT pg_backend_pid() AS pid`);
    expect(pids).toHaveLength(1);
  });

  it('keeps the audit log append-only, even for its owner', async () => {
    const registrySource = createDataSource({ url: urls.registryUrl, poolSize: 1 });
    await registrySource.initialize();
    try {
      const store = new RegistryAdminStore(registrySource);
      await store.appendAudit({
        actor: 'test',
        action: 'tenant.created',
        tenantId: TENANT_A,
        details: { tier: 'basic' },
      });
      expect(
        (await store.listAudit({ tenantId: TENANT_A, limit: 10 })).map((e) => e.action),
      ).toEqual(['tenant.created']);
      await expect(
        registrySource.transaction(async (m) => {
          await m.query(`SELECT set_config('app.registry_admin', 'on', true)`);
          await m.query(`DELETE FROM audit_log`);
        }),
      ).rejects.toThrow(/permission denied|append-only/);
    } finally {
      await registrySource.destroy();
    }
    const owner = new Client({ connectionString: urls.ownerUrl });
    await owner.connect();
    try {
      await expect(owner.query(`UPDATE audit_log SET actor = 'forged'`)).rejects.toThrow(
        /append-only/,
      );
    } finally {
      await owner.end();
    }
    // Tenants read their own audit entries only.
    const seen = await tenants.withTenant(TENANT_B, (tx) => tx.query(`SELECT * FROM audit_log`));
    expect(seen).toHaveLength(0);
  });

  it('refuses a tenant id that is not a UUID before touching the database', async () => {
    await expect(
      tenants.withTenant("' OR 1=1 --", () => Promise.resolve(1)),
    ).rejects.toBeInstanceOf(InvalidTenantIdError);
  });

  it('writes a change and its audit entry in one transaction: both or neither', async () => {
    const registrySource = createDataSource({ url: urls.registryUrl, poolSize: 1 });
    await registrySource.initialize();
    try {
      const store = new RegistryAdminStore(registrySource);
      const entry = (name: string) => ({
        actor: 'test',
        action: `tenant.renamed.${name}`,
        tenantId: TENANT_A,
      });
      await expect(
        store.update(TENANT_A, { name: 'Never committed' }, entry('failed'), () =>
          Promise.reject(new Error('directory unavailable')),
        ),
      ).rejects.toThrow('directory unavailable');
      await store.update(TENANT_A, { name: 'Committed' }, entry('ok'));
      expect((await store.get(TENANT_A))?.name).toBe('Committed');
      const actions = (await store.listAudit({ tenantId: TENANT_A, limit: 50 })).map(
        (e) => e.action,
      );
      expect(actions).toContain('tenant.renamed.ok');
      expect(actions).not.toContain('tenant.renamed.failed');
    } finally {
      await registrySource.destroy();
    }
  });

  it('lets only the registry role list every tenant', async () => {
    const registrySource = createDataSource({ url: urls.registryUrl, poolSize: 1 });
    await registrySource.initialize();
    try {
      const store = new RegistryAdminStore(registrySource);
      await store.assertRegistryRole();
      const all = await store.list({ limit: 100 });
      expect(all.map((t) => t.tenant_id).sort()).toEqual([TENANT_A, TENANT_B].sort());
      // Without the per-transaction opt-in even the registry role sees nothing.
      const plain = await registrySource.query<unknown[]>(`SELECT * FROM tenant_configs`);
      expect(plain).toHaveLength(0);
      // The registry policy covers tenant_configs only.
      const history = await registrySource.query<unknown[]>(`SELECT * FROM ticket_history`);
      expect(history).toHaveLength(0);
    } finally {
      await registrySource.destroy();
    }
    await expect(new RegistryAdminStore(dataSource).assertRegistryRole()).rejects.toThrow(
      /not a member of tep_registry_admin/,
    );
    // The application role cannot use the admin path even if it opts in.
    const optedIn = await dataSource.transaction(async (m) => {
      await m.query(`SELECT set_config('app.registry_admin', 'on', true)`);
      return await m.query<unknown[]>(`SELECT tenant_id FROM tenant_configs`);
    });
    expect(optedIn).toHaveLength(0);
  });
});

/**
 * What transaction pooling adds: clients share server connections, so a
 * tenant set by one client's transaction must be gone for the next client
 * that lands on the same server connection.
 */
(pgBouncerAvailable() ? describe : describe.skip)('tenant context through PgBouncer', () => {
  const CLIENTS = 12;
  const POOL = 2;
  let db: TestDatabase;
  let bouncer: PgBouncer;
  let sources: DataSource[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    for (const tenant of [TENANT_A, TENANT_B]) {
      await admin.query(FIXTURES.ticket_history, [tenant]);
    }
    await admin.end();
    bouncer = await startPgBouncer({
      serverPort: Number(new URL(db.appUrl).port || 5432),
      users: ['tep_app'],
      poolSize: POOL,
    });
    // Twelve services' pools, two server connections between them.
    sources = Array.from({ length: CLIENTS }, () =>
      createDataSource({ url: bouncer.through(db.appUrl), poolSize: 2 }),
    );
    await Promise.all(sources.map((s) => s.initialize()));
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.destroy()));
    await bouncer?.stop();
    await db?.drop();
  });

  it('never carries a tenant into another client’s transaction on a shared server connection', async () => {
    const backends = new Set<number>();
    const seen: string[] = [];
    await Promise.all(
      sources.map(async (source, c) => {
        const tenants = new TenantDatabase(source);
        for (let i = 0; i < 25; i++) {
          const tenant = (c + i) % 2 === 0 ? TENANT_A : TENANT_B;
          const rows = await tenants.withTenant(tenant, async (tx) => {
            const r = await tx.query<{ tenant_id: string; backend: number }>(
              `SELECT tenant_id, pg_backend_pid() AS backend FROM ticket_history`,
            );
            // Hold the server connection a moment, so others queue for it.
            await tx.query('SELECT pg_sleep(0.002)');
            return r;
          });
          rows.forEach((r) => backends.add(r.backend));
          expect(rows.map((r) => r.tenant_id)).toEqual([tenant]);
          seen.push(tenant);
          // Outside a transaction: whatever server connection this lands on has no tenant.
          const outside = await source.query<{ t: string | null; n: number }[]>(
            `SELECT current_setting('app.current_tenant_id', true) AS t, count(*)::int AS n FROM ticket_history`,
          );
          expect(outside[0]).toEqual({ t: expect.stringMatching(/^$/) as unknown, n: 0 });
        }
      }),
    );
    expect(seen).toHaveLength(CLIENTS * 25);
    // The pooler really shared: at most POOL server backends served all 300 transactions.
    expect(backends.size).toBeGreaterThan(0);
    expect(backends.size).toBeLessThanOrEqual(POOL);
  });

  it('runs the driver’s prepared (extended-protocol) statements and a named one within a transaction', async () => {
    const tenants = new TenantDatabase(sources[0]);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        tenants.withTenant(i % 2 ? TENANT_A : TENANT_B, (tx) =>
          tx.query<{ n: number; echoed: string }>(
            `SELECT count(*)::int AS n, $1::text AS echoed FROM ticket_history WHERE ticket_id = $2`,
            [`call-${i}`, 'TKT-1'],
          ),
        ),
      ),
    );
    results.forEach((rows, i) => expect(rows).toEqual([{ n: 1, echoed: `call-${i}` }]));
    // PREPARE/EXECUTE inside one transaction stays on one server connection.
    const named = await tenants.withTenant(TENANT_A, async (tx) => {
      await tx.query(`PREPARE tenant_rows AS SELECT tenant_id FROM ticket_history`);
      const rows = await tx.query<{ tenant_id: string }>(`EXECUTE tenant_rows`);
      await tx.query(`DEALLOCATE tenant_rows`);
      return rows;
    });
    expect(named).toEqual([{ tenant_id: TENANT_A }]);
  });

  it('keeps a session-level setting from leaking: only SET LOCAL / set_config(…, true) is used', async () => {
    // A session-level set_config would stick to the server connection and
    // reach other clients; the platform never issues one (TenantDatabase uses
    // is_local = true). This shows why, so nobody "optimises" it away.
    const [a, b] = sources;
    await a.query(`SELECT set_config('app.current_tenant_id', $1, false)`, [TENANT_A]);
    const leaked = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const rows = await b.query<{ t: string | null }[]>(
        `SELECT current_setting('app.current_tenant_id', true) AS t`,
      );
      if (rows[0].t) leaked.add(rows[0].t);
    }
    expect([...leaked]).toEqual([TENANT_A]);
    // Reset every server connection of the pool.
    for (let i = 0; i < POOL * 4; i++) await b.query(`RESET app.current_tenant_id`);
  });
});
