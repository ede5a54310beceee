import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { PinoLogger } from 'nestjs-pino';
import {
  TicketEnhancedSchema,
  type StageContext,
  type StageName,
  type TicketEnhanced,
  type Topology,
} from '@tep/contracts';
import { TenantDatabase } from '@tep/data';
import { JETSTREAM, PipelineMetrics, StageWorker, TOPOLOGY } from '@tep/service-runtime';
import { PostEnhancement } from './post-enhancement.handler';

export const POSTER_CONCURRENCY = Symbol('POSTER_CONCURRENCY');

@Injectable()
export class PostEnhancementWorker extends StageWorker<typeof TicketEnhancedSchema> {
  protected readonly stage: StageName = 'servicedesk-poster';
  protected readonly schema = TicketEnhancedSchema;

  constructor(
    @Inject(JETSTREAM) js: JetStreamClient,
    @Inject(TOPOLOGY) topology: Topology,
    database: TenantDatabase,
    metrics: PipelineMetrics,
    logger: PinoLogger,
    @Inject(POSTER_CONCURRENCY) concurrency: number,
    private readonly postEnhancement: PostEnhancement,
  ) {
    super(js, topology, database, metrics, logger, concurrency);
  }

  protected handle(message: TicketEnhanced, ctx: StageContext): Promise<void> {
    return this.postEnhancement.execute(message, ctx.deliveryCount > 1);
  }
}
