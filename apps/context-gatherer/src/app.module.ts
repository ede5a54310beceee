import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@tep/service-runtime';
import type { GathererConfig } from './config/gatherer.config';
import {
  GATHERER_CONCURRENCY,
  GATHER_CONTEXT_SETTINGS,
  GatherContext,
  GatherContextWorker,
} from './gather-context';

@Module({})
export class AppModule {
  static register(config: GathererConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('context-gatherer', config)],
      providers: [
        {
          provide: GATHER_CONTEXT_SETTINGS,
          useValue: { sourceTimeoutMs: config.CONTEXT_SOURCE_TIMEOUT_MS },
        },
        { provide: GATHERER_CONCURRENCY, useValue: config.WORKER_CONCURRENCY },
        GatherContext,
        GatherContextWorker,
      ],
    };
  }
}
