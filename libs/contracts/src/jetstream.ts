import { context, propagation, trace, type Context } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
} from '@nats-io/jetstream';
import { headers as natsHeaders, nanos, type MsgHdrs } from '@nats-io/transport-node';
import type { z } from 'zod';
import { DeadLetterSchema, type DeadLetter } from './messages';
import { StageError, dispositionFor } from './stage-error';
import type { StageName, Topology } from './topology';

/** Headers every message carries besides `Nats-Msg-Id`. */
export const HEADER = {
  tenantId: 'Tep-Tenant-Id',
  jobId: 'Tep-Job-Id',
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TopologyOptions {
  /** R3 in a cluster; 1 on a single server. */
  replicas?: number;
  /** Window within which a repeated Nats-Msg-Id is dropped. */
  duplicateWindowMs?: number;
}

/** Creates (or updates) the streams and durable consumers. Idempotent. */
export async function ensureTopology(
  jsm: JetStreamManager,
  topology: Topology,
  options: TopologyOptions = {},
): Promise<void> {
  const replicas = options.replicas ?? 1;
  const streams = [
    {
      name: topology.ticketsStream,
      subjects: [...topology.ticketSubjects],
      max_age: nanos(7 * DAY_MS),
      duplicate_window: nanos(options.duplicateWindowMs ?? 2 * 60_000),
    },
    {
      name: topology.deadLetterStream,
      subjects: [...topology.deadLetterSubjects],
      max_age: nanos(30 * DAY_MS),
      duplicate_window: nanos(options.duplicateWindowMs ?? 2 * 60_000),
    },
  ];
  for (const stream of streams) {
    const config = {
      ...stream,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
    };
    try {
      await jsm.streams.info(stream.name);
      await jsm.streams.update(stream.name, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.streams.add(config);
    }
  }
  for (const consumer of Object.values(topology.consumers)) {
    const config = {
      durable_name: consumer.durable,
      filter_subject: consumer.filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(consumer.ackWaitMs),
      max_deliver: consumer.maxDeliver,
      max_ack_pending: 1000,
    };
    try {
      await jsm.consumers.info(topology.ticketsStream, consumer.durable);
      await jsm.consumers.update(topology.ticketsStream, consumer.durable, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.consumers.add(topology.ticketsStream, config);
    }
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}

export interface PublishInput<S extends z.ZodType> {
  subject: string;
  schema: S;
  message: z.input<S>;
  /** De-duplication key: a redelivered stage republishes with the same id. */
  msgId: string;
  tenantId: string;
  jobId: string;
  timeoutMs?: number;
}

/** Validates, then publishes and waits for JetStream to store the message. */
export async function publishMessage<S extends z.ZodType>(
  js: JetStreamClient,
  input: PublishInput<S>,
): Promise<PubAck> {
  const message = input.schema.parse(input.message) as unknown;
  const hdrs = natsHeaders();
  hdrs.set(HEADER.tenantId, input.tenantId);
  hdrs.set(HEADER.jobId, input.jobId);
  propagation.inject(context.active(), hdrs, {
    set: (carrier, key, value) => carrier.set(key, value),
  });
  return js.publish(input.subject, JSON.stringify(message), {
    msgID: input.msgId,
    headers: hdrs,
    timeout: input.timeoutMs ?? 5_000,
  });
}

/** The W3C trace context a message carried, for the handler's spans. */
export function extractTraceContext(hdrs: MsgHdrs | undefined): Context {
  if (!hdrs) return context.active();
  return propagation.extract(context.active(), hdrs, {
    get: (carrier, key) => carrier.get(key) || undefined,
    keys: (carrier) => carrier.keys(),
  });
}

export interface StageContext {
  readonly tenantId: string;
  readonly jobId: string;
  readonly deliveryCount: number;
  readonly subject: string;
  /** Tells JetStream the work is still going (resets the ack wait). */
  working(): void;
}

export interface StageLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StageConsumerOptions<S extends z.ZodType> {
  js: JetStreamClient;
  topology: Topology;
  stage: StageName;
  schema: S;
  handle(message: z.infer<S>, ctx: StageContext): Promise<void>;
  /** Called after the dead letter is stored, e.g. to mark the job failed. */
  onDeadLetter?(deadLetter: DeadLetter): Promise<void>;
  logger: StageLogger;
  /** Messages pulled at once; bounds this replica's concurrency. */
  batchSize?: number;
}

export interface RunningConsumer {
  /** Stops pulling, lets in-flight messages finish, then resolves. */
  stop(): Promise<void>;
  readonly inFlight: number;
}

/**
 * Runs a durable pull consumer: validates each message, calls the handler,
 * acks only after the handler (and its publish) succeeded, naks transient
 * failures with backoff and dead-letters poison or exhausted messages.
 */
export async function runStageConsumer<S extends z.ZodType>(
  options: StageConsumerOptions<S>,
): Promise<RunningConsumer> {
  const { js, topology, stage, logger } = options;
  const spec = topology.consumers[stage];
  const consumer = await js.consumers.get(topology.ticketsStream, spec.durable);
  const messages = await consumer.consume({ max_messages: options.batchSize ?? 4 });
  const inFlight = new Set<Promise<void>>();
  const concurrency = options.batchSize ?? 4;
  let stopping = false;

  const loop = (async () => {
    for await (const msg of messages) {
      const task = processOne(options, msg, spec.maxDeliver).finally(() => inFlight.delete(task));
      inFlight.add(task);
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (stopping) break;
    }
  })().catch((error: unknown) => {
    logger.error({ err: error, stage }, 'Consumer loop ended with an error');
  });

  return {
    get inFlight() {
      return inFlight.size;
    },
    async stop() {
      stopping = true;
      await messages.close();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}

async function processOne<S extends z.ZodType>(
  options: StageConsumerOptions<S>,
  msg: JsMsg,
  maxDeliver: number,
): Promise<void> {
  const { stage, logger } = options;
  const tenantId = msg.headers?.get(HEADER.tenantId) || 'unknown';
  const jobId = msg.headers?.get(HEADER.jobId) || 'unknown';
  const deliveryCount = msg.info.deliveryCount;
  const log = { stage, tenant_id: tenantId, job_id: jobId, delivery: deliveryCount };
  try {
    const message = parseMessage(options.schema, msg);
    await context.with(extractTraceContext(msg.headers), () =>
      options.handle(message, {
        tenantId,
        jobId,
        deliveryCount,
        subject: msg.subject,
        working: () => msg.working(),
      }),
    );
    // Double ack: once confirmed, the server never redelivers this message.
    await msg.ackAck();
  } catch (error) {
    const disposition = dispositionFor(error, deliveryCount, maxDeliver);
    const reason = error instanceof Error ? error.message : String(error);
    switch (disposition.kind) {
      case 'retry':
        logger.warn(
          { ...log, err: reason, retry_in_ms: disposition.delayMs },
          'Stage failed, will retry',
        );
        msg.nak(disposition.delayMs);
        return;
      case 'dead_letter':
        await deadLetter(options, msg, error, { tenantId, jobId, deliveryCount }).then(
          () => {
            logger.error({ ...log, err: reason }, 'Stage failed permanently, dead-lettered');
            msg.term(reason.slice(0, 200));
          },
          (dlqError: unknown) => {
            // Could not record the failure: keep the message and try later.
            logger.error({ ...log, err: String(dlqError) }, 'Dead-lettering failed, will retry');
            msg.nak(5_000);
          },
        );
    }
  }
}

function parseMessage<S extends z.ZodType>(schema: S, msg: JsMsg): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(msg.data));
  } catch {
    throw new StageError('invalid_message', 'Message is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new StageError('invalid_message', `Message failed its schema: ${fields}`);
  }
  return parsed.data;
}

async function deadLetter<S extends z.ZodType>(
  options: StageConsumerOptions<S>,
  msg: JsMsg,
  error: unknown,
  ids: { tenantId: string; jobId: string; deliveryCount: number },
): Promise<void> {
  const record: DeadLetter = {
    job_id: ids.jobId,
    tenant_id: ids.tenantId,
    stage: options.stage,
    error_code: error instanceof StageError ? error.code : 'internal',
    error: (error instanceof Error ? error.message : String(error)).slice(0, 2000),
    deliveries: ids.deliveryCount,
    original_subject: msg.subject,
    original_payload: new TextDecoder().decode(msg.data),
    failed_at: new Date().toISOString(),
  };
  await publishMessage(options.js, {
    subject: options.topology.subjects.deadLetter(options.stage, ids.tenantId),
    schema: DeadLetterSchema,
    message: record,
    msgId: `dead:${options.stage}:${ids.jobId}:${msg.seq}`,
    tenantId: ids.tenantId,
    jobId: ids.jobId,
  });
  await options.onDeadLetter?.(record);
}

/** The active span, if any, for log correlation. */
export function activeTraceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}
