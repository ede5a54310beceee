export {
  TenantAdmin,
  REGISTRY_CIPHER,
  CREDENTIAL_CIPHER,
  TENANT_ADMIN_SETTINGS,
  type TenantAdminSettings,
  type Actor,
} from './tenant-admin.service';
export * from './commands';
export { RegistryError, type RegistryErrorCode, type FieldProblem } from './registry-error';
export { tenantView, webhookUrl, type TenantView } from './tenant-view';
