import { Module, type DynamicModule } from '@nestjs/common';
import { SecretCipher } from '@tep/encryption';
import { TicketEnhancedSchema } from '@tep/contracts';
import { PlatformModule, WORKER_CONCURRENCY, stageWorker } from '@tep/service-runtime';
import { assertPublicUrl } from '@tep/url-guard';
import type { PosterConfig } from './config/poster.config';
import { POSTER_CIPHER, POST_ENHANCEMENT_SETTINGS, PostEnhancement } from './post-enhancement';

@Module({})
export class AppModule {
  static register(config: PosterConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('servicedesk-poster', config)],
      providers: [
        { provide: POSTER_CIPHER, useValue: SecretCipher.fromEnv(config.TENANT_ENCRYPTION_KEY) },
        {
          provide: POST_ENHANCEMENT_SETTINGS,
          useValue: {
            sdpTimeoutMs: config.SDP_TIMEOUT_MS,
            // Checked again at every connect: DNS may have changed since the URL was saved.
            beforeConnect: async (url: URL) => {
              await assertPublicUrl(url, { allowInsecure: config.ALLOW_INSECURE_SERVICEDESK_URLS });
            },
          },
        },
        { provide: WORKER_CONCURRENCY, useValue: config.WORKER_CONCURRENCY },
        PostEnhancement,
        stageWorker('servicedesk-poster', TicketEnhancedSchema, PostEnhancement),
      ],
    };
  }
}
