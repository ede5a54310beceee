export { TenantsController } from './tenants.controller';
export {
  CreateTenant,
  CREATE_TENANT_SETTINGS,
  REGISTRY_CIPHER,
  type CreateTenantSettings,
} from './create-tenant.handler';
export {
  CreateTenantCommandSchema,
  type CreateTenantCommand,
  type CreatedTenant,
} from './create-tenant.command';
