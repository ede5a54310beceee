import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { PinoLogger } from 'nestjs-pino';
import {
  TicketReceivedSchema,
  type StageName,
  type TicketReceived,
  type Topology,
} from '@tep/contracts';
import { TenantDatabase } from '@tep/data';
import { JETSTREAM, PipelineMetrics, StageWorker, TOPOLOGY } from '@tep/service-runtime';
import { GatherContext } from './gather-context.handler';

export const GATHERER_CONCURRENCY = Symbol('GATHERER_CONCURRENCY');

@Injectable()
export class GatherContextWorker extends StageWorker<typeof TicketReceivedSchema> {
  protected readonly stage: StageName = 'context-gatherer';
  protected readonly schema = TicketReceivedSchema;

  constructor(
    @Inject(JETSTREAM) js: JetStreamClient,
    @Inject(TOPOLOGY) topology: Topology,
    database: TenantDatabase,
    metrics: PipelineMetrics,
    logger: PinoLogger,
    @Inject(GATHERER_CONCURRENCY) concurrency: number,
    private readonly gatherContext: GatherContext,
  ) {
    super(js, topology, database, metrics, logger, concurrency);
  }

  protected handle(message: TicketReceived): Promise<void> {
    return this.gatherContext.execute(message);
  }
}
