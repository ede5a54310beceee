import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type Type,
} from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { PinoLogger } from 'nestjs-pino';
import { stageLanes, type DeadLetter, type StageName, type Topology } from '@tep/contracts';
import {
  STAGES,
  publishNext,
  runExhaustedDeliveryCapture,
  runStageConsumer,
  type RunningConsumer,
  type StageContext,
  type StageInput,
  type StageResult,
} from '@tep/pipeline';
import { TenantDatabase, isUuid, recordJobFailed, recordJobSkipped } from '@tep/data';
import { PipelineMetrics } from './metrics';
import { JETSTREAM, TOPOLOGY } from './tokens';

const QUEUE_DEPTH_INTERVAL_MS = 5_000;

/** Messages one worker replica processes at once (from WORKER_CONCURRENCY). */
export const WORKER_CONCURRENCY = Symbol('WORKER_CONCURRENCY');

/**
 * A stage's use case: what the worker calls for each message (its input as
 * declared in STAGES, validated). It returns the next message or why the
 * job ends here; it never publishes or records the outcome itself.
 */
export interface StageHandler<N extends StageName> {
  execute(message: StageInput<N>, ctx: StageContext): Promise<StageResult<N>>;
}

/**
 * The worker provider for a stage: a durable JetStream consumer that calls
 * the stage's use case for each message and acts on its result. Apps list
 * `stageWorker('context-gatherer', GatherContext)` among their providers;
 * everything else is shared.
 */
export function stageWorker<N extends StageName>(
  stage: N,
  handler: Type<StageHandler<N>>,
): Type<StageWorker<N>> {
  @Injectable()
  class Worker extends StageWorker<N> {
    constructor(
      @Inject(JETSTREAM) js: JetStreamClient,
      @Inject(TOPOLOGY) topology: Topology,
      database: TenantDatabase,
      metrics: PipelineMetrics,
      logger: PinoLogger,
      @Inject(WORKER_CONCURRENCY) concurrency: number,
      @Inject(handler) useCase: StageHandler<N>,
    ) {
      super({ stage, useCase }, js, topology, database, metrics, logger, concurrency);
    }
  }
  Object.defineProperty(Worker, 'name', { value: `${handler.name}Worker` });
  return Worker;
}

/**
 * A pipeline stage's JetStream consumer, started once the app is up and
 * stopped (in-flight work finished) before connections close.
 */
export class StageWorker<N extends StageName>
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly stage: N;
  private readonly useCase: StageHandler<N>;
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
    definition: { stage: N; useCase: StageHandler<N> },
    private readonly js: JetStreamClient,
    private readonly topology: Topology,
    private readonly database: TenantDatabase,
    private readonly metrics: PipelineMetrics,
    private readonly logger: PinoLogger,
    private readonly concurrency: number,
  ) {
    this.stage = definition.stage;
    this.useCase = definition.useCase;
  }

  /** The handler's result: hand the next message on, or record why the job ends here. */
  private async complete(message: StageInput<N>, result: StageResult<N>): Promise<void> {
    const { tenant_id: tenantId, job_id: jobId } = message;
    switch (result.kind) {
      case 'next':
        await publishNext(this.js, this.topology, this.stage, { tenantId, jobId }, result.message);
        return;
      case 'skipped':
        await this.database.withTenant(tenantId, (tx) =>
          recordJobSkipped(tx, { jobId, ticketId: result.ticketId, reason: result.reason }),
        );
        this.metrics.outcomes.inc({ tenant_id: tenantId, outcome: 'skipped' });
        this.logger.info({ stage: this.stage, reason: result.reason }, 'No note for this job');
        return;
      case 'ended':
        this.logger.info({ stage: this.stage, reason: result.reason }, 'Job already ended');
        return;
    }
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
      schema: STAGES[this.stage].input,
      handle: async (message: StageInput<N>, ctx) =>
        this.complete(message, await this.useCase.execute(message, ctx)),
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
