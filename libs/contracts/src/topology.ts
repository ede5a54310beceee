/**
 * Names of every stream, subject, consumer and bucket the services share.
 * A namespace prefix lets tests (and side-by-side deployments) run on one
 * NATS server without seeing each other's messages.
 */
export type StageName = 'context-gatherer' | 'llm-synthesizer' | 'servicedesk-poster';

/** One durable pull consumer of a stage. */
export interface StageLane {
  readonly durable: string;
  readonly filterSubject: string;
}

export interface StageConsumer extends StageLane {
  /**
   * The stage's backlog lane: a tenant holding its share of the workers
   * while others wait has its further messages moved here, so the main
   * lane reaches the other tenants' messages behind a flood (see
   * runStageConsumer). Same settings as the main consumer.
   */
  readonly backlog: StageLane;
  /** The backlog subject of a tenant's message for this stage. */
  backlogSubject(tenantId: string): string;
  /** How long a delivery may run before JetStream redelivers it (reset by `working()`). */
  readonly ackWaitMs: number;
  /** Server-side max_deliver: a safety net for rate limits and crash loops. */
  readonly maxDeliver: number;
  /** Failures other than rate limits are dead-lettered after this many deliveries. */
  readonly maxAttempts: number;
}

export interface Topology {
  readonly namespace: string;
  readonly ticketsStream: string;
  readonly deadLetterStream: string;
  /** Captures the server's MAX_DELIVERIES advisories for the tickets stream. */
  readonly advisoryStream: string;
  readonly tenantDirectoryBucket: string;
  /** SDP Cloud access tokens (encrypted), shared by every process that calls SDP. */
  readonly oauthTokenBucket: string;
  /** The ingress's per-tenant webhook counters (one minute windows). */
  readonly rateLimitBucket: string;
  readonly subjects: {
    received(tenantId: string): string;
    contextualized(tenantId: string): string;
    enhanced(tenantId: string): string;
    posted(tenantId: string): string;
    /** A technician's answer about a note (queued by the ingress, recorded by the gatherer). */
    feedback(tenantId: string): string;
    deadLetter(stage: StageName | 'ingress', tenantId: string): string;
  };
  readonly ticketSubjects: readonly string[];
  readonly deadLetterSubjects: readonly string[];
  /** The advisory subject the server uses when a consumer's (durable name) message runs out of deliveries. */
  exhaustedAdvisorySubject(durable: string): string;
  readonly consumers: Readonly<Record<StageName, StageConsumer>>;
  /** The context-gatherer's consumer of tickets.feedback.> (not a pipeline stage). */
  readonly feedbackConsumer: StageLane;
}

/** A stage's lanes, main first: what is set up, consumed, monitored and drained for it. */
export const stageLanes = (consumer: StageConsumer): readonly [StageLane, StageLane] => [
  consumer,
  consumer.backlog,
];

export function createTopology(namespace = ''): Topology {
  if (namespace && !/^[a-z0-9_-]+$/i.test(namespace)) {
    throw new Error('NATS namespace may only contain letters, digits, _ and -');
  }
  const prefix = namespace ? `${namespace}.` : '';
  const name = (base: string) => (namespace ? `${namespace}_${base}` : base);
  const subject = (kind: string) => (tenantId: string) => `${prefix}tickets.${kind}.${tenantId}`;
  const consumer = (
    durable: string,
    kind: string,
    ackWaitMs: number,
    maxAttempts: number,
    maxDeliver = maxAttempts,
  ): StageConsumer => ({
    durable: name(durable),
    filterSubject: `${prefix}tickets.${kind}.>`,
    backlog: {
      durable: name(`${durable}-backlog`),
      filterSubject: `${prefix}tickets.backlog.${kind}.>`,
    },
    backlogSubject: (tenantId) => `${prefix}tickets.backlog.${kind}.${tenantId}`,
    ackWaitMs,
    maxAttempts,
    maxDeliver,
  });
  return {
    namespace,
    ticketsStream: name('TICKETS'),
    deadLetterStream: name('TICKETS_DLQ'),
    advisoryStream: name('TICKETS_ADVISORIES'),
    tenantDirectoryBucket: name('tenant_directory'),
    oauthTokenBucket: name('sdp_oauth_tokens'),
    rateLimitBucket: name('webhook_rate_limits'),
    subjects: {
      received: subject('received'),
      contextualized: subject('contextualized'),
      enhanced: subject('enhanced'),
      posted: subject('posted'),
      feedback: subject('feedback'),
      deadLetter: (stage, tenantId) => `${prefix}tickets.dead.${stage}.${tenantId}`,
    },
    ticketSubjects: ['received', 'contextualized', 'enhanced', 'posted', 'backlog', 'feedback'].map(
      (kind) => `${prefix}tickets.${kind}.>`,
    ),
    deadLetterSubjects: [`${prefix}tickets.dead.>`],
    exhaustedAdvisorySubject: (durable) =>
      `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${name('TICKETS')}.${durable}`,
    consumers: {
      'context-gatherer': consumer('context-gatherer', 'received', 30_000, 10),
      // LLM calls are slow: the synthesizer calls working() while it waits.
      'llm-synthesizer': consumer('llm-synthesizer', 'contextualized', 60_000, 10),
      // SDP (and Zoho's token endpoint) may ask us to wait for many minutes:
      // rate-limited deliveries go on up to 60 times (about an hour) before a dead letter.
      'servicedesk-poster': consumer('servicedesk-poster', 'enhanced', 30_000, 10, 60),
    },
    feedbackConsumer: {
      durable: name('feedback-recorder'),
      filterSubject: `${prefix}tickets.feedback.>`,
    },
  };
}
