import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { z } from 'zod';
import {
  TicketContextualizedSchema,
  TicketEnhancedSchema,
  TicketPostedSchema,
  TicketReceivedSchema,
  type StageName,
  type Topology,
} from '@tep/contracts';
import { publishMessage } from './jetstream';

/** The pipeline's message kinds a stage hands on: each has its subject in the topology. */
type OutputKind = 'contextualized' | 'enhanced' | 'posted';

interface StageDeclaration {
  /** What the stage consumes (validated before its handler runs). */
  input: z.ZodType;
  /** What it hands on (validated before it is published). */
  output: z.ZodType;
  /** The output's subject (`tickets.<kind>.<tenant>`) and Nats-Msg-Id prefix (`<kind>:<job>`). */
  outputKind: OutputKind;
}

/**
 * The pipeline, declared: each stage's input, the message it hands on, and
 * where that goes. The runtime (StageWorker) consumes the input, calls the
 * stage's handler and publishes what it returns; handlers never publish.
 */
export const STAGES = {
  'context-gatherer': {
    input: TicketReceivedSchema,
    output: TicketContextualizedSchema,
    outputKind: 'contextualized',
  },
  'llm-synthesizer': {
    input: TicketContextualizedSchema,
    output: TicketEnhancedSchema,
    outputKind: 'enhanced',
  },
  'servicedesk-poster': {
    input: TicketEnhancedSchema,
    output: TicketPostedSchema,
    outputKind: 'posted',
  },
} as const satisfies Record<StageName, StageDeclaration>;

export type StageInput<N extends StageName> = z.infer<(typeof STAGES)[N]['input']>;
export type StageOutput<N extends StageName> = z.infer<(typeof STAGES)[N]['output']>;

/**
 * What a handler returns for one message: the next stage's message, or why
 * the job ends here. The runtime acts on it — publishes `next`, records
 * `skipped` in enhancement_history — so each state change has one writer
 * (docs/architecture.md).
 */
export type StageResult<N extends StageName> =
  | { kind: 'next'; message: StageOutput<N> }
  /** The job ends on purpose without a note; recorded as skipped with the reason. */
  | { kind: 'skipped'; ticketId: string; reason: string }
  /** Nothing to hand on and nothing to record (a replay of an ended job, a skip already recorded). */
  | { kind: 'ended'; reason: string };

/** Where a stage's result goes, with the Nats-Msg-Id that makes a republish a duplicate. */
export function nextHop(
  stage: StageName,
  topology: Topology,
  tenantId: string,
  jobId: string,
): { subject: string; msgId: string } {
  const kind = STAGES[stage].outputKind;
  return { subject: topology.subjects[kind](tenantId), msgId: `${kind}:${jobId}` };
}

/**
 * Hands a stage's `next` result on: validated with the stage's output
 * schema, published to the next subject under the job's Nats-Msg-Id, with
 * the job's tenant and id in the headers.
 */
export function publishNext<N extends StageName>(
  js: JetStreamClient,
  topology: Topology,
  stage: N,
  job: { tenantId: string; jobId: string },
  message: StageOutput<N>,
): Promise<PubAck> {
  return publishMessage(js, {
    ...nextHop(stage, topology, job.tenantId, job.jobId),
    schema: STAGES[stage].output as z.ZodType,
    message,
    ...job,
  });
}
