/**
 * TenantDatabase when the connection under a transaction goes away: as
 * when PostgreSQL restarts, or PgBouncer closes a client whose server
 * connection died. The process must live on and the pool heal. (An
 * unhandled 'error' event ends a real process but not a jest test, so the
 * case runs in a child process of its own.) And its named prepared
 * statements: prepared once per connection, and only when asked for.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client, Pool } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import { TenantDatabase, createDataSource } from './tenant-database';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

describe('TenantDatabase and a dropped connection', () => {
  it('fails the transaction whose connection dropped between two statements, without an unhandled error, and serves the next one', async () => {
    // The child: one transaction whose backend is terminated while no
    // statement of ours runs, then a second transaction on the same pool.
    const script = `
      const { Client } = require('pg');
      const { TenantDatabase, createDataSource } = require(process.env.DATA_LIB);
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      (async () => {
        const admin = new Client({ connectionString: process.env.ADMIN_URL });
        await admin.connect();
        const source = createDataSource({ url: process.env.APP_URL, poolSize: 2 });
        await source.initialize();
        const tenants = new TenantDatabase(source);
        const tenant = process.env.TENANT;
        const first = await tenants
          .withTenant(tenant, async (tx) => {
            const [{ pid }] = await tx.query('SELECT pg_backend_pid() AS pid');
            await admin.query('SELECT pg_terminate_backend($1)', [pid]);
            await sleep(300);
            return tx.query('SELECT 1');
          })
          .then(() => 'committed', (e) => 'failed: ' + e.message);
        const second = await tenants.withTenant(tenant, (tx) =>
          tx.query("SELECT current_setting('app.current_tenant_id') AS t"),
        );
        console.log(JSON.stringify({ first, second }));
        await source.destroy();
        await admin.end();
      })();
    `;
    const tenant = randomUUID();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', './tools/register.js', '-e', script],
      {
        cwd: join(__dirname, '..', '..', '..'),
        env: {
          ...process.env,
          DATA_LIB: join(__dirname, 'index.ts'),
          ADMIN_URL: db.adminUrl,
          APP_URL: db.appUrl,
          TENANT: tenant,
        },
        timeout: 30_000,
      },
    );
    const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as {
      first: string;
      second: { t: string }[];
    };
    expect(outcome.first).toMatch(/^failed: .*(terminat|Connection)/i);
    expect(outcome.second).toEqual([{ t: tenant }]);
  });
});

/** A TenantDatabase on a pool of one connection, so every transaction reuses it. */
const onOneConnection = async <T>(
  options: ConstructorParameters<typeof TenantDatabase>[1],
  work: (tenants: TenantDatabase, pool: Pool) => Promise<T>,
): Promise<T> => {
  const source = createDataSource({ url: db.appUrl, poolSize: 1 });
  await source.initialize();
  try {
    const pool = (source.driver as PostgresDriver).master as Pool;
    return await work(new TenantDatabase(source, options), pool);
  } finally {
    await source.destroy();
  }
};

describe('TenantDatabase with prepared statements', () => {
  /** The named statements the connection under the transaction has prepared. */
  const prepared = (tenants: TenantDatabase, tenant: string, value: string) =>
    tenants.withTenant(tenant, async (tx) => {
      const [{ echoed }] = await tx.query<{ echoed: string }>('SELECT $1::text AS echoed', [value]);
      const names = await tx.query<{ name: string }>(
        `SELECT name FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::text AS echoed%'`,
      );
      return { echoed, names: names.map((n) => n.name) };
    });

  it('prepares a statement once per connection under a name and reuses it in later transactions', async () => {
    const tenant = randomUUID();
    const [first, second] = await onOneConnection({ preparedStatements: true }, async (tenants) => [
      await prepared(tenants, tenant, 'one'),
      await prepared(tenants, tenant, 'two'),
    ]);
    expect(first.echoed).toBe('one');
    expect(second.echoed).toBe('two');
    expect(first.names).toHaveLength(1);
    expect(first.names[0]).toMatch(/^tep_[0-9a-f]{20}$/);
    expect(second.names).toEqual(first.names);
  });

  it('names nothing by default (PgBouncer before 1.21 cannot carry a named statement)', async () => {
    const result = await onOneConnection({}, (tenants) => prepared(tenants, randomUUID(), 'one'));
    expect(result).toEqual({ echoed: 'one', names: [] });
  });
});

describe('TenantDatabase with statements issued together (pipelined)', () => {
  it('runs them in the order issued, all in the tenant transaction, each with its own result or error', async () => {
    await onOneConnection({ preparedStatements: true }, async (tenants, pool) => {
      const tenant = randomUUID();
      const rows = await tenants.withTenant(tenant, (tx) =>
        Promise.all([
          tx.query<{ x: string }>(`SELECT set_config('app.step', 'first', true) AS x`),
          tx.query<{ x: string }>(
            `SELECT current_setting('app.step') || ' ' || current_setting('app.current_tenant_id') AS x`,
          ),
          tx.query<{ x: string }>('SELECT txid_current()::text AS x'),
          tx.query<{ x: string }>('SELECT txid_current()::text AS x'),
        ]),
      );
      const [set, seen, txid1, txid2] = rows.map((r) => r[0].x);
      expect(set).toBe('first');
      expect(seen).toBe(`first ${tenant}`);
      expect(txid1).toBe(txid2);

      // They leave in one socket write (with the BEGIN), and the COMMIT in another.
      const client = await pool.connect();
      const stream = (client as unknown as Client).connection.stream;
      client.release();
      let writes = 0;
      const write = stream._write.bind(stream);
      const writev = stream._writev!.bind(stream);
      stream._write = (...args) => (writes++, write(...args));
      stream._writev = (...args) => (writes++, writev(...args));
      await tenants.withTenant(tenant, (tx) =>
        Promise.all([tx.query('SELECT 1'), tx.query('SELECT 2'), tx.query('SELECT $1::int', [3])]),
      );
      expect(writes).toBe(2);

      // One failing statement among them fails the transaction, which is rolled back.
      const failed = tenants.withTenant(tenant, (tx) =>
        Promise.all([
          tx.query(`SELECT set_config('app.step', 'second', true)`),
          tx.query('SELECT 1 / $1::int', [0]),
          tx.query('SELECT 1'),
        ]),
      );
      await expect(failed).rejects.toThrow(/division by zero/);
      // The connection is clean for the next transaction: no setting carried over.
      const [{ step }] = await tenants.withTenant(tenant, (tx) =>
        tx.query<{ step: string | null }>(`SELECT current_setting('app.step', true) AS step`),
      );
      expect(step ?? '').toBe('');
    });
  });
});
