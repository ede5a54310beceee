export {
  TenantDatabase,
  type TenantDatabaseOptions,
  TenantTransaction,
  InvalidTenantIdError,
  createDataSource,
  isUuid,
  type DatabaseOptions,
} from './tenant-database';
export {
  RegistryAdminStore,
  type NewAuditEntry,
  type TenantConfigRow,
  type NewTenantConfig,
  type TenantConfigPatch,
  type AuditEntry,
} from './registry-admin-store';
export {
  provisionDatabase,
  withDatabase,
  APPLICATION_GROUP_ROLE,
  REGISTRY_ADMIN_GROUP_ROLE,
  CREDENTIAL_READER_GROUP_ROLE,
  type ProvisionOptions,
} from './provision';
export {
  TENANT_TABLES,
  RETRIEVAL_TABLES,
  CURRENT_TENANT,
  MIGRATION_FINGERPRINT,
  AUDIT_TABLE,
} from './migrations';
export {
  recordJobPending,
  recordJobSkipped,
  findTicketEnhancement,
  type TicketEnhancement,
  recordJobFailed,
  recordJobPosted,
  claimJobPost,
  findJob,
  type PostedJob,
  type JobRecord,
  type JobOfTicket,
} from './enhancement-history';
export {
  recordFeedback,
  listFeedback,
  feedbackSummary,
  type FeedbackRecord,
  type FeedbackRow,
  type FeedbackSummary,
} from './enhancement-feedback';
export {
  loadTenantServiceDesk,
  loadEnhancementPreferences,
  loadPreferencesLockingTicket,
  type TenantServiceDeskRow,
} from './tenant-settings';
