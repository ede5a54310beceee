import { DataSource, type EntityManager } from 'typeorm';

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

/**
 * A transaction bound to one tenant. It only exists inside
 * `TenantDatabase.withTenant`, so no tenant-scoped query can run without
 * `app.current_tenant_id` set — and Postgres RLS filters every row by it.
 */
export class TenantTransaction {
  constructor(
    readonly tenantId: string,
    private readonly manager: EntityManager,
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
    const runner = this.manager.queryRunner;
    if (!runner) throw new Error('TenantTransaction used outside its transaction');
    const result = await runner.query(sql, parameters, true);
    const records = Array.isArray(result.records) ? (result.records as Row[]) : [];
    return { rows: records, rowCount: result.affected ?? records.length };
  }
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
    extra: { idleTimeoutMillis: 30_000 },
  });
}

/** The one way services touch tenant data. */
export class TenantDatabase {
  constructor(private readonly dataSource: DataSource) {}

  async withTenant<T>(tenantId: string, work: (tx: TenantTransaction) => Promise<T>): Promise<T> {
    if (!isUuid(tenantId)) throw new InvalidTenantIdError();
    return this.dataSource.transaction(async (manager) => {
      // is_local = true: the setting ends with the transaction, so a pooled
      // connection never carries one tenant into the next job.
      await manager.query(`SELECT set_config('app.current_tenant_id', $1, true)`, [tenantId]);
      return work(new TenantTransaction(tenantId, manager));
    });
  }

  /** Liveness probe for /health. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
