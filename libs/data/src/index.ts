export {
  TenantDatabase,
  TenantTransaction,
  InvalidTenantIdError,
  createDataSource,
  isUuid,
  type DatabaseOptions,
} from './tenant-database';
export {
  RegistryAdminStore,
  type TenantConfigRow,
  type NewTenantConfig,
} from './registry-admin-store';
export {
  provisionDatabase,
  withDatabase,
  APPLICATION_GROUP_ROLE,
  REGISTRY_ADMIN_GROUP_ROLE,
  type ProvisionOptions,
} from './provision';
export { TENANT_TABLES, CURRENT_TENANT, MIGRATION_FINGERPRINT } from './migrations';
export {
  recordJobPending,
  recordJobFailed,
  recordJobPosted,
  findJob,
  type PostedJob,
  type JobRecord,
} from './enhancement-history';
export {
  loadTenantServiceDesk,
  loadEnhancementPreferences,
  type TenantServiceDeskRow,
} from './tenant-settings';
