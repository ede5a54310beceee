import { TenantSchema1732780800000 } from './1732780800000-tenant-schema';
import { RegistryOperations1732867200000 } from './1732867200000-registry-operations';
import { RetrievalRanking1764547200000 } from './1764547200000-retrieval-ranking';

/** In order. TypeORM records each one in `typeorm_migrations`. */
export const MIGRATIONS = [
  TenantSchema1732780800000,
  RegistryOperations1732867200000,
  RetrievalRanking1764547200000,
];

/** Changes whenever a migration's SQL changes (test templates are keyed on it). */
export const MIGRATION_FINGERPRINT = MIGRATIONS.map(
  (m) => `${m.name}:${m.prototype.up.toString()}`,
).join('\n');
export { TENANT_TABLES, CURRENT_TENANT } from './1732780800000-tenant-schema';
export { RETRIEVAL_STATS_TABLES } from './1764547200000-retrieval-ranking';
/** Tables with a tenant_id that are not tenant data: RLS-forced, append-only. */
export const AUDIT_TABLE = 'audit_log';
