import { Module, type DynamicModule } from '@nestjs/common';
import {
  PlatformModule,
  WORKER_CONCURRENCY,
  stageWorker,
  TenantSeries,
} from '@tep/service-runtime';
import type { GathererConfig } from './config/gatherer.config';
import { GATHER_CONTEXT_SETTINGS, GatherContext } from './gather-context';
import { FeedbackRecorder } from './record-feedback';

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
        { provide: WORKER_CONCURRENCY, useValue: config.WORKER_CONCURRENCY },
        GatherContext,
        stageWorker('context-gatherer', GatherContext),
        // Its per-tenant series at zero from the moment a tenant is known.
        TenantSeries,
        FeedbackRecorder,
      ],
    };
  }
}
