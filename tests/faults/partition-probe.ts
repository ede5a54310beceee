/**
 * Does nats-server lose PubAck'ed writes to an R3 stream when the node
 * leading the stream (and the meta group) is partitioned away and healed?
 *
 *   node -r ./tools/register.js tests/faults/partition-probe.ts \
 *     [--rounds N] [--seconds S] [--consumer] [--direct] [--no-tour] [--no-align]
 *     [--cut-follower] [--publishers P] [--rate R] [--window W] [--warmup S] [--after S]
 *
 * One of five partition runs of the fault suite (scenario 9) lost five
 * webhooks whose publishes had been acknowledged. The suite runs the whole
 * platform, so a loss there could be the server, the client, or the
 * platform's own patterns (the stages' backlog lane republishes and acks).
 * This probe keeps only what the server and the client do — the same
 * cluster (`NatsCluster`, partition by route removal and SIGHUP), a stream
 * configured as the platform's TICKETS stream, publishers shaped like the
 * ingress replicas — so a loss here is not the platform's doing, and a
 * loss only with `--consumer` points at the backlog-lane pattern.
 *
 * A round: a fresh 3-node cluster; the stream leader made to coincide with
 * the meta leader (as in the incident, unless --no-align); publishers on
 * every node; the leader's routes cut for S seconds while publishing goes
 * on; heal; wait until every replica is current; then every acknowledged
 * (seq, Nats-Msg-Id) is checked against each view of the stream: the
 * leader's (STREAM.MSG.GET); a durable led from the cut-off node; the
 * stream once the cut-off node leads again (--no-tour skips both); and
 * each replica's own file store, read offline by a standalone server.
 * Exit 1 if any acknowledged message is missing from a view or its
 * sequence holds another message there.
 *
 * A failing round's stores and server logs are copied to
 * /tmp/partition-probe-fail-<round>/ (with acks.csv and summary.json)
 * before the temporary directories are removed.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import {
  Empty,
  connect,
  headers as natsHeaders,
  nanos,
  type NatsConnection,
} from '@nats-io/transport-node';
import {
  NatsCluster,
  NatsInstance,
  makeTempDir,
  natsServerVersion,
  removeTempDirs,
  sleep,
} from './infra';

// ---------------------------------------------------------------- options

interface Options {
  rounds: number;
  /** How long the leader stays cut off (the suite: 15 s). */
  seconds: number;
  consumer: boolean;
  /** allow_direct on the stream (not the platform's setting) and a direct-get sweep via each node. */
  direct: boolean;
  /** After the heal, hand the stream leadership back to the cut-off node and read again. */
  tour: boolean;
  /** Cut a follower instead of the leader: the control, where no election is needed. */
  cutFollower: boolean;
  /** Make the stream leader the meta leader before the cut, as in the incident. */
  align: boolean;
  publishers: number;
  /** Publishes per second per publisher. */
  rate: number;
  /** Publishes in flight per publisher: the ingress answers many webhooks at once. */
  window: number;
  warmupSeconds: number;
  afterSeconds: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return fallback;
    const raw = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number, got ${raw}`);
    return n;
  };
  return {
    rounds: value('rounds', 3),
    seconds: value('seconds', 15),
    consumer: argv.includes('--consumer'),
    direct: argv.includes('--direct'),
    tour: !argv.includes('--no-tour'),
    align: !argv.includes('--no-align'),
    cutFollower: argv.includes('--cut-follower'),
    publishers: value('publishers', 6),
    rate: value('rate', 40),
    window: value('window', 8),
    warmupSeconds: value('warmup', 5),
    afterSeconds: value('after', 5),
  };
}

// ---------------------------------------------------------------- the stream

const STREAM = 'TICKETS';
const IN = 'probe.in';
const BACKLOG = 'probe.backlog';
const MAIN_DURABLE = 'PROBE_MAIN';
const BACKLOG_DURABLE = 'PROBE_BACKLOG';
/** The probe's own id of a message, kept across a backlog move (Nats-Msg-Id is not). */
const ID_HEADER = 'Probe-Id';
const TENANT_HEADER = 'Tep-Tenant-Id';
const DAY_MS = 24 * 60 * 60 * 1000;
/** A job-sized body, as publish-cost.ts uses: block and replication cost like the real thing. */
const PADDING = 'x'.repeat(1_400);

/** libs/pipeline ensureTopology's TICKETS settings, R3, on the probe's subjects. */
function streamConfig(direct: boolean): Partial<StreamConfig> & { name: string } {
  return {
    name: STREAM,
    subjects: [`${IN}.>`, `${BACKLOG}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: 3,
    max_age: nanos(7 * DAY_MS),
    duplicate_window: nanos(2 * 60_000),
    // Not in the platform's config: it only adds a read path (any replica
    // answers a direct get), which lets the probe read each node's copy.
    ...(direct ? { allow_direct: true } : {}),
  };
}

// ---------------------------------------------------------------- records

interface AckRecord {
  msgId: string;
  tenant: string;
  seq: number;
  duplicate: boolean;
  publisher: number;
  /** The server the publisher's connection was on when the ack came back. */
  server: string;
  at: number;
  /** The connection was on the cut-off node while the cut lasted. */
  onCutOff: boolean;
}

interface MoveRecord {
  origSeq: number;
  probeId: string;
  seq: number;
  duplicate: boolean;
  server: string;
  at: number;
}

interface Phase {
  /** Set when the routes are cut / restored; undefined before. */
  cutAt?: number;
  healAt?: number;
  isolated?: string;
}

interface StoredView {
  /** seq → the probe id and subject stored there. */
  bySeq: Map<number, { id: string; subject: string }>;
  /** Reads that failed: a view with any is incomplete and not judged. */
  errors: number;
}

interface NodeStreamState {
  messages: number;
  first_seq: number;
  last_seq: number;
  num_deleted?: number;
}

interface RoundResult {
  round: number;
  published: number;
  acked: number;
  ackRecords: number;
  duplicates: number;
  ackedOnCutOff: number;
  failedPublishes: number;
  isolated: string;
  metaBefore?: string;
  aligned: boolean;
  newLeader?: string;
  electionMs?: number;
  metaAfter?: string;
  leaderElections: number;
  settled: boolean;
  /** Who led after the hand-back to the cut-off node was tried. */
  handback?: string;
  lastSeq: number;
  nodeStates: Record<string, NodeStreamState | undefined>;
  missing: Record<string, number>;
  /** Acked messages past the end of a replica that never caught up. */
  behind: Record<string, number>;
  mismatched: Record<string, number>;
  moves?: number;
  movesLost?: number;
  undelivered?: number;
  lost: boolean;
  keptIn?: string;
}

// ---------------------------------------------------------------- helpers

const iso = (t: number) => new Date(t).toISOString();

async function until<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}

/** The stream as node `port` holds it locally (/jsz): not the leader's answer, the node's own. */
async function nodeState(port: number): Promise<NodeStreamState | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/jsz?accounts=true&streams=true`, {
    signal: AbortSignal.timeout(2_000),
  });
  const body = (await res.json()) as {
    account_details?: { stream_detail?: { name: string; state: NodeStreamState }[] }[];
  };
  for (const account of body.account_details ?? []) {
    const stream = account.stream_detail?.find((s) => s.name === STREAM);
    if (stream) return stream.state;
  }
  return undefined;
}

async function streamLeader(jsm: JetStreamManager): Promise<string | undefined> {
  return (await jsm.streams.info(STREAM)).cluster?.leader || undefined;
}

/** Rotates the URL list so publisher i prefers node i % n, as a Service spreads connections. */
const rotated = (urls: string[], first: number) => [
  ...urls.slice(first % urls.length),
  ...urls.slice(0, first % urls.length),
];

// ---------------------------------------------------------------- publishers

class Publisher {
  readonly acks: AckRecord[] = [];
  readonly attempted = new Set<string>();
  failures = 0;
  private stopping = false;
  private done?: Promise<void>;
  private n = 0;

  constructor(
    private readonly index: number,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly phase: Phase,
    private readonly options: Options,
  ) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }

  private async loop(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    // A failed publish is tried again later under the same msg id, as a
    // ServiceDesk retry of the webhook reaches the ingress with the same job
    // id: the server's dedupe then decides, which is part of what is probed.
    const retries: { msgId: string; tenant: string; attempt: number; due: number }[] = [];
    const gap = 1_000 / Math.max(1, this.options.rate);
    while (!this.stopping) {
      while (inFlight.size >= this.options.window) await Promise.race(inFlight);
      const due = retries.length && retries[0].due <= Date.now() ? retries.shift() : undefined;
      const item = due ?? {
        msgId: `p${this.index}-${this.n}`,
        // Half of the traffic from one flooding tenant: what the backlog lane moves.
        tenant: this.n % 2 === 0 ? 'flood' : `t${this.n % 5}`,
        attempt: 0,
        due: 0,
      };
      if (!due) this.n++;
      this.attempted.add(item.msgId);
      const task = this.publishOne(item.msgId, item.tenant).then(
        () => undefined,
        () => {
          this.failures++;
          if (item.attempt < 3) {
            retries.push({ ...item, attempt: item.attempt + 1, due: Date.now() + 1_000 });
          }
        },
      );
      const tracked = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      await sleep(gap);
    }
    await Promise.all(inFlight);
  }

  private async publishOne(msgId: string, tenant: string): Promise<void> {
    const hdrs = natsHeaders();
    hdrs.set(ID_HEADER, msgId);
    hdrs.set(TENANT_HEADER, tenant);
    const body = JSON.stringify({ id: msgId, tenant, sent_at: Date.now(), padding: PADDING });
    // 5 s: the ingress's publish timeout (libs/pipeline publishMessage's default).
    const ack = await this.js.publish(`${IN}.${tenant}`, body, {
      msgID: msgId,
      headers: hdrs,
      timeout: 5_000,
    });
    const at = Date.now();
    const server = this.nc.info?.server_name ?? '?';
    const { cutAt, healAt, isolated } = this.phase;
    this.acks.push({
      msgId,
      tenant,
      seq: ack.seq,
      duplicate: ack.duplicate,
      publisher: this.index,
      server,
      at,
      onCutOff:
        server === isolated && cutAt !== undefined && at >= cutAt && (!healAt || at < healAt),
    });
  }
}

// ---------------------------------------------------------------- the backlog-lane consumer

/**
 * The stage runtime's backlog move, reduced to its storage pattern: a
 * flooding tenant's message is republished to the backlog subject of the
 * same stream under `backlog:<durable>:<stream seq>` and the original is
 * acked once that publish is acknowledged. Whatever the backlog copy's ack
 * says (a duplicate too) the original is acked: if the copy is not stored,
 * nothing delivers that message again.
 */
class BacklogLane {
  readonly moves: MoveRecord[] = [];
  readonly deliveredMain = new Set<string>();
  readonly deliveredBacklog = new Set<string>();
  moveFailures = 0;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private closers: (() => Promise<unknown>)[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
  ) {}

  async start(): Promise<void> {
    const main = await (
      await this.js.consumers.get(STREAM, MAIN_DURABLE)
    ).consume({
      max_messages: 4,
      expires: 1_000,
    });
    const backlog = await (
      await this.js.consumers.get(STREAM, BACKLOG_DURABLE)
    ).consume({
      max_messages: 4,
      expires: 1_000,
    });
    this.closers = [() => main.close(), () => backlog.close()];
    const moving = new Set<Promise<void>>();
    this.loops = [
      (async () => {
        for await (const msg of main) {
          if (this.stopping) break;
          const id = msg.headers?.get(ID_HEADER) ?? '';
          this.deliveredMain.add(id);
          if (msg.headers?.get(TENANT_HEADER) !== 'flood') {
            msg.ack();
            continue;
          }
          while (moving.size >= 64) await Promise.race(moving);
          const move = this.move(msg, id).finally(() => moving.delete(move));
          moving.add(move);
        }
        await Promise.all(moving);
      })(),
      (async () => {
        for await (const msg of backlog) {
          if (this.stopping) break;
          this.deliveredBacklog.add(msg.headers?.get(ID_HEADER) ?? '');
          msg.ack();
        }
      })(),
    ];
  }

  private async move(msg: JsMsg, id: string): Promise<void> {
    const hdrs = natsHeaders();
    for (const [key, values] of msg.headers ?? []) {
      if (key.toLowerCase() !== 'nats-msg-id') for (const value of values) hdrs.append(key, value);
    }
    try {
      const ack = await this.js.publish(`${BACKLOG}.flood`, msg.data, {
        headers: hdrs,
        msgID: `backlog:${MAIN_DURABLE}:${msg.info.streamSequence}`,
        timeout: 5_000,
      });
      this.moves.push({
        origSeq: msg.info.streamSequence,
        probeId: id,
        seq: ack.seq,
        duplicate: ack.duplicate,
        server: this.nc.info?.server_name ?? '?',
        at: Date.now(),
      });
      msg.ack();
    } catch {
      this.moveFailures++;
      msg.nak(1_000);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.closers.map((close) => close().catch(() => undefined)));
    await Promise.all(this.loops.map((l) => l.catch(() => undefined)));
  }
}

async function addConsumers(jsm: JetStreamManager): Promise<void> {
  for (const [durable, filter] of [
    [MAIN_DURABLE, `${IN}.>`],
    [BACKLOG_DURABLE, `${BACKLOG}.>`],
  ]) {
    // The platform's stage consumer settings (ensureTopology).
    await jsm.consumers.add(STREAM, {
      durable_name: durable,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: 20,
      max_ack_pending: 1000,
    });
  }
}

// ---------------------------------------------------------------- reading back

/**
 * Sequences 1 to `lastSeq`, 16 reads at a time, each with `get`. An error
 * counts unless `ignore` matches it; past `maxErrors` the rest are skipped.
 */
async function readEach(
  lastSeq: number,
  get: (seq: number) => Promise<{ id: string; subject: string } | undefined>,
  options: { ignore?: RegExp; maxErrors?: number } = {},
): Promise<StoredView> {
  const view: StoredView = { bySeq: new Map(), errors: 0 };
  let next = 1;
  const worker = async () => {
    while (next <= lastSeq) {
      const seq = next++;
      try {
        const found = await get(seq);
        if (found) view.bySeq.set(seq, found);
      } catch (error) {
        if (!(options.ignore && error instanceof Error && options.ignore.test(error.message))) {
          view.errors++;
        }
        if (view.errors > (options.maxErrors ?? Number.POSITIVE_INFINITY)) next = lastSeq + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return view;
}

const entryOf = (m: { header?: { get(key: string): string }; subject: string }) => ({
  id: m.header?.get(ID_HEADER) ?? '',
  subject: m.subject,
});

/**
 * Every sequence up to `lastSeq` through `jsm`'s connection. With a direct
 * get, the request goes to a queue group of the stream's replicas, and
 * NATS prefers a member on the server the request arrived at, so this is
 * (as far as the client can tell) that node's own copy.
 */
const readDirect = (jsm: JetStreamManager, lastSeq: number): Promise<StoredView> =>
  readEach(lastSeq, async (seq) => {
    const m = await jsm.direct.getMessage(STREAM, { seq });
    return m && m.seq === seq ? entryOf(m) : undefined;
  });

/**
 * Every sequence through the stream leader (STREAM.MSG.GET is answered by
 * the leader only): the stream as the cluster serves it. Not an ordered
 * consumer: that is an R1 consumer placed on some replica, which reads
 * that replica's store. A deleted or never-stored sequence is a "no message
 * found" error, not a read error; with no leader answering it gives up
 * rather than time out on every sequence.
 */
const readLeader = (jsm: JetStreamManager, lastSeq: number): Promise<StoredView> =>
  readEach(
    lastSeq,
    async (seq) => {
      const m = await jsm.streams.getMessage(STREAM, { seq });
      return m ? entryOf(m) : undefined;
    },
    { ignore: /no message found/i, maxErrors: 20 },
  );

/** The whole stream through an ordered consumer (used on a standalone server: its only store). */
async function readOrdered(js: JetStreamClient, lastSeq: number): Promise<StoredView> {
  const view: StoredView = { bySeq: new Map(), errors: 0 };
  const consumer = await js.consumers.get(STREAM);
  const messages = await consumer.consume({ max_messages: 512 });
  const guard = setTimeout(() => void messages.close(), 60_000);
  try {
    for await (const m of messages) {
      view.bySeq.set(m.seq, { id: m.headers?.get(ID_HEADER) ?? '', subject: m.subject });
      if (m.seq >= lastSeq || m.info.pending === 0) break;
    }
  } finally {
    clearTimeout(guard);
    await messages.close().catch(() => undefined);
  }
  return view;
}

const AUDIT_DURABLE = 'PROBE_AUDIT';

/**
 * A fresh R3 durable (deliver all, no acks) whose leader is moved to
 * `target`, read to the end: a consumer delivers from its leader's own copy
 * of the stream, so this is what a stage durable led from that node gets.
 */
async function auditConsumer(
  nc: NatsConnection,
  jsm: JetStreamManager,
  js: JetStreamClient,
  target: string,
): Promise<{ leader?: string; view: StoredView; pending?: number }> {
  const view: StoredView = { bySeq: new Map(), errors: 0 };
  const leaderOf = async () =>
    (await jsm.consumers.info(STREAM, AUDIT_DURABLE)).cluster?.leader || undefined;
  try {
    await jsm.consumers.add(STREAM, {
      durable_name: AUDIT_DURABLE,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
    });
    let leader = await until(leaderOf, 10_000);
    for (let i = 0; i < 10 && leader !== target; i++) {
      await nc
        .request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${STREAM}.${AUDIT_DURABLE}`, Empty, {
          timeout: 5_000,
        })
        .catch(() => undefined);
      const old = leader;
      leader = await until(async () => {
        const l = await leaderOf();
        return l && l !== old ? l : undefined;
      }, 15_000);
    }
    if (leader !== target) return { leader, view };
    const consumer = await js.consumers.get(STREAM, AUDIT_DURABLE);
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        view.bySeq.set(m.seq, { id: m.headers?.get(ID_HEADER) ?? '', subject: m.subject });
      }
      if (got === 0) break;
    }
    const info = await jsm.consumers.info(STREAM, AUDIT_DURABLE);
    return { leader: info.cluster?.leader, view, pending: info.num_pending };
  } catch {
    view.errors++;
    return { view };
  }
}

/** Who leads (after a read: `before->now` if it changed meanwhile). */
async function labelLeader(jsm: JetStreamManager, before?: string): Promise<string> {
  const now = (await streamLeader(jsm).catch(() => undefined)) ?? 'none';
  return before && before !== now ? `${before}->${now}` : now;
}

/**
 * Steps the stream leader down until `target` leads (2.9 has no preferred
 * placement for a step-down, so it is a few random draws). The leader that
 * leads in the end.
 */
async function leadTo(
  nc: NatsConnection,
  jsm: JetStreamManager,
  target: string,
): Promise<string | undefined> {
  let leader = await until(() => streamLeader(jsm), 10_000);
  for (let i = 0; i < 10 && leader !== target; i++) {
    await nc
      .request(`$JS.API.STREAM.LEADER.STEPDOWN.${STREAM}`, Empty, { timeout: 5_000 })
      .catch(() => undefined);
    const old = leader;
    leader = await until(async () => {
      const l = await streamLeader(jsm);
      return l && l !== old ? l : undefined;
    }, 15_000);
  }
  return leader;
}

/**
 * One replica's store, read alone: the copy is served by a standalone
 * nats-server (infra's NatsInstance, its own temp dir), so what comes back
 * is that node's file store and nothing else. A standalone server refuses
 * an R3 stream, so the copy's meta.inf says R1; its meta.sum must then
 * match, and rather than reimplement the store's keyed hash, the first
 * start's "checksums do not match" warning gives the new sum.
 */
async function readStoreOffline(snapshot: string): Promise<StoredView> {
  const server = await NatsInstance.create();
  try {
    await server.stop();
    const js = join(server.dir, 'js');
    rmSync(js, { recursive: true, force: true });
    cpSync(join(snapshot, 'js'), js, { recursive: true });
    const streamDir = join(js, 'jetstream', '$G', 'streams', STREAM);
    const meta = join(streamDir, 'meta.inf');
    writeFileSync(
      meta,
      readFileSync(meta, 'utf8').replace(/"num_replicas":\d+/, '"num_replicas":1'),
    );
    await server.start();
    await server.stop();
    const stored = readFileSync(join(streamDir, 'meta.sum'), 'utf8').trim();
    const log = readFileSync(join(server.dir, 'nats-server.log'), 'utf8');
    const sums = /checksums do not match "([0-9a-f]+)" vs "([0-9a-f]+)"/.exec(log)?.slice(1) ?? [];
    const computed = sums.find((sum) => sum !== stored);
    if (computed) writeFileSync(join(streamDir, 'meta.sum'), computed);
    await server.start();
    const nc = await connect({ servers: [server.url] });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5_000, checkAPI: false });
      const info = await jsm.streams.info(STREAM);
      if (!info.state.messages) return { bySeq: new Map(), errors: 0 };
      return await readOrdered(jetstream(nc), info.state.last_seq);
    } finally {
      await nc.close();
    }
  } finally {
    await server.destroy();
  }
}

// ---------------------------------------------------------------- the servers' logs

/** Lines worth reading after a loss: elections, resets, truncations, catch-ups. */
const INTERESTING =
  /leader|reset|truncat|catchup|catch up|snapshot|stepping down|quorum|WAL|mismatch|\[WRN\]|\[ERR\]/i;

function logLines(logDir: string, names: string[], since: number): string[] {
  const lines: string[] = [];
  for (const name of names) {
    const file = join(logDir, `nats-${name}.log`);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const stamp = /\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d+/.exec(line)?.[0];
      // The server logs local time; so does this parse (no zone given).
      const at = stamp ? new Date(stamp.replace(/\//g, '-').replace(' ', 'T')).getTime() : 0;
      if (at >= since && INTERESTING.test(line)) lines.push(`${name} ${line}`);
    }
  }
  return lines;
}

// ---------------------------------------------------------------- a round

async function runRound(round: number, options: Options): Promise<RoundResult> {
  const logDir = makeTempDir('tep-partition-probe-logs-');
  const cluster = await NatsCluster.create(3, { logDir });
  const connections: NatsConnection[] = [];
  const publishers: Publisher[] = [];
  let lane: BacklogLane | undefined;
  const phase: Phase = {};
  const started = Date.now();
  const urls = cluster.nodes.map((n) => n.url);
  try {
    // One management connection pinned to each node: "what node X sees".
    const managers: JetStreamManager[] = [];
    for (const node of cluster.nodes) {
      const nc = await connect({ servers: [node.url], maxReconnectAttempts: -1 });
      connections.push(nc);
      managers.push(await jetstreamManager(nc, { timeout: 2_000, checkAPI: false }));
    }
    const jsm = managers[0];
    const created = await until(
      () => jsm.streams.add(streamConfig(options.direct)).then(() => true),
      30_000,
      250,
    );
    if (!created) throw new Error('the stream could not be created');
    if (options.consumer) await addConsumers(jsm);

    // The incident's cut node led both the stream and the meta group.
    // No system account here, so only the stream leader can be moved.
    let leader = await until(() => streamLeader(jsm), 15_000);
    let meta = await until(() => cluster.metaLeader('n0'), 15_000);
    for (let i = 0; options.align && i < 8 && leader !== meta; i++) {
      await connections[0].request(`$JS.API.STREAM.LEADER.STEPDOWN.${STREAM}`, Empty, {
        timeout: 5_000,
      });
      const old = leader;
      leader = await until(async () => {
        const l = await streamLeader(jsm);
        return l && l !== old ? l : undefined;
      }, 15_000);
      meta = await until(() => cluster.metaLeader('n0'), 5_000);
    }
    if (!leader) throw new Error('no stream leader');

    // Publishers spread over the nodes, each preferring one but free to
    // reconnect elsewhere, as the ingress replicas connect with the seed list.
    for (let i = 0; i < options.publishers; i++) {
      const nc = await connect({
        servers: rotated(urls, i),
        noRandomize: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        name: `probe-publisher-${i}`,
      });
      connections.push(nc);
      publishers.push(new Publisher(i, nc, jetstream(nc, { timeout: 5_000 }), phase, options));
    }
    if (options.consumer) {
      const nc = await connect({ servers: urls, maxReconnectAttempts: -1, name: 'probe-lane' });
      connections.push(nc);
      lane = new BacklogLane(nc, jetstream(nc, { timeout: 5_000 }));
      await lane.start();
    }
    publishers.forEach((p) => p.start());
    await sleep(options.warmupSeconds * 1_000);

    // Cut whoever leads now (a step-down may have happened under load).
    const leading = (await until(() => streamLeader(jsm), 5_000)) ?? leader;
    const isolated = options.cutFollower
      ? cluster.names.find((name) => name !== leading)!
      : leading;
    const metaBefore = await cluster.metaLeader(isolated).catch(() => undefined);
    phase.isolated = isolated;
    phase.cutAt = Date.now();
    cluster.partition(isolated);
    const isolatedIndex = cluster.names.indexOf(isolated);
    const majority = managers.filter((_, i) => i !== isolatedIndex);
    // As scenarios.ts newLeader: the survivors' view, polled every 50 ms.
    const newLeader = await until(
      async () => {
        const seen = await Promise.all(majority.map((m) => streamLeader(m).catch(() => undefined)));
        return seen.find((l) => !!l && l !== isolated);
      },
      options.seconds * 1_000 - 500,
      50,
    );
    const electionMs = newLeader ? Date.now() - phase.cutAt : undefined;
    const majorityName = cluster.names.find((n) => n !== isolated)!;
    // Everything after the heal goes through a survivor: the cut-off node may
    // never rejoin (seen: offline, thousands behind, for minutes) and its
    // JetStream API then times out.
    const survivorIndex = cluster.names.indexOf(majorityName);
    const survivor = managers[survivorIndex];
    const metaAfter = await cluster.metaLeader(majorityName).catch(() => undefined);
    const cutLeft = phase.cutAt + options.seconds * 1_000 - Date.now();
    if (cutLeft > 0) await sleep(cutLeft);
    phase.healAt = Date.now();
    cluster.heal();
    await sleep(options.afterSeconds * 1_000);
    await Promise.all(publishers.map((p) => p.stop()));

    if (lane) {
      // Until both lanes have nothing pending or unacked: what "0 pending" meant in the incident.
      await until(
        async () => {
          const infos = await Promise.all(
            [MAIN_DURABLE, BACKLOG_DURABLE].map((d) => survivor.consumers.info(STREAM, d)),
          );
          return infos.every((c) => c.num_pending === 0 && c.num_ack_pending === 0)
            ? true
            : undefined;
        },
        30_000,
        250,
      );
      await lane.stop();
      // A durable delivers from its own leader's copy of the stream: which node that is matters.
      for (const durable of [MAIN_DURABLE, BACKLOG_DURABLE]) {
        const c = await survivor.consumers.info(STREAM, durable).catch(() => undefined);
        console.log(
          `  ${durable}: leader ${c?.cluster?.leader ?? '?'}, pending ${c?.num_pending ?? '?'}, ` +
            `ack pending ${c?.num_ack_pending ?? '?'}, delivered ${c?.delivered.stream_seq ?? '?'}`,
        );
      }
    }

    // Settled: a leader, both followers current, and every node's own store at the same last seq.
    const settled =
      (await until(
        async () => {
          const info = await survivor.streams.info(STREAM);
          const replicas = info.cluster?.replicas ?? [];
          if (!info.cluster?.leader || replicas.length !== 2) return undefined;
          if (!replicas.every((r) => r.current && !r.offline)) return undefined;
          const states = await Promise.all(cluster.monitorPorts.map((p) => nodeState(p)));
          return states.every(
            (s) => s?.last_seq === info.state.last_seq && s.messages === info.state.messages,
          )
            ? true
            : undefined;
        },
        // A replica that says it is current but holds other sequences stays so: 30 s is plenty.
        30_000,
        250,
      )) ?? false;

    const nodeStates: Record<string, NodeStreamState | undefined> = {};
    for (const [i, name] of cluster.names.entries()) {
      nodeStates[name] = await nodeState(cluster.monitorPorts[i]).catch(() => undefined);
    }
    const lastSeq = Math.max(0, ...Object.values(nodeStates).map((s) => s?.last_seq ?? 0));

    // Each node's own store as it is now, copied before anything else
    // touches the cluster: read offline below, it is the exact per-replica
    // view (a direct get may be answered by any replica, not the node asked).
    const snapshots = new Map<string, string>();
    for (const [i, name] of cluster.names.entries()) {
      const copy = makeTempDir(`tep-partition-probe-${name}-`);
      cpSync(join(cluster.nodes[i].dir, 'js'), join(copy, 'js'), { recursive: true });
      snapshots.set(name, copy);
    }

    const views = new Map<string, StoredView>();
    views.set(`leader(${await labelLeader(survivor)})`, await readLeader(survivor, lastSeq));
    if (options.direct) {
      for (const [i, name] of cluster.names.entries()) {
        views.set(`direct-via-${name}`, await readDirect(managers[i], lastSeq));
      }
    }

    // What clients see if the cut-off node leads again (any later election
    // may pick it): its replica is the stream then.
    let handback: string | undefined;
    if (options.tour) {
      // First, with the stream leader still healthy: a durable whose own
      // leader is the cut-off node, as any stage durable's may be.
      const audit = await auditConsumer(
        connections[survivorIndex],
        survivor,
        jetstream(connections[survivorIndex], { timeout: 5_000 }),
        isolated,
      );
      console.log(
        `  ${AUDIT_DURABLE}: led by ${audit.leader ?? '?'}, got ${audit.view.bySeq.size} messages, ` +
          `then pending ${audit.pending ?? '?'}`,
      );
      if (audit.leader === isolated) views.set(`durable-led-by-${isolated}`, audit.view);
      handback = await leadTo(connections[survivorIndex], survivor, isolated);
      if (handback === isolated) {
        await sleep(2_000);
        const view = await readLeader(survivor, lastSeq);
        views.set(`handed-back:leader(${await labelLeader(survivor, isolated)})`, view);
        if (lane) {
          // The incident's "0 pending": what the durables say once it leads.
          for (const durable of [MAIN_DURABLE, BACKLOG_DURABLE]) {
            const c = await survivor.consumers.info(STREAM, durable).catch(() => undefined);
            console.log(
              `  ${durable} with ${isolated} leading again: leader ${c?.cluster?.leader ?? '?'}, ` +
                `pending ${c?.num_pending ?? '?'}, ` +
                `ack floor ${c?.ack_floor.stream_seq ?? '?'}, delivered ${c?.delivered.stream_seq ?? '?'}`,
            );
          }
        }
      }
    }
    for (const [name, dir] of snapshots) views.set(`store-${name}`, await readStoreOffline(dir));
    const acks = publishers.flatMap((p) => p.acks);
    const ackedIds = new Set(acks.map((a) => a.msgId));
    const missing: Record<string, number> = {};
    const behind: Record<string, number> = {};
    const mismatched: Record<string, number> = {};
    const badAcks = new Map<AckRecord, string>();
    for (const [viewName, view] of views) {
      if (view.errors) {
        console.log(`  ${viewName}: ${view.errors} read errors, not judged`);
        continue;
      }
      const ids = new Set([...view.bySeq.values()].map((v) => v.id));
      // A replica's store that simply stops short (it never caught up) is
      // behind, not diverged: counted apart, and not a loss by itself.
      const top = viewName.startsWith('store-') ? Math.max(0, ...view.bySeq.keys()) : Infinity;
      const judged = acks.filter((a) => a.seq <= top);
      const shortBy = new Set(acks.filter((a) => a.seq > top).map((a) => a.msgId)).size;
      if (shortBy) behind[viewName] = shortBy;
      missing[viewName] = new Set(judged.filter((a) => !ids.has(a.msgId)).map((a) => a.msgId)).size;
      mismatched[viewName] = 0;
      for (const ack of judged) {
        const stored = view.bySeq.get(ack.seq);
        if (stored?.id === ack.msgId) continue;
        if (stored) mismatched[viewName]++;
        const why = stored ? `seq holds ${stored.id}` : 'seq empty';
        badAcks.set(
          ack,
          `${badAcks.get(ack) ?? ''}${viewName}: ${why}${ids.has(ack.msgId) ? ' (id elsewhere)' : ''}; `,
        );
      }
    }

    // The backlog lane's pattern: an acked original must have its copy stored.
    let movesLost: number | undefined;
    let undelivered: number | undefined;
    if (lane) {
      const final = [...views].find(([name]) => name.startsWith('leader('))![1];
      const copies = new Set(
        [...final.bySeq.values()].filter((v) => v.subject.startsWith(BACKLOG)).map((v) => v.id),
      );
      const lostMoves = lane.moves.filter((m) => !copies.has(m.probeId));
      movesLost = lostMoves.length;
      for (const m of lostMoves.slice(0, 20)) {
        console.log(
          `  MOVE LOST ${m.probeId} (orig seq ${m.origSeq}) -> seq ${m.seq} dup=${m.duplicate} ` +
            `holds ${final.bySeq.get(m.seq)?.id ?? '-'} via ${m.server} at ${iso(m.at)}`,
        );
      }
      // "No consumer ever got them": a flood message's last stop is the backlog lane.
      const tenantOf = new Map(acks.map((a) => [a.msgId, a.tenant]));
      undelivered = [...ackedIds].filter((id) =>
        tenantOf.get(id) === 'flood'
          ? !lane!.deliveredBacklog.has(id)
          : !lane!.deliveredMain.has(id),
      ).length;
    }

    const elections = logLines(logDir, cluster.names, phase.cutAt - 1_000).filter((l) =>
      /new stream leader/i.test(l),
    ).length;
    const lost =
      Object.values(missing).some((n) => n > 0) ||
      Object.values(mismatched).some((n) => n > 0) ||
      (movesLost ?? 0) > 0;

    const result: RoundResult = {
      round,
      published: publishers.reduce((n, p) => n + p.attempted.size, 0),
      acked: ackedIds.size,
      ackRecords: acks.length,
      duplicates: acks.filter((a) => a.duplicate).length,
      ackedOnCutOff: acks.filter((a) => a.onCutOff).length,
      failedPublishes: publishers.reduce((n, p) => n + p.failures, 0),
      isolated,
      metaBefore,
      aligned: metaBefore === isolated,
      newLeader,
      electionMs,
      metaAfter,
      leaderElections: elections,
      settled,
      handback,
      lastSeq,
      nodeStates,
      missing,
      behind,
      mismatched,
      ...(lane ? { moves: lane.moves.length, movesLost, undelivered } : {}),
      lost,
    };

    for (const ack of acks.filter((a) => a.onCutOff).slice(0, 10)) {
      console.log(
        `  ack while on the cut-off node: ${ack.msgId} seq ${ack.seq} dup=${ack.duplicate} ` +
          `at +${ack.at - phase.cutAt} ms`,
      );
    }
    if (lost) {
      for (const [ack, why] of [...badAcks].slice(0, 30)) {
        console.log(
          `  LOST ${ack.msgId} seq ${ack.seq} dup=${ack.duplicate} via ${ack.server} ` +
            `at ${iso(ack.at)} (+${ack.at - phase.cutAt} ms from the cut): ${why}`,
        );
      }
      result.keptIn = keepEvidence(round, cluster, logDir, snapshots, {
        result,
        phase,
        badAcks: [...badAcks].map(([ack, why]) => ({ ...ack, why })),
        moves: lane?.moves.filter((m) => m.duplicate),
        log: logLines(logDir, cluster.names, started),
      });
      writeFileSync(
        join(result.keptIn, 'acks.csv'),
        ['msg_id,seq,duplicate,publisher,server,at,on_cut_off']
          .concat(
            acks.map(
              (a) =>
                `${a.msgId},${a.seq},${a.duplicate},${a.publisher},${a.server},${iso(a.at)},${a.onCutOff}`,
            ),
          )
          .join('\n'),
      );
    }
    return result;
  } finally {
    await lane?.stop().catch(() => undefined);
    await Promise.all(publishers.map((p) => p.stop().catch(() => undefined)));
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
    await cluster.destroy();
    // Fresh cluster per round: each round's temp stores and logs go now, not at exit.
    removeTempDirs();
  }
}

/** The stores (js/), configs and logs of a failing round, outside any temp dir. */
function keepEvidence(
  round: number,
  cluster: NatsCluster,
  logDir: string,
  snapshots: Map<string, string>,
  summary: object,
): string {
  let dir = `/tmp/partition-probe-fail-${round}`;
  if (existsSync(dir)) dir = `${dir}-${Date.now()}`;
  mkdirSync(dir, { recursive: true });
  for (const [i, node] of cluster.nodes.entries()) {
    cpSync(node.dir, join(dir, cluster.names[i]), { recursive: true });
  }
  // As they were once settled, before the hand-back step-downs changed anything.
  for (const [name, copy] of snapshots) {
    cpSync(copy, join(dir, `${name}-at-settle`), { recursive: true });
  }
  cpSync(logDir, join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  return dir;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const [major, minor] = natsServerVersion();
  console.log(
    `nats-server ${major}.${minor}; ${options.rounds} rounds, cut ${options.seconds} s, ` +
      `${options.publishers} publishers x ${options.rate}/s (window ${options.window})` +
      `${options.consumer ? ', backlog-lane consumer' : ''}${options.direct ? ', direct gets' : ''}` +
      `${options.tour ? ', hand-back to the cut-off node' : ''}`,
  );
  const results: RoundResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const r = await runRound(round, options);
    results.push(r);
    console.log(
      `round ${r.round}: published ${r.published}, acked ${r.acked} (${r.duplicates} dup acks, ` +
        `${r.ackedOnCutOff} on the cut-off node, ${r.failedPublishes} failed tries), ` +
        `cut ${r.isolated}${r.aligned ? ' (meta leader too)' : ` (meta ${r.metaBefore ?? '?'})`}, ` +
        `new leader ${r.newLeader ?? 'none'} in ${r.electionMs ?? '-'} ms, ` +
        `${r.leaderElections} elections, settled ${r.settled}, last seq ${r.lastSeq}, ` +
        `node last seqs ${Object.entries(r.nodeStates)
          .map(([n, st]) => `${n}=${st?.last_seq ?? '?'}`)
          .join(' ')}, handed back to ${r.handback ?? '-'}, ` +
        `missing ${JSON.stringify(r.missing)}, mismatched ${JSON.stringify(r.mismatched)}` +
        (Object.keys(r.behind).length ? `, behind ${JSON.stringify(r.behind)}` : '') +
        (r.moves !== undefined
          ? `, moves ${r.moves} (lost ${r.movesLost}), undelivered ${r.undelivered}`
          : '') +
        (r.lost ? ` LOST -> ${r.keptIn}` : ''),
    );
  }
  writeFileSync('/tmp/partition-probe-results.json', JSON.stringify({ options, results }, null, 2));
  const lostRounds = results.filter((r) => r.lost).length;
  console.log(`${lostRounds} of ${results.length} rounds lost acknowledged messages`);
  return lostRounds > 0 ? 1 : 0;
}

// Signals exit through process.exit, whose hook (infra.ts) kills the servers and removes temp dirs.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
