import type { DataSource, EntityManager } from 'typeorm';
import { RETRIEVAL_TABLES, TENANT_TABLES } from './migrations';
import { REGISTRY_ADMIN_GROUP_ROLE } from './provision';

export interface TenantConfigRow {
  id: string;
  tenant_id: string;
  name: string;
  servicedesk_url: string;
  servicedesk_api_key_encrypted: string;
  servicedesk_settings: Record<string, unknown>;
  webhook_signing_secret_encrypted: string;
  webhook_signing_secret_previous_encrypted: string | null;
  webhook_signing_secret_previous_expires_at: Date | null;
  webhook_auth_scheme: 'hmac' | 'static_header';
  enhancement_preferences: Record<string, unknown>;
  rate_limits: Record<string, unknown>;
  tier: 'basic' | 'premium';
  status: 'active' | 'disabled';
  admin_email: string | null;
  onboarding_record: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
}

export type NewTenantConfig = Pick<
  TenantConfigRow,
  | 'tenant_id'
  | 'name'
  | 'servicedesk_url'
  | 'servicedesk_api_key_encrypted'
  | 'servicedesk_settings'
  | 'webhook_signing_secret_encrypted'
  | 'webhook_auth_scheme'
  | 'enhancement_preferences'
  | 'rate_limits'
  | 'tier'
  | 'admin_email'
>;

/** Columns an admin operation may change; everything else is fixed. */
export type TenantConfigPatch = Partial<
  Pick<
    TenantConfigRow,
    | 'name'
    | 'servicedesk_url'
    | 'servicedesk_api_key_encrypted'
    | 'servicedesk_settings'
    | 'webhook_signing_secret_encrypted'
    | 'webhook_signing_secret_previous_encrypted'
    | 'webhook_signing_secret_previous_expires_at'
    | 'webhook_auth_scheme'
    | 'enhancement_preferences'
    | 'rate_limits'
    | 'status'
    | 'admin_email'
    | 'onboarding_record'
  >
>;

const JSON_COLUMNS = new Set([
  'servicedesk_settings',
  'enhancement_preferences',
  'rate_limits',
  'onboarding_record',
]);

export interface AuditEntry {
  id: string;
  occurred_at: Date;
  actor: string;
  action: string;
  tenant_id: string | null;
  details: Record<string, unknown>;
}

/**
 * The registry's explicit cross-tenant path over `tenant_configs` and
 * `audit_log`. It works only for a role in `tep_registry_admin` that opts in
 * per transaction (`app.registry_admin = on`, see the migrations' policies);
 * the role is checked at start so a misconfigured service fails loudly
 * instead of seeing an empty tenant list.
 */
/** An audit_log row to write: who did what to which tenant. */
export interface NewAuditEntry {
  actor: string;
  action: string;
  tenantId: string | null;
  details?: Record<string, unknown>;
}

const writeAudit = (m: EntityManager, entry: NewAuditEntry) =>
  m.query(`INSERT INTO audit_log (actor, action, tenant_id, details) VALUES ($1, $2, $3, $4)`, [
    entry.actor,
    entry.action,
    entry.tenantId,
    JSON.stringify(entry.details ?? {}),
  ]);

export class RegistryAdminStore {
  constructor(private readonly dataSource: DataSource) {}

  private async asAdmin<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT set_config('app.registry_admin', 'on', true)`);
      return work(manager);
    });
  }

  async assertRegistryRole(): Promise<void> {
    const [row] = await this.dataSource.query<{ allowed: boolean; role: string }[]>(
      `SELECT pg_has_role(current_user, $1, 'USAGE') AS allowed, current_user AS role`,
      [REGISTRY_ADMIN_GROUP_ROLE],
    );
    if (!row?.allowed) {
      throw new Error(`Database role ${row?.role} is not a member of ${REGISTRY_ADMIN_GROUP_ROLE}`);
    }
  }

  /**
   * Inserts the tenant and its audit entry in one transaction; `beforeCommit`
   * runs inside it so a failure there (e.g. publishing to the ingress
   * directory) undoes both.
   */
  async insert(
    tenant: NewTenantConfig,
    audit: NewAuditEntry,
    beforeCommit?: (row: TenantConfigRow) => Promise<void>,
  ): Promise<TenantConfigRow> {
    return this.asAdmin(async (m) => {
      const rows = await m.query<TenantConfigRow[]>(
        `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted, servicedesk_settings,
           webhook_signing_secret_encrypted, webhook_auth_scheme, enhancement_preferences, rate_limits, tier, admin_email)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING *`,
        [
          tenant.tenant_id,
          tenant.name,
          tenant.servicedesk_url,
          tenant.servicedesk_api_key_encrypted,
          JSON.stringify(tenant.servicedesk_settings),
          tenant.webhook_signing_secret_encrypted,
          tenant.webhook_auth_scheme,
          JSON.stringify(tenant.enhancement_preferences),
          JSON.stringify(tenant.rate_limits),
          tenant.tier,
          tenant.admin_email,
        ],
      );
      const row = rows[0];
      await writeAudit(m, audit);
      await beforeCommit?.(row);
      return row;
    });
  }

  /**
   * Applies `patch` and writes its audit entry in one transaction, and
   * returns the new row (undefined: no such tenant, nothing written);
   * `beforeCommit` runs inside the transaction, as for insert.
   */
  async update(
    tenantId: string,
    patch: TenantConfigPatch,
    audit: NewAuditEntry,
    beforeCommit?: (row: TenantConfigRow) => Promise<void>,
  ): Promise<TenantConfigRow | undefined> {
    const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
    const assignments = entries.map(([column], i) => `${column} = $${i + 2}`);
    const values = entries.map(([column, value]) =>
      JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value,
    );
    return this.asAdmin(async (m) => {
      const rows = await m.query<TenantConfigRow[]>(
        // A CTE so the driver returns plain rows (UPDATE alone returns [rows, count]).
        `WITH changed AS (
           UPDATE tenant_configs SET ${[...assignments, 'updated_at = now()'].join(', ')}
            WHERE tenant_id = $1 RETURNING *)
         SELECT * FROM changed`,
        [tenantId, ...values],
      );
      const row = rows[0];
      if (row) {
        await writeAudit(m, audit);
        await beforeCommit?.(row);
      }
      return row;
    });
  }

  async get(tenantId: string): Promise<TenantConfigRow | undefined> {
    const rows = await this.asAdmin((m) =>
      m.query<TenantConfigRow[]>(`SELECT * FROM tenant_configs WHERE tenant_id = $1`, [tenantId]),
    );
    return rows[0];
  }

  /** Keyset-paged by tenant_id. */
  async list(options: { limit: number; after?: string }): Promise<TenantConfigRow[]> {
    return this.asAdmin((m) =>
      m.query<TenantConfigRow[]>(
        `SELECT * FROM tenant_configs
          WHERE ($1::uuid IS NULL OR tenant_id > $1::uuid)
          ORDER BY tenant_id
          LIMIT $2`,
        [options.after ?? null, options.limit],
      ),
    );
  }

  /**
   * Offboarding: removes the tenant's configuration and, with `purge`, every
   * row it has in each tenant table — under that tenant's own RLS context,
   * so nothing else can be touched. Returns the deleted counts per table
   * (undefined: no such tenant). The audit log is kept.
   */
  async delete(
    tenantId: string,
    options: { purge: boolean },
    audit: (deleted: Record<string, number>) => NewAuditEntry,
    beforeCommit?: () => Promise<void>,
  ): Promise<Record<string, number> | undefined> {
    return this.asAdmin(async (m) => {
      await m.query(`SELECT set_config('app.current_tenant_id', $1, true)`, [tenantId]);
      const counts: Record<string, number> = {};
      const tables = options.purge ? TENANT_TABLES.filter((t) => t !== 'tenant_configs') : [];
      for (const table of tables) {
        const deleted = await m.query<{ n: number }[]>(
          `WITH d AS (DELETE FROM ${table} WHERE tenant_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
          [tenantId],
        );
        counts[table] = deleted[0].n;
      }
      // Derived from ticket_history (ranking statistics): removed with it, not reported.
      for (const table of options.purge ? RETRIEVAL_TABLES : []) {
        await m.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
      }
      const config = await m.query<{ n: number }[]>(
        `WITH d AS (DELETE FROM tenant_configs WHERE tenant_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
        [tenantId],
      );
      if (config[0].n === 0) return undefined;
      counts['tenant_configs'] = config[0].n;
      await writeAudit(m, audit(counts));
      await beforeCommit?.();
      return counts;
    });
  }

  /** An audit entry that goes with no change of its own (e.g. a refused admin login). */
  async appendAudit(entry: NewAuditEntry): Promise<void> {
    await this.asAdmin((m) => writeAudit(m, entry));
  }

  async listAudit(options: {
    tenantId?: string;
    limit: number;
    before?: string;
  }): Promise<AuditEntry[]> {
    const rows = await this.asAdmin((m) =>
      m.query<AuditEntry[]>(
        `SELECT id::text, occurred_at, actor, action, tenant_id, details FROM audit_log
          WHERE ($1::uuid IS NULL OR tenant_id = $1::uuid) AND ($2::bigint IS NULL OR id < $2::bigint)
          ORDER BY id DESC LIMIT $3`,
        [options.tenantId ?? null, options.before ?? null, options.limit],
      ),
    );
    return rows;
  }
}
