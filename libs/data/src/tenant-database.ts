import { createHash } from 'node:crypto';
import type { Client, Pool, PoolClient, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class InvalidTenantIdError extends Error {
  constructor() {
    super('tenant_id must be a UUID');
    this.name = 'InvalidTenantIdError';
  }
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

const corked = new WeakSet<object>();

/**
 * The statements sent to this connection in the rest of the turn leave in
 * one socket write: node-postgres writes each statement on its own, so a
 * pipelined batch would otherwise cost a write (and a wake-up of the
 * backend) per statement.
 */
function oneWriteThisTurn(client: PoolClient): void {
  const stream = (client as unknown as Client).connection.stream;
  if (corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  process.nextTick(() => {
    corked.delete(stream);
    stream.uncork();
  });
}

/**
 * A transaction bound to one tenant. It only exists inside
 * `TenantDatabase.withTenant`, so no tenant-scoped query can run without
 * `app.current_tenant_id` set — and Postgres RLS filters every row by it.
 */
export class TenantTransaction {
  private ended = false;

  constructor(
    readonly tenantId: string,
    private readonly client: PoolClient,
    private readonly statements?: StatementNames,
  ) {}

  /** Rows returned (also by UPDATE/DELETE … RETURNING). */
  async query<Row>(sql: string, parameters: unknown[] = []): Promise<Row[]> {
    return (await this.execute<Row>(sql, parameters)).rows;
  }

  /** Rows plus the number of rows the statement affected. */
  async execute<Row>(
    sql: string,
    parameters: unknown[] = [],
  ): Promise<{ rows: Row[]; rowCount: number }> {
    if (this.ended) throw new Error('TenantTransaction used outside its transaction');
    const name = parameters.length > 0 ? this.statements?.nameOf(sql) : undefined;
    const query: QueryConfig = name
      ? { name, text: sql, values: parameters }
      : { text: sql, values: parameters };
    oneWriteThisTurn(this.client);
    const result = await this.client.query(query);
    const rows = (result.rows ?? []) as Row[];
    return { rows, rowCount: result.rowCount ?? rows.length };
  }

  /** @internal Called by withTenant when the transaction is over. */
  end(): void {
    this.ended = true;
  }
}

/**
 * Names for the statements of a database's transactions, so node-postgres
 * prepares each once per connection and PostgreSQL keeps its plan: the
 * similar-tickets query spent 2 of its 8 ms planning (docs/benchmarks.md).
 * The statements are the code's own constants, so the set is small; past
 * `limit` distinct texts (SQL built at run time) the rest go unnamed.
 */
class StatementNames {
  private readonly names = new Map<string, string>();
  constructor(private readonly limit = 500) {}

  nameOf(sql: string): string | undefined {
    let name = this.names.get(sql);
    if (name === undefined && this.names.size < this.limit) {
      name = `tep_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      this.names.set(sql, name);
    }
    return name;
  }
}

export interface TenantDatabaseOptions {
  /**
   * Named prepared statements (DATABASE_PREPARED_STATEMENTS). Off by
   * default: a named statement lives on one server connection, so behind
   * PgBouncer before 1.21 (or without max_prepared_statements) a later
   * transaction can land where it was never prepared.
   */
  preparedStatements?: boolean;
}

export interface DatabaseOptions {
  url: string;
  poolSize?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

export function createDataSource(options: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName,
    // Fail fast when Postgres is down instead of queueing forever.
    connectTimeoutMS: 5_000,
    // pipeline: statements issued together on one connection go out without
    // waiting for each other's replies (node-postgres' pipelining; each keeps
    // its own result or error, and PostgreSQL runs them in order): fewer round
    // trips per stage (docs/benchmarks.md, seventh pass). Sequential code
    // behaves as before.
    extra: { idleTimeoutMillis: 30_000, pipeline: true },
  });
}

/**
 * The one way services touch tenant data. Transactions run on the pg pool
 * under the DataSource (TypeORM keeps migrations and the admin store): the
 * per-job path is a few short statements, and TypeORM's query runner cost
 * more CPU than the statements themselves (docs/benchmarks.md).
 */
export class TenantDatabase {
  private readonly statements?: StatementNames;

  constructor(
    private readonly dataSource: DataSource,
    options: TenantDatabaseOptions = {},
  ) {
    if (options.preparedStatements) this.statements = new StatementNames();
  }

  private get pool(): Pool {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool | undefined;
    if (!pool) throw new Error('TenantDatabase used before its DataSource was initialized');
    return pool;
  }

  async withTenant<T>(tenantId: string, work: (tx: TenantTransaction) => Promise<T>): Promise<T> {
    if (!isUuid(tenantId)) throw new InvalidTenantIdError();
    const client = await this.pool.connect();
    const tx = new TenantTransaction(tenantId, client, this.statements);
    let broken: Error | undefined;
    // pg's pool listens for errors only on idle clients: a checked-out one
    // whose connection drops between two statements (PostgreSQL restarting,
    // PgBouncer closing the client of a server connection that died) emits
    // 'error' with nobody listening, which ends the process. The next
    // statement fails instead, and the client is discarded on release.
    const onConnectionError = (error: Error) => (broken ??= error);
    client.on('error', onConnectionError);
    try {
      // One round trip for all. is_local = true: the settings end with the
      // transaction, so a pooled connection never carries one tenant into the
      // next job. The id is inlined (simple protocol, no parameters with two
      // statements); it matched the UUID pattern above, so it is only hex and dashes.
      // JIT off: every statement here is short, and once a plan's estimate passes
      // jit_above_cost (a 100,000-row tenant's similar-tickets query) PostgreSQL
      // spent 97 ms compiling for 7 ms of work (docs/benchmarks.md).
      // Pipelined: the work's first statements are sent behind it without
      // waiting for its reply, and PostgreSQL runs them after it, inside the
      // transaction. Should it fail, they fail too (a transaction aborted
      // before they ran) or, were the BEGIN itself refused, run with no tenant
      // set, where RLS shows and accepts no row; either way the work is
      // rolled back below.
      oneWriteThisTurn(client);
      const begun = client.query(
        `BEGIN; SELECT set_config('app.current_tenant_id', '${tenantId.toLowerCase()}', true), ` +
          `set_config('jit', 'off', true)`,
      );
      const [started, done] = await Promise.allSettled([begun, work(tx)]);
      if (started.status === 'rejected') throw started.reason;
      if (done.status === 'rejected') throw done.reason;
      await client.query('COMMIT');
      return done.value;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable (e.g. Postgres restarted): drop it from the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      tx.end();
      client.off('error', onConnectionError);
      client.release(broken);
    }
  }

  /** Liveness probe for /health. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
