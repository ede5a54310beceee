import { Module, type DynamicModule } from '@nestjs/common';
import { SecretCipher } from '@tep/encryption';
import { FeedbackTokens } from '@tep/feedback-token';
import { FEEDBACK_TOKENS, FeedbackController } from './feedback';
import { PlatformModule } from '@tep/service-runtime';
import type { IngressConfig } from './config/ingress.config';
import { SECRET_CIPHER, TenantDirectory } from './tenant-directory/tenant-directory';
import { TenantRateLimiter } from './receive-webhook/rate-limiter';
import {
  IngressMetrics,
  RECEIVE_WEBHOOK_SETTINGS,
  ReceiveWebhook,
  WebhookRoute,
} from './receive-webhook';

@Module({})
export class AppModule {
  static register(config: IngressConfig): DynamicModule {
    return {
      module: AppModule,
      // No database: the tenant directory is a NATS KV bucket, no table is read.
      imports: [
        PlatformModule.forService('webhook-ingress', config, {
          requestLogs: false,
          database: false,
        }),
      ],
      // The notes' feedback links (public, no login: the signed token is the credential).
      controllers: [FeedbackController],
      providers: [
        { provide: SECRET_CIPHER, useValue: SecretCipher.fromEnv(config.TENANT_ENCRYPTION_KEY) },
        {
          provide: RECEIVE_WEBHOOK_SETTINGS,
          useValue: {
            maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
            publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
          },
        },
        { provide: FEEDBACK_TOKENS, useValue: FeedbackTokens.fromEnv(config.FEEDBACK_TOKEN_KEY) },
        TenantDirectory,
        TenantRateLimiter,
        IngressMetrics,
        ReceiveWebhook,
        WebhookRoute,
      ],
    };
  }
}
