import { Module, type DynamicModule } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { createSynthesizerFromEnv } from '@tep/enhancement-synthesis';
import {
  PlatformModule,
  WORKER_CONCURRENCY,
  stageWorker,
  TenantSeries,
} from '@tep/service-runtime';
import type { SynthesizerConfig } from './config/synthesizer.config';
import { LLM_PRICES, SYNTHESIZER, SynthesizeEnhancement } from './synthesize-enhancement';

@Module({})
export class AppModule {
  static register(config: SynthesizerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('llm-synthesizer', config)],
      providers: [
        {
          provide: SYNTHESIZER,
          useFactory: (logger: PinoLogger) =>
            createSynthesizerFromEnv({
              llmBaseUrl: config.LLM_BASE_URL,
              llmApiKey: config.LLM_API_KEY,
              llmDefaultModel: config.LLM_DEFAULT_MODEL,
              llmTimeoutMs: config.LLM_TIMEOUT_MS,
              onFallback: (_error, reason) =>
                logger.warn({ reason }, 'LLM provider failed; offline synthesizer answered'),
            }),
          inject: [PinoLogger],
        },
        { provide: WORKER_CONCURRENCY, useValue: config.WORKER_CONCURRENCY },
        {
          provide: LLM_PRICES,
          useValue: {
            promptPerMillionUsd: config.LLM_PRICE_PROMPT_PER_MTOK_USD,
            completionPerMillionUsd: config.LLM_PRICE_COMPLETION_PER_MTOK_USD,
          },
        },
        SynthesizeEnhancement,
        stageWorker('llm-synthesizer', SynthesizeEnhancement),
        // Its per-tenant series at zero from the moment a tenant is known.
        TenantSeries,
      ],
    };
  }
}
