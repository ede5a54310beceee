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
  /** Runs only when named (`--only=<id>`): a measurement, not a fault. */
  optIn?: boolean;
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

/**
 * The TICKETS stream's leader (a node name), or undefined while none is
 * elected, as the node `via` sees it (default: any node the suite is on).
 */
async function streamLeader(platform: Platform, via?: string): Promise<string | undefined> {
  const jsm = via ? await platform.jsmOn(via) : platform.jsm;
  const info = await jsm.streams.info(platform.topology.ticketsStream);
  return info.cluster?.leader;
}

/** Until every stream and KV bucket has a leader and all its replicas are current. */
async function clusterSettled(platform: Platform, timeoutMs: number): Promise<boolean> {
  return waitFor(
    async () => {
      const streams = await platform.jsm.streams.list().next();
      return (
        streams.length > 0 &&
        streams.every(
          (s) =>
            !!s.cluster?.leader &&
            (s.cluster.replicas ?? []).length === s.config.num_replicas - 1 &&
            (s.cluster.replicas ?? []).every((r) => r.current && !r.offline),
        )
      );
    },
    timeoutMs,
    250,
  );
}

/**
 * Polls a node other than `old` until it sees a stream leader other than
 * `old`: the time the election took, as the surviving side sees it.
 */
async function newLeader(platform: Platform, old: string, timeoutMs = 60_000) {
  const started = Date.now();
  const via = platform.cluster!.names.filter((name) => name !== old);
  let leader: string | undefined;
  await waitFor(
    async () => {
      const seen = await Promise.all(
        via.map((node) => streamLeader(platform, node).catch(() => undefined)),
      );
      leader = seen.find((l) => !!l && l !== old);
      return !!leader;
    },
    timeoutMs,
    50,
  );
  return { leader, ms: Date.now() - started };
}

/** kill -9 of a cluster node, down for `downMs`, then started again and caught up. */
async function killNode(ctx: ScenarioContext, name: string, downMs: number): Promise<void> {
  const cluster = ctx.platform.cluster!;
  const node = cluster.node(name);
  const killedAt = ctx.elapsed();
  ctx.event(`kill -9 nats-server ${name}`, {
    leader: (await streamLeader(ctx.platform).catch(() => undefined)) ?? null,
  });
  await node.stop('SIGKILL');
  const elected = await newLeader(ctx.platform, name, downMs + 30_000);
  ctx.event('TICKETS leader after the kill', {
    leader: elected.leader ?? null,
    after_ms: elected.ms,
  });
  const wait = killedAt + downMs - ctx.elapsed();
  if (wait > 0) await sleep(wait);
  await node.start();
  const caughtUp = await clusterSettled(ctx.platform, 60_000);
  ctx.event(`nats-server ${name} restarted`, { every_replica_current: caughtUp });
  const kills = (ctx.details['node_kills'] ??= []) as unknown[];
  kills.push({
    node: name,
    killed_at_s: killedAt / 1000,
    new_leader: elected.leader,
    election_ms: elected.ms,
    caught_up: caughtUp,
  });
}

/**
 * How long the ingress answered 503 (JetStream could not store the job) in
 * windows after each fault: from the first 503 sent after the fault to the
 * last one before the next 202 streak.
 */
function unavailability(ctx: ScenarioContext, faultsAtMs: number[]): Record<string, unknown>[] {
  return faultsAtMs.map((at, i) => {
    const until = faultsAtMs[i + 1] ?? Infinity;
    const window = ctx.sender.sent.filter((w) => w.sentAtMs >= at && w.sentAtMs < until);
    const refused = window.filter((w) => w.status === 503);
    const first = refused[0]?.sentAtMs;
    const last = refused[refused.length - 1];
    return {
      fault_at_s: at / 1000,
      webhooks_sent: window.length,
      answered_503: refused.length,
      no_reply: window.filter((w) => w.status === 0).length,
      ms_from_fault_to_last_503_reply: last === undefined ? 0 : last.sentAtMs + last.latencyMs - at,
      ms_of_503_window: first === undefined || !last ? 0 : last.sentAtMs + last.latencyMs - first,
    };
  });
}

export interface ScenarioMode {
  quick: boolean;
  /** Three clustered nats-servers and two replicas of each service: scenarios 7–9 too. */
  cluster: boolean;
}

export function scenarios({ quick, cluster }: ScenarioMode): Scenario[] {
  const n = (full: number, short: number) => (quick ? short : full);
  // The full run sends over 10,000 webhooks in all (issue 15).
  const bulk = cluster ? 1_200 : 1_700;
  const all: Scenario[] = [
    {
      id: '1',
      title: cluster
        ? 'kill -9 of one replica of each worker mid-processing, then restart'
        : 'kill -9 of each worker mid-processing, then restart',
      webhooks: n(bulk, 18),
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
      title: cluster
        ? 'every nats-server of the cluster killed (kill -9), 5 s down, under load'
        : 'NATS server restart (kill -9, 5 s down) under load',
      webhooks: n(bulk, 18),
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
      webhooks: n(bulk, 18),
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
      webhooks: n(bulk, 20),
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
      webhooks: n(bulk, 18),
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
      webhooks: n(bulk, 9),
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
  const clustered: Scenario[] = [
    {
      id: '7',
      title:
        'kill -9 of the TICKETS stream leader under load, then of a second node once the first recovered',
      webhooks: n(bulk, 30),
      loadMs: n(40_000, 30_000),
      async inject(ctx) {
        await ctx.at(n(4_000, 3_000));
        const first = (await streamLeader(ctx.platform, ctx.platform.cluster!.names[0]))!;
        const faults = [ctx.elapsed()];
        await killNode(ctx, first, 5_000);
        const leader = await streamLeader(ctx.platform, first).catch(() => undefined);
        const second =
          leader && leader !== first
            ? leader
            : ctx.platform.cluster!.names.find((name) => name !== first)!;
        faults.push(ctx.elapsed());
        await killNode(ctx, second, 5_000);
        ctx.details['faults_at_ms'] = faults;
      },
      report(ctx) {
        ctx.details['ingress_unavailable'] = unavailability(
          ctx,
          ctx.details['faults_at_ms'] as number[],
        );
      },
    },
    {
      id: '8',
      title: 'kill -9 of one replica of each service under load, each restarted 3 s later',
      webhooks: n(bulk, 30),
      loadMs: n(24_000, 16_000),
      async inject(ctx) {
        const order = [
          'webhook-ingress',
          'context-gatherer',
          'tenant-registry',
          'llm-synthesizer',
          'servicedesk-poster',
        ] as const;
        for (const [i, name] of order.entries()) {
          await ctx.at(n(2_000, 1_500) + i * n(4_000, 2_500));
          const replica = ctx.platform.service(name, 1);
          const inFlight =
            name === 'webhook-ingress' || name === 'tenant-registry'
              ? undefined
              : await unacked(ctx.platform, name).catch(() => -1);
          ctx.event(`kill -9 ${replica.name}`, {
            pid: replica.pid,
            ...(inFlight !== undefined && { unacked_messages_of_the_stage: inFlight }),
          });
          await replica.kill('SIGKILL');
          await sleep(3_000);
          await replica.start();
          ctx.event(`${replica.name} restarted`, { pid: replica.pid });
        }
      },
      report(ctx) {
        ctx.details['ingress_replies_without_an_answer'] = ctx.sender.sent.filter(
          (w) => w.status === 0,
        ).length;
      },
    },
    {
      id: '9',
      title:
        'network partition of the TICKETS leader (its cluster routes stopped) for 15 s, then healed',
      webhooks: n(bulk, 30),
      loadMs: n(30_000, 24_000),
      async inject(ctx) {
        const cluster = ctx.platform.cluster!;
        await ctx.at(n(4_000, 3_000));
        const isolated = (await streamLeader(ctx.platform, cluster.names[0]))!;
        const metaBefore = await cluster.metaLeader(cluster.names[0]).catch(() => undefined);
        const at = ctx.elapsed();
        cluster.partition(isolated);
        ctx.event(`partition: ${isolated}'s routes to the other nodes stopped`, {
          meta_leader: metaBefore ?? null,
        });
        // Watched from the majority side, but the routes come back at 15 s whatever it sees.
        const majority = cluster.names.filter((name) => name !== isolated);
        const elected = await newLeader(ctx.platform, isolated, 14_500);
        const metaAfter = await cluster.metaLeader(majority[0]).catch(() => undefined);
        ctx.event('TICKETS leader on the majority side', {
          leader: elected.leader ?? null,
          after_ms: elected.leader ? elected.ms : null,
          meta_leader: metaAfter ?? null,
        });
        await ctx.at(at + 15_000);
        cluster.heal();
        const caughtUp = await clusterSettled(ctx.platform, 60_000);
        ctx.event('partition healed', { every_replica_current: caughtUp });
        ctx.details['partition'] = {
          node: isolated,
          meta_leader_before: metaBefore,
          new_leader: elected.leader,
          election_ms: elected.leader ? elected.ms : null,
          meta_leader_on_the_majority_side: metaAfter,
          caught_up: caughtUp,
        };
        ctx.details['faults_at_ms'] = [at];
      },
      async report(ctx) {
        ctx.details['ingress_unavailable'] = unavailability(
          ctx,
          ctx.details['faults_at_ms'] as number[],
        );
        // Each node's own copy of TICKETS once the pipeline drained (nothing is
        // published any more): a diverged copy — nats-server 2.9.10's, see
        // tests/faults/partition-probe.ts — is where acknowledged webhooks go missing.
        const copies = await ctx.platform.cluster!.streamCopies(
          ctx.platform.topology.ticketsStream,
        );
        const alike = new Set(Object.values(copies).map((c) => c?.last_seq)).size === 1;
        ctx.event(alike ? 'every node holds the same TICKETS' : 'TICKETS copies DIVERGED', {
          copies,
        });
        ctx.details['stream_copies'] = { alike, copies };
      },
    },
  ];
  const capacity: Scenario = {
    id: 'capacity',
    title:
      'no fault: webhooks as fast as the ingress accepts them (64 in flight), until every note is posted',
    optIn: true,
    // 500 per tenant: under the basic tier's 600 per minute, so nothing is refused with 429.
    webhooks: n(2_000, 400),
    loadMs: 0,
    async load(ctx) {
      const tickets = await makeTickets(ctx.platform, 'CAP', this.webhooks, 0);
      const started = ctx.elapsed();
      await ctx.sender.flood(tickets, 64);
      const sentFor = ctx.elapsed() - started;
      const accepted = ctx.sender.sent.filter((w) => w.status === 202).length;
      const wanted = new Set(
        ctx.sender.sent.filter((w) => w.status === 202).map((w) => w.ticketId),
      );
      let notes = 0;
      await waitFor(
        async () => {
          const all = (await Promise.all(ctx.platform.tenants.map((t) => t.sdp.notes()))).flat();
          notes = all.filter((note) => wanted.has(note.request_display_id)).length;
          return notes >= accepted;
        },
        600_000,
        500,
      );
      const allNotesAfter = ctx.elapsed() - started;
      ctx.details['capacity'] = {
        replicas_per_service: ctx.platform.replicasOf('webhook-ingress').length,
        accepted,
        accepted_per_s: Math.round((accepted / sentFor) * 10_000) / 10,
        notes,
        notes_per_s: Math.round((notes / allNotesAfter) * 10_000) / 10,
        seconds_to_accept_all: sentFor / 1000,
        seconds_to_last_note: allNotesAfter / 1000,
      };
      ctx.event('capacity', ctx.details['capacity'] as Record<string, unknown>);
    },
    inject: () => Promise.resolve(),
  };
  const selected = quick ? all.filter((s) => ['1', '4', '6'].includes(s.id)) : all;
  return [...selected, ...(cluster ? clustered : []), capacity];
}
