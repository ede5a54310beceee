import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { PinoLogger } from 'nestjs-pino';
import {
  TicketContextualizedSchema,
  type StageContext,
  type StageName,
  type TicketContextualized,
  type Topology,
} from '@tep/contracts';
import { TenantDatabase } from '@tep/data';
import { JETSTREAM, PipelineMetrics, StageWorker, TOPOLOGY } from '@tep/service-runtime';
import { SynthesizeEnhancement } from './synthesize-enhancement.handler';

export const SYNTHESIZER_CONCURRENCY = Symbol('SYNTHESIZER_CONCURRENCY');

@Injectable()
export class SynthesizeEnhancementWorker extends StageWorker<typeof TicketContextualizedSchema> {
  protected readonly stage: StageName = 'llm-synthesizer';
  protected readonly schema = TicketContextualizedSchema;

  constructor(
    @Inject(JETSTREAM) js: JetStreamClient,
    @Inject(TOPOLOGY) topology: Topology,
    database: TenantDatabase,
    metrics: PipelineMetrics,
    logger: PinoLogger,
    @Inject(SYNTHESIZER_CONCURRENCY) concurrency: number,
    private readonly synthesizeEnhancement: SynthesizeEnhancement,
  ) {
    super(js, topology, database, metrics, logger, concurrency);
  }

  protected handle(message: TicketContextualized, ctx: StageContext): Promise<void> {
    return this.synthesizeEnhancement.execute(message, ctx);
  }
}
