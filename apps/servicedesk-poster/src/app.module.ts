import { Module, type DynamicModule } from '@nestjs/common';
import { SecretCipher } from '@tep/encryption';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from '@tep/contracts';
import {
  NATS_CONNECTION,
  PlatformModule,
  TOPOLOGY,
  WORKER_CONCURRENCY,
  TenantSeries,
  stageWorker,
} from '@tep/service-runtime';
import { FeedbackTokens } from '@tep/feedback-token';
import { openAccessTokenStore, serviceDeskGuard } from '@tep/servicedesk-client';
import type { PosterConfig } from './config/poster.config';
import {
  POSTER_CIPHER,
  POSTER_TOKEN_STORE,
  POST_ENHANCEMENT_SETTINGS,
  PostEnhancement,
} from './post-enhancement';

@Module({})
export class AppModule {
  static register(config: PosterConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('servicedesk-poster', config)],
      providers: [
        {
          provide: POSTER_CIPHER,
          useValue: SecretCipher.fromEnv(
            config.SERVICEDESK_CREDENTIAL_KEY,
            'SERVICEDESK_CREDENTIAL_KEY',
          ),
        },
        {
          provide: POST_ENHANCEMENT_SETTINGS,
          useValue: {
            sdpTimeoutMs: config.SDP_TIMEOUT_MS,
            feedback: {
              tokens: FeedbackTokens.fromEnv(config.FEEDBACK_TOKEN_KEY),
              publicBaseUrl: config.PUBLIC_WEBHOOK_BASE_URL,
            },
            // Checked before every request and on the very address each connection goes to.
            ...serviceDeskGuard(config.ALLOW_INSECURE_SERVICEDESK_URLS),
          },
        },
        {
          // One Zoho access token per tenant for every poster replica.
          provide: POSTER_TOKEN_STORE,
          inject: [NATS_CONNECTION, TOPOLOGY, POSTER_CIPHER],
          useFactory: (nc: NatsConnection, topology: Topology, cipher: SecretCipher) =>
            openAccessTokenStore(nc, topology.oauthTokenBucket, cipher),
        },
        { provide: WORKER_CONCURRENCY, useValue: config.WORKER_CONCURRENCY },
        PostEnhancement,
        stageWorker('servicedesk-poster', PostEnhancement),
        // Its per-tenant series at zero from the moment a tenant is known.
        TenantSeries,
      ],
    };
  }
}
