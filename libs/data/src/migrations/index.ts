import { TenantSchema1732780800000 } from './1732780800000-tenant-schema';

/** In order. TypeORM records each one in `typeorm_migrations`. */
export const MIGRATIONS = [TenantSchema1732780800000];

/** Changes whenever a migration's SQL changes (test templates are keyed on it). */
export const MIGRATION_FINGERPRINT = MIGRATIONS.map(
  (m) => `${m.name}:${m.prototype.up.toString()}`,
).join('\n');
export { TENANT_TABLES, CURRENT_TENANT } from './1732780800000-tenant-schema';
