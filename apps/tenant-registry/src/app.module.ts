import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RegistryAdminStore } from '@tep/data';
import { SecretCipher } from '@tep/encryption';
import { PlatformModule } from '@tep/service-runtime';
import {
  ADMIN_TOKENS,
  AdminAuthGuard,
  AdminTokenVerifier,
  parseAdminTokens,
} from './admin-auth/admin-auth.guard';
import { AuthFailureAudit } from './admin-auth/auth-failure-audit';
import type { RegistryConfig } from './config/registry.config';
import { TenantAdminGrpcController } from './grpc/tenant-admin.grpc-controller';
import { OpenApiController } from './http/openapi';
import { TenantsController } from './http/tenants.controller';
import {
  CREDENTIAL_CIPHER,
  REGISTRY_CIPHER,
  TENANT_ADMIN_SETTINGS,
  TenantAdmin,
} from './tenant-admin';
import { TenantDirectoryPublisher } from './tenant-directory/tenant-directory.publisher';
import { TenantFeedback } from './tenant-feedback';

@Module({})
export class AppModule {
  static register(config: RegistryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('tenant-registry', config, { ownsTopology: true })],
      controllers: [TenantsController, OpenApiController, TenantAdminGrpcController],
      providers: [
        { provide: ADMIN_TOKENS, useValue: parseAdminTokens(config.ADMIN_TOKENS) },
        { provide: REGISTRY_CIPHER, useValue: SecretCipher.fromEnv(config.TENANT_ENCRYPTION_KEY) },
        {
          provide: CREDENTIAL_CIPHER,
          useValue: SecretCipher.fromEnv(
            config.SERVICEDESK_CREDENTIAL_KEY,
            'SERVICEDESK_CREDENTIAL_KEY',
          ),
        },
        {
          provide: TENANT_ADMIN_SETTINGS,
          useValue: {
            publicWebhookBaseUrl: config.PUBLIC_WEBHOOK_BASE_URL,
            allowInsecureServiceDeskUrls: config.ALLOW_INSECURE_SERVICEDESK_URLS,
            webhookSecretGraceSeconds: config.WEBHOOK_SECRET_GRACE_SECONDS,
          },
        },
        {
          provide: RegistryAdminStore,
          useFactory: (ds: DataSource) => new RegistryAdminStore(ds),
          inject: [DataSource],
        },
        AuthFailureAudit,
        AdminTokenVerifier,
        AdminAuthGuard,
        TenantDirectoryPublisher,
        TenantAdmin,
        TenantFeedback,
      ],
    };
  }
}
