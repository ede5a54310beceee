import { TenantSchema1732780800000 } from './1732780800000-tenant-schema';
import { RegistryOperations1732867200000 } from './1732867200000-registry-operations';

/** In order. TypeORM records each one in `typeorm_migrations`. */
export const MIGRATIONS = [TenantSchema1732780800000, RegistryOperations1732867200000];

/** Changes whenever a migration's SQL changes (test templates are keyed on it). */
export const MIGRATION_FINGERPRINT = MIGRATIONS.map(
  (m) => `${m.name}:${m.prototype.up.toString()}`,
).join('\n');
export { TENANT_TABLES, CURRENT_TENANT } from './1732780800000-tenant-schema';
/** Tables with a tenant_id that are not tenant data: RLS-forced, append-only. */
export const AUDIT_TABLE = 'audit_log';
