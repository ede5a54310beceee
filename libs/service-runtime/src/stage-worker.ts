import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { TenantDatabase, isUuid, recordJobFailed } from '@tep/data';
import type { PipelineMetrics } from './metrics';

const QUEUE_DEPTH_INTERVAL_MS = 5_000;
import type { JetStreamClient } from '@nats-io/jetstream';
import type { PinoLogger } from 'nestjs-pino';
import type { z } from 'zod';
import {
  runExhaustedDeliveryCapture,
  runStageConsumer,
  type DeadLetter,
  type RunningConsumer,
  type StageContext,
  type StageName,
  type Topology,
} from '@tep/contracts';

/**
 * A pipeline stage's JetStream consumer, started once the app is up and
 * stopped (in-flight work finished) before connections close. Subclasses
 * only build the use case's input and call it.
 */
export abstract class StageWorker<S extends z.ZodType>
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  protected abstract readonly stage: StageName;
  protected abstract readonly schema: S;
  private running?: RunningConsumer;
  private exhausted?: RunningConsumer;
  private depthTimer?: NodeJS.Timeout;

  /** JetStream's count of messages not yet delivered to this stage: the queue depth. */
  private async sampleQueueDepth(): Promise<void> {
    try {
      const jsm = await this.js.jetstreamManager();
      const info = await jsm.consumers.info(
        this.topology.ticketsStream,
        this.topology.consumers[this.stage].durable,
      );
      this.metrics.queueDepth.set({ stage: this.stage }, info.num_pending);
    } catch {
      // NATS briefly away: keep the last value; /health reports the outage.
    }
  }

  protected constructor(
    private readonly js: JetStreamClient,
    private readonly topology: Topology,
    private readonly database: TenantDatabase,
    private readonly metrics: PipelineMetrics,
    protected readonly logger: PinoLogger,
    private readonly concurrency: number,
  ) {}

  protected abstract handle(message: z.infer<S>, ctx: StageContext): Promise<void>;

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
      handle: (message, ctx) => this.handle(message, ctx),
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
