import { TenantSchema1732780800000 } from './1732780800000-tenant-schema';

/** In order. TypeORM records each one in `typeorm_migrations`. */
export const MIGRATIONS = [TenantSchema1732780800000];
export { TENANT_TABLES, CURRENT_TENANT } from './1732780800000-tenant-schema';
