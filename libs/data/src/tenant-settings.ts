import type { TenantTransaction } from './tenant-database';

export interface TenantServiceDeskRow {
  status: 'active' | 'disabled';
  servicedesk_url: string;
  servicedesk_api_key_encrypted: string;
  servicedesk_settings: unknown;
  enhancement_preferences: unknown;
}

/** The tenant's own SDP connection and preferences, read under its RLS context. */
export async function loadTenantServiceDesk(
  tx: TenantTransaction,
): Promise<TenantServiceDeskRow | undefined> {
  const rows = await tx.query<TenantServiceDeskRow>(
    `SELECT status, servicedesk_url, servicedesk_api_key_encrypted, servicedesk_settings, enhancement_preferences
       FROM tenant_configs WHERE tenant_id = $1`,
    [tx.tenantId],
  );
  return rows[0];
}

/** The tenant's stored enhancement preferences (undefined: no such tenant). */
export async function loadEnhancementPreferences(tx: TenantTransaction): Promise<unknown> {
  const rows = await tx.query<{ enhancement_preferences: unknown }>(
    `SELECT enhancement_preferences FROM tenant_configs WHERE tenant_id = $1`,
    [tx.tenantId],
  );
  return rows[0]?.enhancement_preferences;
}

/**
 * The tenant's stored enhancement preferences (undefined: no such tenant),
 * and, in the same round trip, the transaction-scoped lock on one of its
 * tickets: a create and an update of one ticket arriving together decide
 * one at a time.
 */
export async function loadPreferencesLockingTicket(
  tx: TenantTransaction,
  ticketId: string,
): Promise<unknown> {
  const rows = await tx.query<{ enhancement_preferences: unknown }>(
    `SELECT c.enhancement_preferences
       FROM pg_advisory_xact_lock(hashtextextended($2, 0)) AS ticket_lock
       LEFT JOIN tenant_configs c ON c.tenant_id = $1`,
    [tx.tenantId, `${tx.tenantId}:${ticketId}`],
  );
  return rows[0]?.enhancement_preferences ?? undefined;
}
