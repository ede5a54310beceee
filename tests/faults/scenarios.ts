/**
 * The faults. Each scenario runs a steady stream of signed webhooks from
 * every tenant and injects its fault while messages are in flight; the
 * suite then waits for the pipeline to drain and counts the outcome.
 */
import type { PoolClient } from 'pg';
import type { StageName } from '@tep/contracts';
import { sleep } from './infra';
import { makeTickets, steadyStream, type TicketSpec, type WebhookSender } from './load';
import type { Platform, Tenant } from './platform';

export interface ScenarioContext {
  platform: Platform;
  quick: boolean;
  sender: WebhookSender;
  /** Milliseconds since the scenario started. */
  elapsed(): number;
  /** Waits until `ms` after the scenario started. */
  at(ms: number): Promise<void>;
  /** Records what the fault did (and when) for the report. */
  event(what: string, data?: Record<string, unknown>): void;
  /** Extra figures for the report. */
  details: Record<string, unknown>;
}

const NOTE_POSTS = /\/requests\/[^/]+\/notes$/;

/** A Retry-After as long as SDP's per-minute rate limit may ask for. */
export const LONG_RETRY_AFTER_S = 45;

/** API calls a tenant's simulator answered so far, by outcome (HTTP status or `aborted`). */
async function outcomes(tenant: Tenant): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const byOutcome of Object.values((await tenant.sdp.calls()).byRoute)) {
    for (const [outcome, n] of Object.entries(byOutcome))
      totals[outcome] = (totals[outcome] ?? 0) + n;
  }
  return totals;
}

export interface Scenario {
  id: string;
  title: string;
  /** Webhooks in the scenario's steady stream. */
  webhooks: number;
  /** Over how long they are sent. */
  loadMs: number;
  /** Sends the load (default: `steadyStream` of `webhooks` tickets with a few poison ones). */
  load?(ctx: ScenarioContext): Promise<void>;
  /** Injects the fault(s), concurrently with the load. */
  inject(ctx: ScenarioContext): Promise<void>;
  /** After the drain: figures that show the fault took effect. */
  report?(ctx: ScenarioContext): Promise<void> | void;
}

/** One ticket in `POISON_EVERY` names a request SDP does not have: a dead letter is expected. */
export const POISON_EVERY = 10;

export async function defaultLoad(ctx: ScenarioContext, scenario: Scenario): Promise<void> {
  const tickets = await makeTickets(
    ctx.platform,
    `F${scenario.id}`,
    scenario.webhooks,
    POISON_EVERY,
  );
  await steadyStream(ctx.sender, tickets, scenario.loadMs);
}

/** Holds a table lock in a transaction, so writers to it block until `release`. */
async function lockTable(platform: Platform, table: string): Promise<() => Promise<void>> {
  const client: PoolClient = await platform.admin.connect();
  await client.query('BEGIN');
  await client.query(`SET LOCAL lock_timeout = '5s'`);
  // EXCLUSIVE: reads go on, INSERT/UPDATE wait.
  await client.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
  return async () => {
    await client.query('COMMIT').catch(() => undefined);
    client.release();
  };
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(everyMs);
  }
  return false;
}

async function unacked(platform: Platform, stage: StageName): Promise<number> {
  return (await platform.consumerState())[stage].reduce((sum, lane) => sum + lane.ackPending, 0);
}

/** Notes on SDP whose job enhancement_history does not show as posted yet. */
async function notesNotYetRecorded(platform: Platform): Promise<number> {
  const notes = (await Promise.all(platform.tenants.map((t) => t.sdp.notes()))).flat();
  const jobIds = notes
    .map((n) => /Enhancement ref: ([0-9a-f-]{36})/.exec(n.description)?.[1])
    .filter((id): id is string => !!id);
  if (!jobIds.length) return 0;
  const { rows } = await platform.admin.query<{ posted: number }>(
    `SELECT count(*)::int AS posted FROM enhancement_history
      WHERE job_id = ANY($1::uuid[]) AND status = 'posted'`,
    [jobIds],
  );
  return jobIds.length - rows[0].posted;
}

/**
 * kill -9 of a worker while it holds messages: the window is held open
 * (the model's replies held, or a table the stage writes locked) until the
 * worker has work in flight, then the process is killed, the window closed
 * and the worker started again.
 */
async function killMidProcessing(ctx: ScenarioContext, stage: StageName): Promise<void> {
  const { platform } = ctx;
  let close: () => Promise<void>;
  switch (stage) {
    case 'llm-synthesizer':
      platform.llm.hold();
      close = () => Promise.resolve(platform.llm.release());
      break;
    case 'context-gatherer':
      // The gatherer records the ticket in ticket_history before publishing.
      close = await lockTable(platform, 'ticket_history');
      break;
    case 'servicedesk-poster':
      // The poster records the job as posted after the note exists: kill it in between.
      close = await lockTable(platform, 'enhancement_history');
      break;
  }
  const want = ctx.quick ? 1 : 2;
  const busy = await waitFor(async () => (await unacked(platform, stage)) >= want, 6_000);
  if (stage === 'servicedesk-poster') {
    await waitFor(async () => (await notesNotYetRecorded(platform)) >= 1, 3_000);
  }
  const inFlight = await unacked(platform, stage).catch(() => -1);
  const notesUnrecorded =
    stage === 'servicedesk-poster' ? await notesNotYetRecorded(platform) : undefined;
  const service = platform.service(stage);
  ctx.event(`kill -9 ${stage}`, {
    pid: service.pid,
    unacked_messages: inFlight,
    reached_target_in_flight: busy,
    ...(notesUnrecorded !== undefined && { notes_posted_not_yet_recorded: notesUnrecorded }),
  });
  const kills = (ctx.details['kills'] ??= []) as unknown[];
  kills.push({ stage, unacked_messages: inFlight, notes_posted_not_yet_recorded: notesUnrecorded });
  await service.kill('SIGKILL');
  await close();
  await sleep(500);
  await service.start();
  ctx.event(`${stage} restarted`, { pid: service.pid });
}

/** Answers every failure the simulator still has queued, so the next scenario starts clean. */
export async function clearSimulatorFailures(tenant: Tenant): Promise<void> {
  const apiKey = tenant.sdp.apiKey;
  for (let i = 0; i < 2000; i++) {
    try {
      const res = await fetch(`${tenant.sdp.url}/api/v3/requests/FAULT-SUITE-PROBE`, {
        headers: { authtoken: apiKey },
        signal: AbortSignal.timeout(300),
      });
      await res.text();
      if (res.status === 404) return;
    } catch {
      // a held ("timeout") failure: the abort consumed it
    }
  }
}

export function scenarios(quick: boolean): Scenario[] {
  const n = (full: number, short: number) => (quick ? short : full);
  const all: Scenario[] = [
    {
      id: '1',
      title: 'kill -9 of each worker mid-processing, then restart',
      webhooks: n(48, 18),
      loadMs: n(18_000, 9_000),
      async inject(ctx) {
        // The synthesizer first: its ack wait (60 s) is the longest to wait out.
        await ctx.at(n(2_000, 1_000));
        await killMidProcessing(ctx, 'llm-synthesizer');
        await ctx.at(n(7_000, 3_500));
        await killMidProcessing(ctx, 'context-gatherer');
        await ctx.at(n(12_000, 6_000));
        await killMidProcessing(ctx, 'servicedesk-poster');
      },
    },
    {
      id: '2',
      title: 'NATS server restart (kill -9, 5 s down) under load',
      webhooks: n(48, 18),
      loadMs: n(18_000, 9_000),
      async inject(ctx) {
        await ctx.at(6_000);
        ctx.event('kill -9 nats-server');
        await ctx.platform.nats.stop('SIGKILL');
        await sleep(5_000);
        await ctx.platform.nats.start();
        ctx.event('nats-server restarted');
      },
    },
    {
      id: '3',
      title: 'PostgreSQL restart (immediate stop, 5 s down) under load',
      webhooks: n(48, 18),
      loadMs: n(18_000, 9_000),
      async inject(ctx) {
        await ctx.at(6_000);
        ctx.event('pg_ctl stop -m immediate');
        await ctx.platform.pg.stop('immediate');
        await sleep(5_000);
        await ctx.platform.pg.start();
        ctx.event('postgres restarted');
      },
    },
    {
      id: '4',
      title: 'SDP answers 500, 429 + Retry-After, times out, loses replies; then recovers',
      webhooks: n(48, 20),
      loadMs: n(18_000, 9_000),
      async inject(ctx) {
        const [a, b, c, d] = ctx.platform.tenants;
        await ctx.at(n(3_000, 1_500));
        // Each tenant's SDP fails its own way, all at once, for its next calls.
        await a.sdp.fail({ mode: '500', count: n(10, 5) });
        ctx.event(`tenant ${a.index}: SDP answers 500 to its next ${n(10, 5)} calls`);
        await b.sdp.fail({ mode: '429', count: n(10, 5), retryAfterSeconds: 2 });
        ctx.event(
          `tenant ${b.index}: SDP answers 429 (Retry-After: 2) to its next ${n(10, 5)} calls`,
        );
        await c.sdp.fail({ mode: 'timeout', count: n(5, 3) });
        ctx.event(
          `tenant ${c.index}: SDP never answers its next ${n(5, 3)} calls (client timeout)`,
        );
        const lossy = d ?? a;
        lossy.proxy.inject(n(4, 2), 'POST', NOTE_POSTS, { kind: 'drop-reply' });
        ctx.event(
          `tenant ${lossy.index}: the next ${n(4, 2)} note POSTs take effect but the reply is lost`,
        );
        if (ctx.quick) return;
        // A per-minute rate limit asks for up to a minute: longer than the poster's ack wait (30 s).
        await ctx.at(10_000);
        c.proxy.inject(1, 'POST', NOTE_POSTS, {
          kind: '429',
          retryAfterSeconds: LONG_RETRY_AFTER_S,
        });
        ctx.event(
          `tenant ${c.index}: SDP answers 429 (Retry-After: ${LONG_RETRY_AFTER_S}) to its next note POST`,
        );
      },
      async report(ctx) {
        ctx.details['sdp_calls_by_outcome'] = Object.fromEntries(
          await Promise.all(
            ctx.platform.tenants.map(
              async (t) => [`tenant ${t.index}`, await outcomes(t)] as const,
            ),
          ),
        );
        ctx.details['note_posts_whose_reply_was_dropped_after_the_write'] =
          ctx.platform.tenants.reduce((sum, t) => sum + t.proxy.applied['drop-reply'], 0);
        ctx.details['note_posts_answered_429_by_the_proxy'] = ctx.platform.tenants.reduce(
          (sum, t) => sum + t.proxy.applied['429'],
          0,
        );
      },
    },
    {
      id: '5',
      title: 'LLM endpoint answers 500, then hangs (timeouts); then recovers',
      webhooks: n(48, 18),
      loadMs: n(18_000, 9_000),
      async inject(ctx) {
        const { llm } = ctx.platform;
        await ctx.at(3_000);
        llm.mode = 'error500';
        ctx.event('LLM answers 500');
        await ctx.at(8_000);
        llm.mode = 'hang';
        ctx.event('LLM never answers (synthesizer times out)');
        await ctx.at(13_000);
        llm.mode = 'ok';
        ctx.event('LLM recovered');
      },
      async report(ctx) {
        const scenarioTickets = new Set(ctx.sender.sent.map((w) => w.ticketId));
        const notes = (await Promise.all(ctx.platform.tenants.map((t) => t.sdp.notes())))
          .flat()
          .filter((n) => scenarioTickets.has(n.request_display_id));
        ctx.details['notes_from_the_offline_fallback'] = notes.filter((n) =>
          n.description.includes('without the AI model'),
        ).length;
        ctx.details['notes_from_the_model'] = notes.filter((n) =>
          n.description.includes('Fault-suite model answer'),
        ).length;
      },
    },
    {
      id: '6',
      title: 'the same webhook 100 times: 50 at once, then 50 spread out',
      webhooks: n(24, 9),
      loadMs: n(12_000, 6_000),
      async load(ctx) {
        const [first, ...others] = ctx.platform.tenants;
        const [same] = await makeTickets(ctx.platform, 'F6-SAME', 1, 0, [first]);
        const background = await makeTickets(ctx.platform, 'F6', this.webhooks, 0, others);
        const spreadMs = n(10_000, 5_000);
        const repeats: TicketSpec[] = Array.from({ length: 50 }, () => same);
        for (const spec of repeats) ctx.sender.fire(spec);
        ctx.event('50 copies of one webhook sent at once');
        await Promise.all([
          steadyStream(ctx.sender, repeats, spreadMs).then(() =>
            ctx.event(`50 more copies sent over ${spreadMs / 1000} s`),
          ),
          steadyStream(ctx.sender, background, this.loadMs),
        ]);
        const copies = ctx.sender.sent.filter((w) => w.ticketId === same.ticketId);
        ctx.details['same_webhook'] = {
          ticket_id: same.ticketId,
          sent: copies.length,
          accepted: copies.filter((w) => w.status === 202).length,
          distinct_job_ids: new Set(copies.filter((w) => w.jobId).map((w) => w.jobId)).size,
        };
      },
      inject: () => Promise.resolve(),
    },
  ];
  return quick ? all.filter((s) => ['1', '4', '6'].includes(s.id)) : all;
}
