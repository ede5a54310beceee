import type { DataSource, EntityManager } from 'typeorm';
import { REGISTRY_ADMIN_GROUP_ROLE } from './provision';

export interface TenantConfigRow {
  id: string;
  tenant_id: string;
  name: string;
  servicedesk_url: string;
  servicedesk_api_key_encrypted: string;
  servicedesk_settings: Record<string, unknown>;
  webhook_signing_secret_encrypted: string;
  enhancement_preferences: Record<string, unknown>;
  rate_limits: Record<string, unknown>;
  tier: 'basic' | 'premium';
  status: 'active' | 'disabled';
  admin_email: string | null;
  created_at: Date;
  updated_at: Date;
}

export type NewTenantConfig = Pick<
  TenantConfigRow,
  | 'tenant_id'
  | 'name'
  | 'servicedesk_url'
  | 'servicedesk_api_key_encrypted'
  | 'webhook_signing_secret_encrypted'
  | 'enhancement_preferences'
  | 'rate_limits'
  | 'tier'
  | 'admin_email'
>;

/**
 * The registry's explicit cross-tenant path over `tenant_configs`. It works
 * only for a role in `tep_registry_admin` that opts in per transaction
 * (`app.registry_admin = on`, see the migration's policy); the role is
 * checked at start so a misconfigured service fails loudly instead of
 * seeing an empty tenant list.
 */
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
   * Inserts the tenant; `beforeCommit` runs inside the transaction so a
   * failure there (e.g. publishing to the ingress directory) undoes it.
   */
  async insert(
    tenant: NewTenantConfig,
    beforeCommit?: (row: TenantConfigRow) => Promise<void>,
  ): Promise<TenantConfigRow> {
    return this.asAdmin(async (m) => {
      const rows = await m.query<TenantConfigRow[]>(
        `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted,
           webhook_signing_secret_encrypted, enhancement_preferences, rate_limits, tier, admin_email)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING *`,
        [
          tenant.tenant_id,
          tenant.name,
          tenant.servicedesk_url,
          tenant.servicedesk_api_key_encrypted,
          tenant.webhook_signing_secret_encrypted,
          JSON.stringify(tenant.enhancement_preferences),
          JSON.stringify(tenant.rate_limits),
          tenant.tier,
          tenant.admin_email,
        ],
      );
      const row = rows[0];
      await beforeCommit?.(row);
      return row;
    });
  }

  async get(tenantId: string): Promise<TenantConfigRow | undefined> {
    const rows = await this.asAdmin((m) =>
      m.query<TenantConfigRow[]>(`SELECT * FROM tenant_configs WHERE tenant_id = $1`, [tenantId]),
    );
    return rows[0];
  }

  /** Keyset-paged, oldest first. */
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
}
