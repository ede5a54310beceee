import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RegistryAdminStore } from '@tep/data';
import { SecretCipher } from '@tep/encryption';
import { PlatformModule } from '@tep/service-runtime';
import { ADMIN_TOKENS, AdminAuthGuard } from './admin-auth/admin-auth.guard';
import type { RegistryConfig } from './config/registry.config';
import {
  CREATE_TENANT_SETTINGS,
  CreateTenant,
  REGISTRY_CIPHER,
  TenantsController,
} from './create-tenant';
import { TenantDirectoryPublisher } from './tenant-directory/tenant-directory.publisher';

@Module({})
export class AppModule {
  static register(config: RegistryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('tenant-registry', config)],
      controllers: [TenantsController],
      providers: [
        { provide: ADMIN_TOKENS, useValue: config.ADMIN_TOKENS },
        { provide: REGISTRY_CIPHER, useValue: SecretCipher.fromEnv(config.TENANT_ENCRYPTION_KEY) },
        {
          provide: CREATE_TENANT_SETTINGS,
          useValue: {
            publicWebhookBaseUrl: config.PUBLIC_WEBHOOK_BASE_URL,
            allowInsecureServiceDeskUrls: config.ALLOW_INSECURE_SERVICEDESK_URLS,
          },
        },
        {
          provide: RegistryAdminStore,
          useFactory: (ds: DataSource) => new RegistryAdminStore(ds),
          inject: [DataSource],
        },
        AdminAuthGuard,
        TenantDirectoryPublisher,
        CreateTenant,
      ],
    };
  }
}
