import { Module, type DynamicModule } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { createSynthesizerFromEnv } from '@tep/enhancement-synthesis';
import { PlatformModule } from '@tep/service-runtime';
import type { SynthesizerConfig } from './config/synthesizer.config';
import {
  SYNTHESIZER,
  SYNTHESIZER_CONCURRENCY,
  SynthesizeEnhancement,
  SynthesizeEnhancementWorker,
} from './synthesize-enhancement';

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
        { provide: SYNTHESIZER_CONCURRENCY, useValue: config.WORKER_CONCURRENCY },
        SynthesizeEnhancement,
        SynthesizeEnhancementWorker,
      ],
    };
  }
}
