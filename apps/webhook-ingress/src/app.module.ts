import { Module, type DynamicModule } from '@nestjs/common';
import { SecretCipher } from '@tep/encryption';
import { FeedbackTokens } from '@tep/feedback-token';
import { FEEDBACK_TOKENS, FeedbackController } from './feedback';
import type { NatsConnection } from '@nats-io/transport-node';
import { PinoLogger } from 'nestjs-pino';
import { ServerSwitch } from '@tep/pipeline';
import { NATS_CONNECTION, PlatformModule } from '@tep/service-runtime';
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
        {
          // A node cut off from its cluster keeps the connection but stores nothing: move on.
          provide: ServerSwitch,
          useFactory: (nc: NatsConnection, logger: PinoLogger) =>
            new ServerSwitch(nc, {
              servers: config.NATS_URL.split(',').length,
              onSwitch: (from, failures) =>
                logger.warn(
                  { server: from, failures },
                  `JetStream failed ${failures} times in a row through ${from}; switching to another NATS server`,
                ),
            }),
          inject: [NATS_CONNECTION, PinoLogger],
        },
        TenantDirectory,
        TenantRateLimiter,
        IngressMetrics,
        ReceiveWebhook,
        WebhookRoute,
      ],
    };
  }
}
