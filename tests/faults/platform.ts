/**
 * The whole platform for the fault suite: its own PostgreSQL and NATS, the
 * five services as processes, a controllable fake LLM, and per tenant an SDP
 * simulator behind a reply-dropping proxy. Tenants are created through the
 * real tenant-registry API.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Pool } from 'pg';
import { createTopology, stageLanes, type StageName, type Topology } from '@tep/contracts';
import { HEADER, natsConnectionOptions, natsSettingsOf, type NatsUser } from '@tep/pipeline';
import { provisionDatabase, withDatabase } from '@tep/data';
import {
  startFakeChatCompletionsServer,
  type FakeChatCompletionsServer,
  type FakeChatReply,
} from '@tep/enhancement-synthesis';
import { ServiceProcess } from '@tep/service-process';
import { startPgBouncer, type PgBouncer } from '@tep/testing';
import { NatsCluster, NatsInstance, PostgresInstance, removeTempDirs, sleep } from './infra';
import { TcpProxy } from './tcp-proxy';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { postWebhook } from './load';
import { SdpSimulatorProcess } from './simulator';

export const SERVICE_NAMES = [
  'tenant-registry',
  'webhook-ingress',
  'context-gatherer',
  'llm-synthesizer',
  'servicedesk-poster',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export const WORKERS: readonly StageName[] = [
  'context-gatherer',
  'llm-synthesizer',
  'servicedesk-poster',
];

export interface PlatformOptions {
  tenants: number;
  logDir: string;
  /** How long the fake model takes per answer (widens the in-flight window). */
  llmDelayMs: number;
  /** The synthesizer's per-attempt LLM timeout. */
  llmTimeoutMs: number;
  /** The poster's per-attempt SDP timeout. */
  sdpTimeoutMs: number;
  /** nats-server with deploy/'s users and permissions over TLS; each service as its own user. */
  secureNats: boolean;
  /** Three clustered nats-servers, streams and KV buckets with three replicas (R3). */
  cluster: boolean;
  /** Processes per service; with two, a round-robin in front of the ingress replicas. */
  replicas: number;
  /** PgBouncer in transaction pooling mode between every service and PostgreSQL. */
  pgbouncer: boolean;
  log: (line: string) => void;
}

/** One lane (main or backlog) of a worker stage's consumers. */
export interface ConsumerState {
  durable: string;
  /** The lane's subjects start with this. */
  subjectPrefix: string;
  pending: number;
  ackPending: number;
  redelivered: number;
  /** Stream sequences: every unacknowledged message lies after the floor, up to delivered. */
  ackFloorSeq: number;
  deliveredSeq: number;
}

export type LlmMode = 'ok' | 'error500' | 'hang';

/** The fake model: answers after a delay, fails, hangs, or holds every reply until released. */
export class FakeLlm {
  mode: LlmMode = 'ok';
  private gate?: { promise: Promise<void>; open: () => void };
  server!: FakeChatCompletionsServer;

  constructor(private readonly delayMs: number) {}

  async start(): Promise<void> {
    this.server = await startFakeChatCompletionsServer((body) => this.reply(body.messages));
  }

  /** Replies wait until `release()` (requests keep arriving and piling up). */
  hold(): void {
    if (this.gate) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  release(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  private async reply(messages: { role: string; content: string }[] | undefined) {
    if (this.gate) await this.gate.promise;
    switch (this.mode) {
      case 'error500':
        return { kind: 'error', status: 500, message: 'fault injection: model down' } as const;
      case 'hang':
        return { kind: 'hang' } as const;
      case 'ok': {
        const user = messages?.find((m) => m.role === 'user')?.content ?? '';
        const subject = /"subject"\s*:\s*"([^"]*)"/.exec(user)?.[1] ?? 'the ticket';
        const reply: FakeChatReply = {
          kind: 'completion',
          delayMs: this.delayMs,
          content: {
            likely_cause: `Fault-suite model answer for ${subject}`,
            suggested_actions: ['Check the service', 'Confirm with the requester'],
            related_tickets: [],
            confidence: 0.7,
          },
        };
        return reply;
      }
    }
  }

  close(): Promise<void> {
    this.release();
    return this.server?.close() ?? Promise.resolve();
  }
}

export interface Tenant {
  index: number;
  tenantId: string;
  webhookSecret: string;
  sdp: SdpSimulatorProcess;
  /** What the tenant's servicedesk_url points at: a fault proxy in front of the simulator. */
  proxy: FaultProxy;
  proxyLog: WriteStream;
}

export class Platform {
  pg!: PostgresInstance;
  nats!: NatsInstance | NatsCluster;
  /** Set with `pgbouncer`: what the services' DATABASE_URLs point at. */
  bouncer?: PgBouncer;
  /** Set with two or more replicas: the webhook URL's round-robin over the ingress replicas. */
  ingressBalancer?: TcpProxy;
  /** Every service's replicas, in start order. */
  readonly services = new Map<ServiceName, ServiceProcess[]>();
  llm!: FakeLlm;
  readonly tenants: Tenant[] = [];
  private readonly simulators: SdpSimulatorProcess[] = [];
  /** Superuser pool in the platform's database (bypasses RLS: for counting only). */
  admin!: Pool;
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  readonly topology: Topology = createTopology('');
  private readonly adminToken = `faults-admin-${randomBytes(16).toString('hex')}`;
  private readonly encryptionKey = randomBytes(32)
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
  private urls!: { app: string; registry: string; poster: string; owner: string };

  private constructor(private readonly options: PlatformOptions) {}

  static async start(options: PlatformOptions): Promise<Platform> {
    const platform = new Platform(options);
    try {
      await platform.boot();
    } catch (error) {
      await platform.stop();
      throw error;
    }
    return platform;
  }

  /** One replica of a service (the first by default). */
  service(name: ServiceName, replica = 0): ServiceProcess {
    const service = this.services.get(name)?.[replica];
    if (!service) throw new Error(`${name} replica ${replica} is not running`);
    return service;
  }

  replicasOf(name: ServiceName): ServiceProcess[] {
    return this.services.get(name) ?? [];
  }

  get allServices(): ServiceProcess[] {
    return [...this.services.values()].flat();
  }

  get cluster(): NatsCluster | undefined {
    return this.nats instanceof NatsCluster ? this.nats : undefined;
  }

  private readonly nodeManagers = new Map<
    string,
    Promise<{ nc: NatsConnection; jsm: JetStreamManager }>
  >();

  /**
   * JetStream management through one cluster node only: what that node
   * sees. The suite's own connection may sit on a killed or partitioned
   * node, where the cluster's state cannot be read.
   */
  async jsmOn(node: string): Promise<JetStreamManager> {
    let entry = this.nodeManagers.get(node);
    if (!entry) {
      entry = (async () => {
        const nc = await connect({
          servers: [this.cluster!.node(node).url],
          name: `fault-suite-${node}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
        });
        return { nc, jsm: await jetstreamManager(nc, { timeout: 3_000 }) };
      })();
      entry.catch(() => this.nodeManagers.delete(node));
      this.nodeManagers.set(node, entry);
    }
    return (await entry).jsm;
  }

  private async boot(): Promise<void> {
    const { log } = this.options;
    mkdirSync(this.options.logDir, { recursive: true });
    const started = Date.now();
    if (this.options.cluster && this.options.secureNats) {
      throw new Error('--cluster runs without TLS and users; --secure-nats runs one server');
    }
    [this.pg, this.nats] = await Promise.all([
      PostgresInstance.create(),
      this.options.cluster
        ? NatsCluster.create(3, { logDir: this.options.logDir })
        : NatsInstance.create({ secure: this.options.secureNats }),
    ]);
    const cluster = this.cluster;
    log(
      `postgres on 127.0.0.1:${this.pg.port}, ` +
        (cluster
          ? `a cluster of ${cluster.nodes.length} nats-servers (${this.nats.url}; sync_interval: ${cluster.syncAlways ? 'always' : 'default, this nats-server predates sync_interval'})`
          : `nats-server on ${this.nats.url}`) +
        (this.nats.secure ? ' (TLS, a NATS user per service)' : ''),
    );
    const natsUser = (user: NatsUser) => this.nats.secure?.envFor(user) ?? {};

    const database = 'ai_agents';
    const base = `postgres://%s:%s@127.0.0.1:${this.pg.port}/${database}`;
    const role = (name: string) => base.replace('%s', name).replace('%s', name);
    this.urls = {
      app: role('tep_app'),
      registry: role('tep_registry'),
      poster: role('tep_poster'),
      owner: role('tep_owner'),
    };
    await provisionDatabase({
      adminUrl: this.pg.adminUrl,
      ownerUrl: this.urls.owner,
      applicationUrl: this.urls.app,
      registryUrl: this.urls.registry,
      posterUrl: this.urls.poster,
    });
    // The services' URLs through the pooler; provisioning and counting go straight to PostgreSQL.
    const pooled = (url: string) => this.bouncer?.through(url) ?? url;
    if (this.options.pgbouncer) {
      this.bouncer = await startPgBouncer({
        serverPort: this.pg.port,
        users: ['tep_app', 'tep_registry', 'tep_poster'],
        // Fewer server connections than the services' pools hold: they really share.
        poolSize: 10,
      });
      log(`PgBouncer (transaction pooling) on 127.0.0.1:${this.bouncer.port}`);
    }
    this.admin = new Pool({
      connectionString: withDatabase(this.pg.adminUrl, database),
      max: 4,
      connectionTimeoutMillis: 3_000,
    });
    // A restarted Postgres ends idle connections: the pool drops them and reconnects.
    this.admin.on('error', () => undefined);

    this.nc = await connect({
      ...natsConnectionOptions(
        natsSettingsOf({ NATS_URL: this.nats.url, ...natsUser('tep-admin') }),
        'fault-suite',
      ),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    this.jsm = await jetstreamManager(this.nc);

    this.llm = new FakeLlm(this.options.llmDelayMs);
    await this.llm.start();

    const common = {
      DATABASE_URL: pooled(this.urls.app),
      // Debian's PgBouncer (1.18) cannot carry a named statement across server connections.
      ...(this.options.pgbouncer ? { DATABASE_PREPARED_STATEMENTS: 'false' } : {}),
      NATS_URL: this.nats.url,
      NATS_STREAM_REPLICAS: cluster ? '3' : '1',
      TENANT_ENCRYPTION_KEY: this.encryptionKey,
      ALLOW_INSECURE_SERVICEDESK_URLS: 'true',
      LOG_LEVEL: 'info',
    };
    const env: Record<ServiceName, Record<string, string>> = {
      'tenant-registry': {
        ...common,
        DATABASE_URL: pooled(this.urls.registry),
        ADMIN_TOKENS: this.adminToken,
        GRPC_PORT: '0',
      },
      'webhook-ingress': common,
      'context-gatherer': common,
      'llm-synthesizer': {
        ...common,
        LLM_BASE_URL: this.llm.server.baseUrl,
        LLM_API_KEY: 'fault-suite-key',
        LLM_TIMEOUT_MS: String(this.options.llmTimeoutMs),
      },
      'servicedesk-poster': {
        ...common,
        DATABASE_URL: pooled(this.urls.poster),
        SDP_TIMEOUT_MS: String(this.options.sdpTimeoutMs),
      },
    };
    const { replicas } = this.options;
    const start = async (name: ServiceName) => {
      const processes = await Promise.all(
        Array.from({ length: replicas }, (_, r) =>
          ServiceProcess.start({
            // Replicas log to files of their own: context-gatherer-1.log, -2.log.
            name: replicas > 1 ? `${name}-${r + 1}` : name,
            script: `apps/${name}/src/main.ts`,
            env: { NODE_ENV: 'test', ...env[name], ...natsUser(name) },
            output: { logDir: this.options.logDir },
          }),
        ),
      );
      this.services.set(name, processes);
    };
    if (replicas > 1) {
      // Every replica of every service at once, as a rollout does: the
      // registries create the topology, the others wait for it.
      await Promise.all(SERVICE_NAMES.map(start));
      this.ingressBalancer = await TcpProxy.start(
        this.replicasOf('webhook-ingress').map((s) => s.port),
      );
    } else {
      // The registry first: it creates the streams; then the rest side by side.
      await start('tenant-registry');
      await Promise.all(SERVICE_NAMES.filter((n) => n !== 'tenant-registry').map(start));
    }
    log(
      `services healthy after ${((Date.now() - started) / 1000).toFixed(1)} s` +
        (replicas > 1
          ? ` (${replicas} replicas of each; ingress round-robin on ${this.ingressBalancer!.url})`
          : ''),
    );

    const indexes = Array.from({ length: this.options.tenants }, (_, i) => i);
    this.tenants.push(...(await Promise.all(indexes.map((i) => this.createTenant(i)))));
    await this.waitForIngressDirectory();
    log(`${this.tenants.length} tenants created through the registry API`);
  }

  private async createTenant(index: number): Promise<Tenant> {
    const apiKey = `faults-sdp-key-${index}-${randomBytes(4).toString('hex')}`;
    const sdp = await SdpSimulatorProcess.start(`sdp-tenant-${index}`, apiKey, this.options.logDir);
    this.simulators.push(sdp);
    const proxyLog = createWriteStream(join(this.options.logDir, `sdp-proxy-tenant-${index}.log`));
    const proxy = await startFaultProxy(sdp.url, (line) => void proxyLog.write(`${line}\n`));
    const res = await fetch(`${this.service('tenant-registry').url}/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: `Fault Suite MSP ${index + 1}`,
        servicedesk_url: proxy.url,
        servicedesk_api_key: apiKey,
        tier: 'basic',
      }),
    });
    if (res.status !== 201) {
      throw new Error(`POST /tenants answered ${res.status}: ${await res.text()}`);
    }
    const created = (await res.json()) as { tenant_id: string; webhook_secret: string };
    return {
      index,
      tenantId: created.tenant_id,
      webhookSecret: created.webhook_secret,
      sdp,
      proxy,
      proxyLog,
    };
  }

  /** The URL SDP is configured with: the ingress, or the round-robin in front of its replicas. */
  webhookUrl(
    tenant: Tenant,
    base = this.ingressBalancer?.url ?? this.service('webhook-ingress').url,
  ): string {
    return `${base}/webhook/servicedesk?tenant_id=${tenant.tenantId}`;
  }

  /** Each ingress replica learns tenants from the registry's directory: wait until all know all. */
  private async waitForIngressDirectory(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (const ingress of this.replicasOf('webhook-ingress')) {
      for (const tenant of this.tenants) {
        for (;;) {
          const reply = await postWebhook(
            this.webhookUrl(tenant, ingress.url),
            tenant.webhookSecret,
            {
              ticket_id: 'PROBE',
              subject: '',
            },
          );
          if (reply.status === 422) break;
          if (Date.now() > deadline) {
            throw new Error(`${ingress.name} never learned tenant ${tenant.index}`);
          }
          await sleep(200);
        }
      }
    }
  }

  /** Pending and unacknowledged messages of each worker's durable consumers (main and backlog lane). */
  async consumerState(): Promise<Record<StageName, ConsumerState[]>> {
    const entries = await Promise.all(
      WORKERS.map(async (stage) => {
        const spec = this.topology.consumers[stage];
        const lanes = await Promise.all(
          stageLanes(spec).map(async (lane) => {
            const info = await this.jsm.consumers.info(this.topology.ticketsStream, lane.durable);
            return {
              durable: lane.durable,
              subjectPrefix: lane.filterSubject.replace(/>$/, ''),
              pending: info.num_pending,
              ackPending: info.num_ack_pending,
              redelivered: info.num_redelivered,
              ackFloorSeq: info.ack_floor.stream_seq,
              deliveredSeq: info.delivered.stream_seq,
            };
          }),
        );
        return [stage, lanes] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<StageName, ConsumerState[]>;
  }

  /**
   * Messages each worker process is working on now (its worker_active_tasks
   * gauge). A delivery the server already gave to someone else can still be
   * running — and still post a note — so a drain needs this to be 0 too.
   */
  async activeTasks(): Promise<Record<StageName, number>> {
    const active = async (replica: ServiceProcess) => {
      // A killed replica holds nothing any more (its deliveries go back to the server).
      if (!replica.running) return 0;
      const res = await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(2_000) });
      const text = await res.text();
      const value = /^worker_active_tasks\{[^}]*\} (\d+)/m.exec(text)?.[1];
      return value === undefined ? 0 : Number(value);
    };
    const entries = await Promise.all(
      WORKERS.map(async (stage) => {
        const counts = await Promise.all(this.replicasOf(stage).map(active));
        return [stage, counts.reduce((a, b) => a + b, 0)] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<StageName, number>;
  }

  private readonly messageJobs = new Map<number, { subject: string; jobId: string } | null>();

  /** Subject and job id of a stored message (immutable, so cached). */
  async messageJob(seq: number): Promise<{ subject: string; jobId: string } | null> {
    if (this.messageJobs.has(seq)) return this.messageJobs.get(seq)!;
    const stored = await this.jsm.streams
      .getMessage(this.topology.ticketsStream, { seq })
      .catch(() => null);
    const found = stored
      ? { subject: stored.subject, jobId: stored.header?.get(HEADER.jobId) ?? '' }
      : null;
    this.messageJobs.set(seq, found);
    return found;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.allServices.map((s) => s.kill('SIGKILL')));
    await this.ingressBalancer?.close();
    await Promise.allSettled(
      this.tenants
        .map((t) => t.proxy.close())
        .concat(this.simulators.map((s) => s.stop()))
        .concat(this.llm?.close()),
    );
    for (const tenant of this.tenants) tenant.proxyLog.end();
    await this.nc?.close().catch(() => undefined);
    for (const entry of this.nodeManagers.values()) {
      await entry.then((e) => e.nc.close()).catch(() => undefined);
    }
    await this.admin?.end().catch(() => undefined);
    await this.bouncer?.stop().catch(() => undefined);
    await Promise.allSettled([this.pg?.destroy(), this.nats?.destroy()]);
    removeTempDirs();
  }
}
