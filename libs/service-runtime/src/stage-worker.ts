import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { TenantDatabase, isUuid, recordJobFailed } from '@tep/data';
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

  protected constructor(
    private readonly js: JetStreamClient,
    private readonly topology: Topology,
    private readonly database: TenantDatabase,
    protected readonly logger: PinoLogger,
    private readonly concurrency: number,
  ) {}

  protected abstract handle(message: z.infer<S>, ctx: StageContext): Promise<void>;

  /** After the dead letter is stored: the job shows as failed, with its reason. */
  private async onDeadLetter(deadLetter: DeadLetter): Promise<void> {
    if (!isUuid(deadLetter.tenant_id) || !isUuid(deadLetter.job_id)) return;
    if (deadLetter.error_code === 'tenant_not_found') return;
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
    });
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
