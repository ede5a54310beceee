import { AsyncLocalStorage } from 'node:async_hooks';
import {
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Context,
} from '@opentelemetry/api';
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
import { Kvm } from '@nats-io/kv';
import { headers as natsHeaders, nanos, type MsgHdrs } from '@nats-io/transport-node';
import { z } from 'zod';
import {
  DeadLetterSchema,
  StageError,
  dispositionFor,
  stageLanes,
  type DeadLetter,
  type RetryLimits,
  type StageName,
  type Topology,
} from '@tep/contracts';
import { endOfTurn } from './same-turn';

const tracer = trace.getTracer('tep-pipeline');

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

/**
 * Creates (or updates) the streams, durable consumers and KV buckets.
 * Idempotent. One process owns this — the tenant registry (or a test's
 * setup) — and every other service waits for it (awaitTopology): in the
 * production NATS configuration (deploy/, natsPermissions) no other service
 * user may create or change a stream.
 */
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
    {
      // A worker killed on a message's last delivery never dead-letters it;
      // the server's advisory, kept here, lets a live replica do it later.
      name: topology.advisoryStream,
      subjects: [topology.exhaustedAdvisorySubject('*')],
      max_age: nanos(7 * DAY_MS),
      duplicate_window: nanos(2 * 60_000),
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
    // The main lane and the backlog lane: the same consumer settings.
    for (const lane of stageLanes(consumer)) {
      await ensureConsumer(jsm, topology.advisoryStream, {
        durable_name: `${lane.durable}_exhausted`,
        filter_subject: topology.exhaustedAdvisorySubject(lane.durable),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_deliver: 20,
      });
      await ensureConsumer(jsm, topology.ticketsStream, {
        durable_name: lane.durable,
        filter_subject: lane.filterSubject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(consumer.ackWaitMs),
        max_deliver: consumer.maxDeliver,
        max_ack_pending: 1000,
      });
    }
  }
  await ensureConsumer(jsm, topology.ticketsStream, {
    durable_name: topology.feedbackConsumer.durable,
    filter_subject: topology.feedbackConsumer.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000),
    max_deliver: 20,
  });
  // Buckets last: awaitTopology takes the last bucket as "all is in place".
  const kvm = new Kvm(jsm.jetstream());
  for (const [bucket, settings] of bucketSettings(topology)) {
    await kvm.create(bucket, { ...settings, replicas }).catch((error: unknown) => {
      // A bucket made earlier with other settings (e.g. fewer replicas) is kept as it is.
      if (!(error instanceof Error && /already in use/i.test(error.message))) throw error;
    });
  }
}

/** Each KV bucket of the platform and how long its entries live. */
function bucketSettings(topology: Topology): [string, { history: number; ttl?: number }][] {
  return [
    [topology.tenantDirectoryBucket, { history: 1 }],
    // Counters of one-minute windows: two minutes bound what is kept.
    [topology.rateLimitBucket, { history: 1, ttl: 2 * 60_000 }],
    // Zoho's tokens last an hour: two hours of age bound what is kept.
    [topology.oauthTokenBucket, { history: 1, ttl: 2 * 3600_000 }],
  ];
}

/** The streams behind the topology's KV buckets, as JetStream names them. */
export const bucketStreams = (topology: Topology): string[] =>
  bucketSettings(topology).map(([bucket]) => `KV_${bucket}`);

/**
 * Waits until the topology's owner has created every stream and bucket
 * (ensureTopology), checking once a second and saying so through `onWait`
 * — forever unless `deadlineMs` is given: a service that starts before the
 * registry, or while JetStream elects its leaders, keeps trying.
 */
export async function awaitTopology(
  jsm: JetStreamManager,
  topology: Topology,
  options: { onWait?(missing: string, error: unknown): void; deadlineMs?: number } = {},
): Promise<void> {
  const started = Date.now();
  const streams = [
    topology.ticketsStream,
    topology.deadLetterStream,
    topology.advisoryStream,
    ...bucketStreams(topology),
  ];
  for (const stream of streams) {
    for (let attempt = 0; ; attempt++) {
      try {
        await jsm.streams.info(stream);
        break;
      } catch (error) {
        if (options.deadlineMs !== undefined && Date.now() - started > options.deadlineMs) {
          throw new Error(`JetStream topology not in place: ${stream}: ${String(error)}`);
        }
        if (attempt % 10 === 0) options.onWait?.(stream, error);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Parameters<JetStreamManager['consumers']['add']>[1] & { durable_name: string },
): Promise<void> {
  try {
    await jsm.consumers.info(stream, config.durable_name);
    await jsm.consumers.update(stream, config.durable_name, config);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(stream, config);
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

/**
 * Validates, then publishes — with the other publishes of this event-loop
 * turn, in one socket write (endOfTurn) — and waits for JetStream to store
 * the message.
 */
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
  await endOfTurn();
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
  /** Called after each delivery, for the stage-duration histogram. */
  onProcessed?(event: { tenantId: string; seconds: number; outcome: 'done' | 'failed' }): void;
  /** Called as work starts and ends, for the active-tasks gauge. */
  onActivity?(inFlight: number): void;
  logger: StageLogger;
  /** Messages this replica works on at once. */
  concurrency?: number;
}

export interface RunningConsumer {
  /** Stops pulling, finishes in-flight work, hands back anything buffered, then resolves. */
  stop(): Promise<void>;
  readonly inFlight: number;
}

const MAX_BACKLOG_MOVES = 64;
const PULL_EXPIRES_MS = 1_000;
/**
 * A message handed back on stop is redelivered after this: later than any
 * pull request of the stopping consumer can still be served (a redelivery
 * into one whose subscription is gone would sit out the whole ack wait).
 */
const HANDBACK_DELAY_MS = 2 * PULL_EXPIRES_MS;
const FAILED_MOVE_RETRY_MS = 1_000;

/**
 * The stage's worker slots, shared by its two lanes: a main-lane message
 * gets the next free slot before any backlog message, and the backlog uses
 * every slot the main lane leaves idle.
 */
class Slots {
  private used = 0;
  private readonly waiting = { main: [] as (() => void)[], backlog: [] as (() => void)[] };
  constructor(private readonly size: number) {}

  /** Every slot taken, or work already waiting for one: the stage is saturated. */
  get contended(): boolean {
    return this.used >= this.size || this.waiting.main.length + this.waiting.backlog.length > 0;
  }

  acquire(lane: 'main' | 'backlog'): Promise<() => void> {
    if (this.used < this.size && (lane === 'main' || this.waiting.main.length === 0)) {
      this.used++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) =>
      this.waiting[lane].push(() => {
        this.used++;
        resolve(this.releaser());
      }),
    );
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
      (this.waiting.main.shift() ?? this.waiting.backlog.shift())?.();
    };
  }
}

/**
 * Runs a stage's two durable pull consumers — its main lane and its backlog
 * lane — on one set of worker slots: validates each message, calls the
 * handler, acks only after the handler (and its publish) succeeded, naks
 * transient failures with backoff and dead-letters poison or exhausted
 * messages.
 *
 * Fairness under a backlog: JetStream delivers in stream order, so a quiet
 * tenant's ticket queued behind thousands of a noisy tenant's would wait
 * for all of them. While the stage is saturated (every slot busy, or work
 * waiting for one) and the message's tenant already holds half of the
 * slots, the message moves to the stage's backlog lane
 * (republished with its headers, then acked; a crash in between republishes
 * it under the same Nats-Msg-Id, which JetStream drops as a duplicate), so
 * the main lane skims past a flood at publish speed and reaches the other
 * tenants' messages. The backlog lane is worked with every slot the main
 * lane leaves idle, so a tenant alone keeps its throughput. No delivery
 * attempt is spent on fairness.
 */
export async function runStageConsumer<S extends z.ZodType>(
  options: StageConsumerOptions<S>,
): Promise<RunningConsumer> {
  const { js, topology, stage, logger } = options;
  const spec = topology.consumers[stage];
  const concurrency = options.concurrency ?? 4;
  const tenantShare = Math.max(1, Math.ceil(concurrency / 2));
  const slots = new Slots(concurrency);
  const [main, backlog] = await Promise.all(
    stageLanes(spec).map(async ({ durable }) =>
      (await js.consumers.get(topology.ticketsStream, durable)).consume({
        max_messages: concurrency,
        // Short-lived pull requests: after stop() none outlives HANDBACK_DELAY_MS.
        expires: PULL_EXPIRES_MS,
      }),
    ),
  );
  const inFlight = new Set<Promise<void>>();
  const perTenant = new Map<string, number>();
  let stopping = false;

  const start = (msg: JsMsg, tenantId: string, release: () => void) => {
    perTenant.set(tenantId, (perTenant.get(tenantId) ?? 0) + 1);
    const task = processOne(options, msg, spec, spec.ackWaitMs).finally(() => {
      inFlight.delete(task);
      const left = (perTenant.get(tenantId) ?? 1) - 1;
      if (left > 0) perTenant.set(tenantId, left);
      else perTenant.delete(tenantId);
      release();
      options.onActivity?.(inFlight.size);
    });
    inFlight.add(task);
    options.onActivity?.(inFlight.size);
  };

  // Moves in flight at once: the main lane skims a flood at publish speed, not one round trip at a time.
  const moving = new Set<Promise<void>>();
  const toBacklog = async (msg: JsMsg, tenantId: string) => {
    while (moving.size >= MAX_BACKLOG_MOVES) await Promise.race(moving);
    const hdrs = natsHeaders();
    let originalId = '';
    for (const [key, values] of msg.headers ?? []) {
      if (key.toLowerCase() === 'nats-msg-id') originalId = values[0] ?? '';
      else for (const value of values) hdrs.append(key, value);
    }
    // Keyed on the message's own id, not its stream sequence: a replica that
    // diverged in a partition (nats-server 2.9, docs/fault-injection.md) can
    // serve another message at the same sequence, which would be dropped as
    // this one's duplicate.
    const move = endOfTurn()
      .then(() =>
        js.publish(spec.backlogSubject(tenantId), msg.data, {
          headers: hdrs,
          msgID: `backlog:${spec.durable}:${originalId || `seq-${msg.info.streamSequence}`}`,
          timeout: 5_000,
        }),
      )
      .then(
        () => msg.ack(),
        (error: unknown) => {
          // Not moved: it comes back to the main lane shortly.
          logger.warn({ err: String(error), stage, tenant_id: tenantId }, 'Backlog move failed');
          msg.nak(FAILED_MOVE_RETRY_MS);
        },
      )
      .finally(() => moving.delete(move));
    moving.add(move);
  };

  const work = (messages: typeof main, lane: 'main' | 'backlog') =>
    (async () => {
      for await (const msg of messages) {
        // Shutting down: hand it back now rather than after a full ack wait.
        if (stopping) {
          msg.nak(HANDBACK_DELAY_MS);
          continue;
        }
        const tenantId = msg.headers?.get(HEADER.tenantId) || 'unknown';
        if (lane === 'main' && slots.contended && (perTenant.get(tenantId) ?? 0) >= tenantShare) {
          await toBacklog(msg, tenantId);
          continue;
        }
        const release = await slots.acquire(lane);
        if (stopping) {
          release();
          msg.nak(HANDBACK_DELAY_MS);
          continue;
        }
        start(msg, tenantId, release);
      }
    })().catch((error: unknown) => {
      logger.error({ err: error, stage, lane }, 'Consumer loop ended with an error');
    });
  const loops = [work(main, 'main'), work(backlog, 'backlog')];

  return {
    get inFlight() {
      return inFlight.size;
    },
    async stop() {
      // Stop pulling first (what is buffered is handed back by the loops), then finish what runs.
      stopping = true;
      await Promise.all([main.close(), backlog.close()]);
      await Promise.allSettled([...inFlight, ...moving]);
      await Promise.all(loops);
    },
  };
}

async function processOne<S extends z.ZodType>(
  options: StageConsumerOptions<S>,
  msg: JsMsg,
  limits: RetryLimits,
  ackWaitMs: number,
): Promise<void> {
  const { stage, logger } = options;
  const tenantId = msg.headers?.get(HEADER.tenantId) || 'unknown';
  const jobId = msg.headers?.get(HEADER.jobId) || 'unknown';
  const deliveryCount = msg.info.deliveryCount;
  const log = { stage, tenant_id: tenantId, job_id: jobId, delivery: deliveryCount };
  const started = performance.now();
  let heartbeat: NodeJS.Timeout | undefined;
  const span = tracer.startSpan(
    `${stage} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { tenant_id: tenantId, job_id: jobId, 'messaging.delivery_count': deliveryCount },
    },
    extractTraceContext(msg.headers),
  );
  try {
    const message = parseMessage(options.schema, msg);
    assertOneTenant(msg, tenantId, message);
    // Keep the delivery ours while the handler waits on SDP or the LLM (e.g. a
    // long Retry-After): otherwise JetStream hands it to another slot and the
    // same job could be worked twice at once.
    heartbeat = setInterval(() => msg.working(), Math.max(1_000, ackWaitMs / 3));
    const spanContext = span.spanContext();
    const fields: JobLogFields = isSpanContextValid(spanContext)
      ? { tenant_id: tenantId, job_id: jobId, trace_id: spanContext.traceId }
      : { tenant_id: tenantId, job_id: jobId };
    await jobLogFields.run(fields, () =>
      context.with(trace.setSpan(context.active(), span), () =>
        options.handle(message, {
          tenantId,
          jobId,
          deliveryCount,
          subject: msg.subject,
          working: () => msg.working(),
        }),
      ),
    );
    // Double ack: once confirmed, the server never redelivers this message.
    // With the turn's other acks and publishes in one socket write.
    await endOfTurn();
    await msg.ackAck();
    options.onProcessed?.({
      tenantId,
      seconds: (performance.now() - started) / 1000,
      outcome: 'done',
    });
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    options.onProcessed?.({
      tenantId,
      seconds: (performance.now() - started) / 1000,
      outcome: 'failed',
    });
    const disposition = dispositionFor(error, deliveryCount, limits);
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
        await deadLetter(options, { subject: msg.subject, data: msg.data, seq: msg.seq }, error, {
          tenantId,
          jobId,
          deliveryCount,
        }).then(
          () => {
            logger.error({ ...log, err: reason }, 'Stage failed permanently, dead-lettered');
            // No reason argument: nats-server 2.9 ignores a TERM that carries one,
            // and the message would keep coming back (found by the fault suite).
            msg.term();
          },
          (dlqError: unknown) => {
            // Could not record the failure: keep the message and try later.
            logger.error({ ...log, err: String(dlqError) }, 'Dead-lettering failed, will retry');
            msg.nak(5_000);
          },
        );
    }
  } finally {
    clearInterval(heartbeat);
    span.end();
  }
}

/**
 * The subject, the header and the body must name the same tenant: a message
 * crafted to smuggle another tenant's id is poison, never processed.
 */
function assertOneTenant(msg: JsMsg, headerTenant: string, message: unknown): void {
  const subjectTenant = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
  const bodyTenant = (message as { tenant_id?: unknown }).tenant_id;
  if (subjectTenant !== headerTenant || bodyTenant !== headerTenant) {
    throw new StageError('invalid_message', 'Tenant mismatch between subject, header and body');
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

async function deadLetter(
  options: Pick<StageConsumerOptions<z.ZodType>, 'js' | 'topology' | 'stage' | 'onDeadLetter'>,
  msg: { subject: string; data: Uint8Array; seq: number },
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

/** What every log line written while a job's delivery is handled carries. */
export interface JobLogFields {
  tenant_id: string;
  job_id: string;
  trace_id?: string;
}
const jobLogFields = new AsyncLocalStorage<JobLogFields>();

/**
 * The fields of the job being handled in this async context (undefined
 * outside one): the logger adds them to every line, so no handler has to.
 * Its own store, not OpenTelemetry's context, so it holds with tracing off.
 */
export const currentJobLogFields = (): JobLogFields | undefined => jobLogFields.getStore();

const ExhaustedAdvisorySchema = z.object({
  stream: z.string(),
  consumer: z.string(),
  stream_seq: z.number(),
  deliveries: z.number(),
});

/**
 * Dead-letters messages whose deliveries ran out without our code deciding
 * (e.g. the worker was killed on the last attempt): the server's
 * MAX_DELIVERIES advisory names the stream sequence; the message is read
 * back and recorded like any other dead letter (same de-duplication id).
 */
export async function runExhaustedDeliveryCapture(
  options: Pick<
    StageConsumerOptions<z.ZodType>,
    'js' | 'topology' | 'stage' | 'onDeadLetter' | 'logger'
  >,
): Promise<RunningConsumer> {
  const { js, topology, stage, logger } = options;
  const jsm = await js.jetstreamManager();
  const spec = topology.consumers[stage];
  // Both lanes of the stage (main and backlog) have their advisories.
  const lanes = await Promise.all(
    stageLanes(spec).map(async ({ durable }) =>
      (await js.consumers.get(topology.advisoryStream, `${durable}_exhausted`)).consume({
        max_messages: 4,
      }),
    ),
  );
  let inFlight = 0;
  const capture = async (messages: (typeof lanes)[number]) => {
    for await (const msg of messages) {
      inFlight++;
      try {
        const advisory = ExhaustedAdvisorySchema.parse(msg.json());
        const stored = await jsm.streams.getMessage(advisory.stream, { seq: advisory.stream_seq });
        if (stored) {
          await deadLetter(
            options,
            { subject: stored.subject, data: stored.data, seq: stored.seq },
            new StageError(
              'internal',
              `Deliveries exhausted (${advisory.deliveries}) without a result; the worker may have crashed`,
            ),
            {
              tenantId: stored.header?.get(HEADER.tenantId) || 'unknown',
              jobId: stored.header?.get(HEADER.jobId) || 'unknown',
              deliveryCount: advisory.deliveries,
            },
          );
          logger.error(
            { stage, stream_seq: advisory.stream_seq },
            'Exhausted message dead-lettered',
          );
        }
        await msg.ackAck();
      } catch (error) {
        logger.warn(
          { stage, err: String(error) },
          'Could not dead-letter an exhausted message, will retry',
        );
        msg.nak(5_000);
      } finally {
        inFlight--;
      }
    }
  };
  const loops = lanes.map(capture);
  return {
    get inFlight() {
      return inFlight;
    },
    async stop() {
      await Promise.all(lanes.map((messages) => messages.close()));
      await Promise.all(loops);
    },
  };
}
