/**
 * Counting, not sampling: every accepted webhook (202) must end as exactly
 * one note on the tenant's SDP (matched by its `Enhancement ref: <job_id>`
 * line) or as one dead letter (a message in the dead-letter stream and
 * `enhancement_history.status = 'failed'`).
 */
import { readFileSync } from 'node:fs';
import { DeadLetterSchema, type DeadLetter } from '@tep/contracts';
import { sleep } from './infra';
import type { SentWebhook } from './load';
import { WORKERS, type ConsumerState, type Platform } from './platform';

const MARKER = /Enhancement ref: ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/;

export interface Snapshot {
  /** Job id → note ids carrying its marker, over every tenant's simulator. */
  notesByJob: Map<string, { noteId: string; ticket: string }[]>;
  /** Ticket display id → number of notes on it. */
  notesByTicket: Map<string, number>;
  deadLetters: Map<string, DeadLetter[]>;
  history: Map<string, string>;
}

/** Every dead letter in the stream, by job id. */
async function readDeadLetters(platform: Platform): Promise<Map<string, DeadLetter[]>> {
  const byJob = new Map<string, DeadLetter[]>();
  const stream = platform.topology.deadLetterStream;
  const info = await platform.jsm.streams.info(stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages; seq++) {
    const stored = await platform.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!stored) continue;
    const parsed = DeadLetterSchema.safeParse(stored.json());
    if (!parsed.success) continue;
    const list = byJob.get(parsed.data.job_id) ?? [];
    list.push(parsed.data);
    byJob.set(parsed.data.job_id, list);
  }
  return byJob;
}

export async function snapshot(platform: Platform, jobIds: string[]): Promise<Snapshot> {
  const notesByJob = new Map<string, { noteId: string; ticket: string }[]>();
  const notesByTicket = new Map<string, number>();
  const perTenant = await Promise.all(platform.tenants.map((t) => t.sdp.notes()));
  for (const notes of perTenant) {
    for (const note of notes) {
      notesByTicket.set(
        note.request_display_id,
        (notesByTicket.get(note.request_display_id) ?? 0) + 1,
      );
      const jobId = MARKER.exec(note.description)?.[1];
      if (!jobId) continue;
      const list = notesByJob.get(jobId) ?? [];
      list.push({ noteId: note.note_id, ticket: note.request_display_id });
      notesByJob.set(jobId, list);
    }
  }
  const deadLetters = await readDeadLetters(platform);
  const history = new Map<string, string>();
  if (jobIds.length) {
    const { rows } = await platform.admin.query<{ job_id: string; status: string }>(
      'SELECT job_id::text, status FROM enhancement_history WHERE job_id = ANY($1::uuid[])',
      [jobIds],
    );
    for (const row of rows) history.set(row.job_id, row.status);
  }
  return { notesByJob, notesByTicket, deadLetters, history };
}

export type JobVerdict =
  | 'posted' // exactly one note, no dead letter
  | 'dead_lettered' // no note, dead letter + history failed
  | 'duplicate' // more than one note
  | 'lost' // neither note nor dead letter
  | 'dead_letter_unrecorded' // dead letter but history not 'failed'
  | 'note_and_dead_letter'; // one note and a dead letter too

export interface JobAccount {
  jobId: string;
  tenantIndex: number;
  ticketId: string;
  poison: boolean;
  notes: number;
  deadLetters: number;
  deadLetterStages: string[];
  history: string | null;
  verdict: JobVerdict;
}

export interface Tally {
  webhooks_sent: number;
  accepted: number;
  rejected: Record<string, number>;
  jobs: number;
  notes_posted: number;
  duplicates: number;
  extra_notes: number;
  dead_letters: number;
  /** Messages in the dead-letter stream for these jobs (one per dead-lettered job is right). */
  dead_letter_entries: number;
  expected_dead_letters: number;
  lost: number;
  dead_letters_unrecorded: number;
  note_and_dead_letter: number;
  /** Notes for webhooks that were answered with an error (the job was stored anyway). */
  notes_for_rejected_webhooks: number;
  /** Dead letters for tickets SDP has (not the deliberate poison tickets). */
  unexpected_dead_letters: number;
  accounts: JobAccount[];
}

export function tally(sent: SentWebhook[], snap: Snapshot): Tally {
  const rejected: Record<string, number> = {};
  const jobs = new Map<string, SentWebhook>();
  for (const webhook of sent) {
    if (webhook.status === 202 && webhook.jobId) {
      if (!jobs.has(webhook.jobId)) jobs.set(webhook.jobId, webhook);
    } else {
      const key = webhook.status === 0 ? 'no_reply' : String(webhook.status);
      rejected[key] = (rejected[key] ?? 0) + 1;
    }
  }
  const accounts: JobAccount[] = [];
  for (const [jobId, webhook] of jobs) {
    const notes = snap.notesByJob.get(jobId)?.length ?? 0;
    const dead = snap.deadLetters.get(jobId) ?? [];
    const history = snap.history.get(jobId) ?? null;
    let verdict: JobVerdict;
    if (notes > 1) verdict = 'duplicate';
    else if (notes === 1) verdict = dead.length ? 'note_and_dead_letter' : 'posted';
    else if (dead.length)
      verdict = history === 'failed' ? 'dead_lettered' : 'dead_letter_unrecorded';
    else verdict = 'lost';
    accounts.push({
      jobId,
      tenantIndex: webhook.tenantIndex,
      ticketId: webhook.ticketId,
      poison: webhook.poison,
      notes,
      deadLetters: dead.length,
      deadLetterStages: [...new Set(dead.map((d) => `${d.stage}:${d.error_code}`))],
      history,
      verdict,
    });
  }
  const count = (v: JobVerdict) => accounts.filter((a) => a.verdict === v).length;
  const acceptedTickets = new Set([...jobs.values()].map((w) => w.ticketId));
  const rejectedTickets = new Set(
    sent.filter((w) => w.status !== 202 && !acceptedTickets.has(w.ticketId)).map((w) => w.ticketId),
  );
  return {
    webhooks_sent: sent.length,
    accepted: sent.filter((w) => w.status === 202).length,
    rejected,
    jobs: jobs.size,
    notes_posted: accounts.reduce((n, a) => n + a.notes, 0),
    duplicates: count('duplicate'),
    extra_notes: accounts.reduce((n, a) => n + Math.max(0, a.notes - 1), 0),
    dead_letters: count('dead_lettered'),
    dead_letter_entries: accounts.reduce((n, a) => n + a.deadLetters, 0),
    expected_dead_letters: accounts.filter((a) => a.poison).length,
    lost: count('lost'),
    dead_letters_unrecorded: count('dead_letter_unrecorded'),
    note_and_dead_letter: count('note_and_dead_letter'),
    notes_for_rejected_webhooks: [...rejectedTickets].reduce(
      (n, t) => n + (snap.notesByTicket.get(t) ?? 0),
      0,
    ),
    unexpected_dead_letters: accounts.filter((a) => !a.poison && a.deadLetters > 0).length,
    accounts,
  };
}

const EMPTY_SNAPSHOT: Snapshot = {
  notesByJob: new Map(),
  notesByTicket: new Map(),
  deadLetters: new Map(),
  history: new Map(),
};

/** A job is settled when it has a note or a recorded dead letter. */
const unsettled = (t: Tally) => t.lost + t.dead_letters_unrecorded;

export interface DrainResult {
  drained: boolean;
  drainMs: number;
  tally: Tally;
  /** The worker consumers as last seen (pending / unacknowledged). */
  consumers?: Record<string, ConsumerState[]>;
  /**
   * Unacknowledged messages whose job this stage already dead-lettered, seen
   * when the drain ended: with `term()` honoured they would be none (see
   * docs/fault-injection.md, "dead-lettered messages come back").
   */
  deadLettersStillDelivered: number;
}

/**
 * Unacknowledged messages of a stage whose job that stage has already
 * dead-lettered. Every unacknowledged message lies between the consumer's
 * ack floor and its last delivery; those are read (once) to find their job.
 */
async function unackedDeadLetters(
  platform: Platform,
  stage: (typeof WORKERS)[number],
  state: ConsumerState,
  deadLetters: Map<string, DeadLetter[]>,
): Promise<number> {
  if (state.ackPending === 0) return 0;
  let count = 0;
  for (let seq = state.ackFloorSeq + 1; seq <= state.deliveredSeq; seq++) {
    const message = await platform.messageJob(seq);
    if (!message || !message.subject.startsWith(state.subjectPrefix)) continue;
    if (deadLetters.get(message.jobId)?.some((d) => d.stage === stage)) count++;
  }
  return count;
}

/**
 * Waits until every accepted job is settled and no worker consumer has a
 * pending or unacknowledged message (so no redelivery, hence no late
 * duplicate, can still come), seen twice in a row; or until the deadline.
 */
export async function waitForDrain(
  platform: Platform,
  sent: SentWebhook[],
  timeoutMs: number,
): Promise<DrainResult> {
  const start = Date.now();
  const jobIds = () => [...new Set(sent.filter((w) => w.jobId).map((w) => w.jobId!))];
  let quietRounds = 0;
  let last: Tally | undefined;
  let consumers: DrainResult['consumers'];
  let deadLettersStillDelivered = 0;
  for (;;) {
    try {
      const snap = await snapshot(platform, jobIds());
      last = tally(sent, snap);
      const state = await platform.consumerState();
      consumers = state;
      // Idle: nothing pending, and nothing unacknowledged but messages already dead-lettered
      // (which the server keeps redelivering when it ignores the term; they cannot post a note).
      const active = await platform.activeTasks();
      let idle = Object.values(active).every((n) => n === 0);
      deadLettersStillDelivered = 0;
      for (const stage of WORKERS) {
        for (const lane of state[stage]) {
          const cycling = await unackedDeadLetters(platform, stage, lane, snap.deadLetters);
          deadLettersStillDelivered += cycling;
          if (lane.pending > 0 || lane.ackPending > cycling) idle = false;
        }
      }
      quietRounds = idle && unsettled(last) === 0 ? quietRounds + 1 : 0;
    } catch {
      quietRounds = 0; // NATS or Postgres still coming back
    }
    if (quietRounds >= 2) {
      return {
        drained: true,
        drainMs: Date.now() - start,
        tally: last!,
        consumers,
        deadLettersStillDelivered,
      };
    }
    if (Date.now() - start > timeoutMs) {
      const final = await snapshot(platform, jobIds()).then(
        (snap) => tally(sent, snap),
        () => last ?? tally(sent, EMPTY_SNAPSHOT),
      );
      return {
        drained: false,
        drainMs: Date.now() - start,
        tally: final,
        consumers,
        deadLettersStillDelivered,
      };
    }
    await sleep(500);
  }
}

/** The service log lines that mention a job, for the report's evidence. */
export function logEvidence(platform: Platform, jobId: string, maxLines = 40): string[] {
  const lines: string[] = [];
  for (const service of platform.allServices) {
    let text = '';
    try {
      text = readFileSync(service.logFile, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line.includes(jobId)) lines.push(`${service.name}: ${line.slice(0, 600)}`);
    }
  }
  const timeOf = (line: string) => Number(/"time":(\d+)/.exec(line)?.[1] ?? 0);
  return lines.sort((a, b) => timeOf(a) - timeOf(b)).slice(0, maxLines);
}
