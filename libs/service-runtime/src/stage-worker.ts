import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type Type,
} from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { PinoLogger } from 'nestjs-pino';
import type { z } from 'zod';
import { stageLanes, type DeadLetter, type StageName, type Topology } from '@tep/contracts';
import {
  runExhaustedDeliveryCapture,
  runStageConsumer,
  type RunningConsumer,
  type StageContext,
} from '@tep/pipeline';
import { TenantDatabase, isUuid, recordJobFailed } from '@tep/data';
import { PipelineMetrics } from './metrics';
import { JETSTREAM, TOPOLOGY } from './tokens';

const QUEUE_DEPTH_INTERVAL_MS = 5_000;

/** Messages one worker replica processes at once (from WORKER_CONCURRENCY). */
export const WORKER_CONCURRENCY = Symbol('WORKER_CONCURRENCY');

/** A stage's use case: what the worker calls for each message. */
export interface StageHandler<S extends z.ZodType> {
  execute(message: z.infer<S>, ctx: StageContext): Promise<void>;
}

/**
 * The worker provider for a stage: a durable JetStream consumer that calls
 * the stage's use case for each message. Apps list
 * `stageWorker('context-gatherer', TicketReceivedSchema, GatherContext)`
 * among their providers; everything else is shared.
 */
export function stageWorker<S extends z.ZodType>(
  stage: StageName,
  schema: S,
  handler: Type<StageHandler<S>>,
): Type<StageWorker<S>> {
  @Injectable()
  class Worker extends StageWorker<S> {
    constructor(
      @Inject(JETSTREAM) js: JetStreamClient,
      @Inject(TOPOLOGY) topology: Topology,
      database: TenantDatabase,
      metrics: PipelineMetrics,
      logger: PinoLogger,
      @Inject(WORKER_CONCURRENCY) concurrency: number,
      @Inject(handler) useCase: StageHandler<S>,
    ) {
      super({ stage, schema, useCase }, js, topology, database, metrics, logger, concurrency);
    }
  }
  Object.defineProperty(Worker, 'name', { value: `${handler.name}Worker` });
  return Worker;
}

/**
 * A pipeline stage's JetStream consumer, started once the app is up and
 * stopped (in-flight work finished) before connections close.
 */
export class StageWorker<S extends z.ZodType>
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly stage: StageName;
  private readonly schema: S;
  private readonly useCase: StageHandler<S>;
  private running?: RunningConsumer;
  private exhausted?: RunningConsumer;
  private depthTimer?: NodeJS.Timeout;

  /** JetStream's count of messages not yet delivered to this stage: the queue depth. */
  private async sampleQueueDepth(): Promise<void> {
    try {
      const jsm = await this.js.jetstreamManager();
      const spec = this.topology.consumers[this.stage];
      // Both lanes: the backlog lane holds a flooding tenant's moved messages.
      const lanes = await Promise.all(
        stageLanes(spec).map(({ durable }) =>
          jsm.consumers.info(this.topology.ticketsStream, durable),
        ),
      );
      this.metrics.queueDepth.set(
        { stage: this.stage },
        lanes.reduce((sum, info) => sum + info.num_pending, 0),
      );
    } catch {
      // NATS briefly away: keep the last value; /health reports the outage.
    }
  }

  protected constructor(
    definition: { stage: StageName; schema: S; useCase: StageHandler<S> },
    private readonly js: JetStreamClient,
    private readonly topology: Topology,
    private readonly database: TenantDatabase,
    private readonly metrics: PipelineMetrics,
    private readonly logger: PinoLogger,
    private readonly concurrency: number,
  ) {
    this.stage = definition.stage;
    this.schema = definition.schema;
    this.useCase = definition.useCase;
  }

  /** After the dead letter is stored: the job shows as failed, with its reason. */
  private async onDeadLetter(deadLetter: DeadLetter): Promise<void> {
    this.metrics.deadLetters.inc({ stage: deadLetter.stage, reason: deadLetter.error_code });
    if (!isUuid(deadLetter.tenant_id) || !isUuid(deadLetter.job_id)) return;
    if (deadLetter.error_code === 'tenant_not_found') return;
    this.metrics.outcomes.inc({ tenant_id: deadLetter.tenant_id, outcome: 'failed' });
    await this.database.withTenant(deadLetter.tenant_id, (tx) =>
      recordJobFailed(tx, {
        jobId: deadLetter.job_id,
        ticketId: ticketIdOf(deadLetter.original_payload) ?? 'unknown',
        error: `${deadLetter.stage}: ${deadLetter.error}`,
      }),
    );
  }

  get inFlight(): number {
    return this.running?.inFlight ?? 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.running = await runStageConsumer({
      js: this.js,
      topology: this.topology,
      stage: this.stage,
      schema: this.schema,
      handle: (message, ctx) => this.useCase.execute(message, ctx),
      onDeadLetter: (deadLetter) => this.onDeadLetter(deadLetter),
      logger: {
        info: (obj, msg) => this.logger.info(obj, msg),
        warn: (obj, msg) => this.logger.warn(obj, msg),
        error: (obj, msg) => this.logger.error(obj, msg),
      },
      concurrency: this.concurrency,
      onActivity: (inFlight) => this.metrics.activeTasks.set({ stage: this.stage }, inFlight),
      onProcessed: ({ seconds, outcome }) =>
        this.metrics.stageDuration.observe({ stage: this.stage, outcome }, seconds),
    });
    this.depthTimer = setInterval(
      () => void this.sampleQueueDepth(),
      QUEUE_DEPTH_INTERVAL_MS,
    ).unref();
    await this.sampleQueueDepth();
    this.exhausted = await runExhaustedDeliveryCapture({
      js: this.js,
      topology: this.topology,
      stage: this.stage,
      onDeadLetter: (deadLetter) => this.onDeadLetter(deadLetter),
      logger: this.logger,
    });
    this.logger.info({ stage: this.stage, concurrency: this.concurrency }, 'Consumer started');
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.depthTimer);
    await Promise.all([this.running?.stop(), this.exhausted?.stop()]);
  }
}

function ticketIdOf(payload: string): string | undefined {
  try {
    const ticketId = (JSON.parse(payload) as { ticket?: { ticket_id?: unknown } }).ticket
      ?.ticket_id;
    return typeof ticketId === 'string' ? ticketId : undefined;
  } catch {
    return undefined;
  }
}
