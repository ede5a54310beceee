/**
 * The fault suite's own infrastructure: a PostgreSQL cluster and a NATS
 * server on free ports in temporary directories (never the shared ones on
 * 5432/4222, which other engineers' tests use), and the platform's services
 * as child processes that can be killed with SIGKILL and started again on
 * the same port. Output goes to log files, not pipes.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  closeSync,
  mkdirSync,
  writeFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portOpen } from '@tep/service-process';
import { NATS_SERVER, writeSecureNatsConfig, type SecureNatsConfig } from '../security/secure-nats';
import { promisify } from 'node:util';

export const ROOT = join(__dirname, '..', '..');
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const run = promisify(execFile);

export async function waitForPort(port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await sleep(100);
  }
}

/** Every temporary directory this process made, removed by `removeTempDirs`. */
const tempDirs = new Set<string>();

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Children and clusters to end if this process dies before its own clean-up ran. */
const liveChildren = new Set<ChildProcess>();
const liveClusters = new Set<() => void>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  installExitHook();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
    for (const stop of liveClusters) stop();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

export function removeTempDirs(): void {
  for (const dir of tempDirs) {
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

/** The newest /usr/lib/postgresql/<version>/bin, or FAULTS_PG_BIN. */
export function postgresBinDir(): string {
  if (process.env.FAULTS_PG_BIN) return process.env.FAULTS_PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error('No PostgreSQL server binaries (set FAULTS_PG_BIN)');
  return join(base, versions[0], 'bin');
}

export { NATS_SERVER };

/**
 * initdb refuses to run as root: as root, the cluster belongs to the
 * `postgres` system user (the Debian packages create it) and every pg_ctl
 * call runs through `runuser`.
 */
function asPostgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('Running as root needs a "postgres" system user to own the test cluster');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export class PostgresInstance {
  readonly adminUrl: string;
  private readonly bin = postgresBinDir();
  private readonly owner = asPostgresUser();

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  private async pg(tool: string, args: string[]): Promise<string> {
    const [command, argv] = this.owner
      ? ['runuser', ['-u', 'postgres', '--', join(this.bin, tool), ...args]]
      : [join(this.bin, tool), args];
    const { stdout } = await run(command, argv, { timeout: 60_000 });
    return stdout;
  }

  static async create(): Promise<PostgresInstance> {
    const dir = makeTempDir('tep-faults-pg-');
    const instance = new PostgresInstance(dir, await freePort());
    if (instance.owner) chownSync(dir, instance.owner.uid, instance.owner.gid);
    await instance.pg('initdb', [
      '-D',
      instance.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await instance.start();
    const emergencyStop = () => instance.stopSync();
    liveClusters.add(emergencyStop);
    installExitHook();
    instance.forget = () => liveClusters.delete(emergencyStop);
    return instance;
  }

  private forget?: () => void;

  /** For the exit hook: no promises there. */
  private stopSync(): void {
    const args = ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop'];
    const pgCtl = join(this.bin, 'pg_ctl');
    if (this.owner) spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, ...args]);
    else spawnSync(pgCtl, args);
  }

  async start(): Promise<void> {
    // fsync off: an immediate stop is a process crash, not an OS crash, so nothing is lost.
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c max_connections=200',
    ].join(' ');
    await this.pg('pg_ctl', [
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      join(this.dir, 'postgres.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /** `immediate` is a crash (SIGQUIT, recovery on start); `fast` a clean shutdown. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    this.forget?.();
  }
}

export class NatsInstance {
  readonly url: string;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  /** Set when it runs the production configuration (TLS, a user per service). */
  readonly secure?: SecureNatsConfig;

  private constructor(
    readonly dir: string,
    readonly port: number,
    secure: boolean,
    /** A configuration file instead of the single-server command line. */
    private readonly configFile?: string,
    /** Where its log goes (default: its own temporary directory, removed at the end). */
    private readonly logFile = join(dir, 'nats-server.log'),
  ) {
    this.url = `${secure ? 'tls' : 'nats'}://127.0.0.1:${port}`;
    if (secure) this.secure = writeSecureNatsConfig(dir, port);
  }

  /** One node of a cluster, from its configuration file (`NatsCluster`). */
  static async fromConfig(
    dir: string,
    port: number,
    configFile: string,
    logFile?: string,
  ): Promise<NatsInstance> {
    const instance = new NatsInstance(dir, port, false, configFile, logFile);
    await instance.start();
    return instance;
  }

  /** SIGHUP: nats-server reloads its configuration file. */
  reload(): void {
    if (this.running) this.child!.kill('SIGHUP');
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  static async create(options: { secure?: boolean } = {}): Promise<NatsInstance> {
    const instance = new NatsInstance(
      makeTempDir('tep-faults-nats-'),
      await freePort(),
      options.secure ?? false,
    );
    await instance.start();
    return instance;
  }

  async start(): Promise<void> {
    const log = openSync(this.logFile, 'a');
    const child = spawn(
      NATS_SERVER,
      this.configFile
        ? ['-c', this.configFile]
        : this.secure
          ? ['-c', this.secure.configFile]
          : ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', join(this.dir, 'js')],
      { stdio: ['ignore', log, log], env: { ...process.env, ...this.secure?.serverEnv } },
    );
    closeSync(log);
    track(child);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitForPort(this.port, 30_000, 'nats-server');
  }

  /** SIGKILL: a crash. SIGTERM: a clean shutdown. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.exited;
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
  }
}

/** `nats-server --version` as [major, minor]. */
export function natsServerVersion(): [number, number] {
  const out = spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const [major, minor] = (/v(\d+)\.(\d+)/.exec(out) ?? []).slice(1).map(Number);
  return [major ?? 0, minor ?? 0];
}

/**
 * Three nats-server processes clustered on loopback, JetStream on each with
 * its own store, as deploy/ runs them: a full mesh of explicit routes.
 * `partition(node)` cuts one node off from the other two the way an
 * operator stops a cluster route: every node's configuration is rewritten
 * without the routes to or from that node and reloaded (SIGHUP), which
 * closes those routes; its process and its client port stay up. `heal()`
 * reloads the full mesh. Each node advertises a route address nobody
 * listens on, so no node learns another's route port by gossip and
 * reconnects around a cut.
 */
export class NatsCluster {
  readonly nodes: NatsInstance[] = [];
  readonly names: string[] = [];
  /** Each node's monitoring port (/routez, /jsz: what it sees of the cluster). */
  readonly monitorPorts: number[] = [];
  private readonly clientPorts: number[] = [];
  private readonly clusterPorts: number[] = [];
  private readonly dirs: string[] = [];
  private closedPort = 0;
  /** sync_interval: always where the server supports it (2.10+), as in deploy/. */
  readonly syncAlways: boolean;

  private constructor(syncAlways: boolean) {
    this.syncAlways = syncAlways;
  }

  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  readonly secure = undefined;

  /**
   * `syncAlways` (default true, as deploy/) takes effect where the server
   * has it (2.10+). `logDir`: the nodes' logs go there (nats-n0.log …), so
   * they outlive the run for a post-mortem.
   */
  static async create(
    size = 3,
    options: { syncAlways?: boolean; logDir?: string } = {},
  ): Promise<NatsCluster> {
    const [major, minor] = natsServerVersion();
    const supported = major > 2 || (major === 2 && minor >= 10);
    const cluster = new NatsCluster((options.syncAlways ?? true) && supported);
    const dir = makeTempDir('tep-faults-nats-cluster-');
    for (let i = 0; i < size; i++) {
      cluster.names.push(`n${i}`);
      cluster.clientPorts.push(await freePort());
      cluster.clusterPorts.push(await freePort());
      cluster.monitorPorts.push(await freePort());
      cluster.dirs.push(join(dir, `n${i}`));
      mkdirSync(cluster.dirs[i], { recursive: true });
    }
    cluster.closedPort = await freePort();
    for (let i = 0; i < size; i++) {
      cluster.nodes.push(
        await NatsInstance.fromConfig(
          cluster.dirs[i],
          cluster.clientPorts[i],
          cluster.writeConfig(i, undefined),
          options.logDir && join(options.logDir, `nats-n${i}.log`),
        ),
      );
    }
    return cluster;
  }

  /** Node i's configuration, without any route to or from `isolated`. */
  private writeConfig(i: number, isolated: number | undefined): string {
    const routes =
      i === isolated
        ? []
        : this.clusterPorts
            .map((port, j) => (j === i || j === isolated ? undefined : `nats://127.0.0.1:${port}`))
            .filter((url): url is string => !!url);
    const config = [
      `server_name: ${this.names[i]}`,
      `listen: 127.0.0.1:${this.clientPorts[i]}`,
      `http: 127.0.0.1:${this.monitorPorts[i]}`,
      'jetstream {',
      `  store_dir: ${join(this.dirs[i], 'js')}`,
      ...(this.syncAlways ? ['  sync_interval: always'] : []),
      '}',
      'cluster {',
      '  name: tep-faults',
      `  listen: 127.0.0.1:${this.clusterPorts[i]}`,
      `  advertise: 127.0.0.1:${this.closedPort}`,
      `  routes: [${routes.join(', ')}]`,
      '}',
      '',
    ].join('\n');
    const file = join(this.dirs[i], 'nats.conf');
    writeFileSync(file, config);
    return file;
  }

  /** How many routes each node has open now (its /routez); null where it does not answer. */
  async routeCounts(): Promise<(number | null)[]> {
    return Promise.all(
      this.monitorPorts.map((port) =>
        fetch(`http://127.0.0.1:${port}/routez`, { signal: AbortSignal.timeout(2_000) })
          .then(async (res) => ((await res.json()) as { num_routes: number }).num_routes)
          .catch(() => null),
      ),
    );
  }

  /** The JetStream meta leader as node `via` sees it (its /jsz), or undefined. */
  async metaLeader(via: string): Promise<string | undefined> {
    const port = this.monitorPorts[this.names.indexOf(via)];
    const res = await fetch(`http://127.0.0.1:${port}/jsz`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { meta_cluster?: { leader?: string } };
    return body.meta_cluster?.leader || undefined;
  }

  /**
   * Each node's own copy of a stream (its /jsz: the replica it stores, not
   * the leader's answer): after a partition of the stream leader,
   * nats-server 2.9.10 can leave the cut-off node's copy diverged — other
   * messages at the same sequences, acknowledged ones missing — while it
   * reports itself current (tests/faults/partition-probe.ts).
   */
  async streamCopies(
    stream: string,
  ): Promise<Record<string, { messages: number; last_seq: number } | null>> {
    const copies: Record<string, { messages: number; last_seq: number } | null> = {};
    for (const [i, name] of this.names.entries()) {
      copies[name] = await fetch(
        `http://127.0.0.1:${this.monitorPorts[i]}/jsz?accounts=true&streams=true`,
        { signal: AbortSignal.timeout(2_000) },
      )
        .then(async (res) => {
          const body = (await res.json()) as {
            account_details?: {
              stream_detail?: { name: string; state: { messages: number; last_seq: number } }[];
            }[];
          };
          const detail = (body.account_details ?? [])
            .flatMap((a) => a.stream_detail ?? [])
            .find((s) => s.name === stream);
          return detail
            ? { messages: detail.state.messages, last_seq: detail.state.last_seq }
            : null;
        })
        .catch(() => null);
    }
    return copies;
  }

  node(name: string): NatsInstance {
    const index = this.names.indexOf(name);
    if (index < 0) throw new Error(`no cluster node ${name}`);
    return this.nodes[index];
  }

  /** Stops every route to and from the node; clients on its port still reach it. */
  partition(name: string): void {
    const isolated = this.names.indexOf(name);
    if (isolated < 0) throw new Error(`no cluster node ${name}`);
    this.nodes.forEach((node, i) => {
      this.writeConfig(i, isolated);
      node.reload();
    });
  }

  heal(): void {
    this.nodes.forEach((node, i) => {
      this.writeConfig(i, undefined);
      node.reload();
    });
  }

  /** Every node: a whole-cluster crash (`SIGKILL`) or shutdown. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(signal)));
  }

  async start(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => !n.running).map((n) => n.start()));
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
  }
}
