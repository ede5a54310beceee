/**
 * Part 2 (and 4): the whole pipeline as real processes — registry, ingress,
 * gatherer, synthesizer, poster — over real NATS and PostgreSQL, with one SDP
 * simulator per tenant and a chat-completions endpoint that answers at once,
 * so the figures are our overhead alone.
 *
 *  - latency: webhooks at a fixed rate across the tenants; each webhook's
 *    send time against the creation time of its note on the simulator (both
 *    clocks are this process's), plus where the time goes per stage from the
 *    JetStream timestamps of the messages each stage stored;
 *  - throughput: a closed loop that keeps a backlog of webhooks in flight and
 *    counts the notes that arrive per second once steady;
 *  - memory: each service's RSS idle and its peak under the throughput load.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Client } from 'pg';
import { HEADER } from '@tep/pipeline';
import {
  startFakeChatCompletionsServer,
  type FakeChatCompletionsServer,
} from '@tep/enhancement-synthesis';
import { benchNats, natsServerPid, type BenchDatabase, type BenchNats } from './lib/environment';
import {
  ALL_SERVICES,
  createTenant,
  postWebhook,
  startPlatform,
  waitForTenantAtIngress,
  webhookBody,
  type Platform,
  type ServiceName,
  type Tenant,
} from './lib/platform';
import { coresBusy, cpuSeconds, machineJiffies, rssMiB, sleep, syscalls } from './lib/processes';
import { startSimulator, type SimulatorProcess } from './lib/simulator';
import { analyseProfile, type ProfileBreakdown } from './lib/cpu-profile';
import { summarize, type LatencySummary } from './lib/stats';

export interface PipelineOptions {
  rate: number;
  rateSeconds: number;
  /** A second, lighter fixed rate: the overhead when nothing queues (0: skip). */
  lowRate: number;
  /** Seconds at half the target rate before anything is measured (JIT, pools). */
  warmupSeconds: number;
  /** Seconds of a last closed loop with every service's CPU profiled (0: skip). */
  profileSeconds: number;
  tenants: number;
  throughputSeconds: number;
  /** Webhooks in flight (sent, no note yet) the throughput loop keeps. */
  backlog: number;
  /** WORKER_CONCURRENCY for the three workers (the platform's default is 4). */
  workerConcurrency: number;
  /**
   * instant-model: the chat-completions server answers at once (our overhead
   * around a model); offline: no model, the offline synthesizer (what
   * `npm start` runs without an LLM).
   */
  synthesizer: 'instant-model' | 'offline';
  /** Webhooks of one tenant queued at once for the fairness phase (0: skip). */
  fairnessBacklog: number;
  logDir: string;
}

/**
 * One tenant floods the pipeline (as after an SDP or LLM outage) and a
 * second, quiet tenant sends one ticket behind the flood: how long its note
 * takes, and how much of its throughput the noisy tenant keeps.
 */
export interface FairnessResult {
  backlog: number;
  /** The noisy tenant's notes/s draining a flood alone, then with the quiet ticket behind it. */
  noisyAloneNotesPerSecond: number;
  noisyWithQuietNotesPerSecond: number;
  /** Sent after the whole flood was queued: its note's end-to-end time. */
  quietTicketMs: number;
  /** The noisy tenant's notes created before the quiet ticket's. */
  noisyNotesBeforeQuiet: number;
}

export interface FixedRateResult {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  notes: number;
  /** Achieved send rate (the scheduler's, not the target). */
  sentPerSecond: number;
  endToEndMs: LatencySummary;
  ingressAckMs: LatencySummary;
  /** Per stage, from JetStream's storage timestamps. */
  stagesMs: Record<string, LatencySummary>;
  /** Messages of these webhooks the workers' fairness lanes moved to a backlog lane, per webhook. */
  backlogMovesPerWebhook: number;
  machine: MachineLoad;
}

/** How busy the 2-core machine was meanwhile, in cores: all processes, and ours. */
export interface MachineLoad {
  seconds: number;
  allProcessesCores: number;
  platformServicesCores: number;
  natsServerCores: number;
  /** The PostgreSQL backends connected to the bench database. */
  postgresCores: number;
  /** This process: the fake LLM and the webhook sender. */
  harnessCores: number;
  /** The SDP simulator process. */
  simulatorCores: number;
  /** Everything else on the machine (other users' tests, builds, …). */
  otherCores: number;
}

export interface PipelineReport {
  tenants: number;
  synthesizer: PipelineOptions['synthesizer'];
  workerConcurrency: number;
  /** The target rate first, then the lighter one. */
  latency: FixedRateResult[];
  throughput: {
    seconds: number;
    backlog: number;
    sent: number;
    notes: number;
    /** Notes per second over the steady part (after the first quarter). */
    notesPerSecond: number;
    /** Time until every accepted webhook had its note, after sending stopped. */
    drainSeconds: number;
    lost: number;
    /** CPU ms each service (and nats-server) used per webhook during the loop. */
    cpuMsPerWebhook: Record<string, number>;
    /**
     * Read and write system calls per webhook during the loop, for the
     * services and nats-server: each PostgreSQL round trip, NATS exchange,
     * HTTP call and log line is one or more of them.
     */
    syscallsPerWebhook: Record<string, { reads: number; writes: number }>;
    machine: MachineLoad;
    /** Notes created per second, from the loop's start until the backlog drained. */
    timeline: number[];
  };
  fairness?: FairnessResult;
  /** Where each service's CPU goes under the closed loop. */
  profiles: Partial<Record<ServiceName, ProfileBreakdown>>;
  memoryMiB: Record<ServiceName, { idle: number; peakUnderLoad: number }>;
}

interface Job {
  tenant: Tenant;
  sentAt: number;
  ackAt: number;
  jobId?: string;
  status: number;
}

/**
 * One note per ticket: a second webhook for a ticket posts nothing, so every
 * webhook names a ticket of its own (more than any run sends per tenant).
 */
const TICKETS_PER_TENANT = 20_000;
const now = () => performance.timeOrigin + performance.now();

/** A model that answers at once with a valid enhancement. */
const instantModel = () => ({
  kind: 'completion' as const,
  content: {
    likely_cause: 'Connection pool exhausted on the database server',
    suggested_actions: ['Raise the pool size', 'Restart the application', 'Confirm with the user'],
    related_tickets: [],
    confidence: 0.8,
  },
});

export async function benchPipeline(
  db: BenchDatabase,
  options: PipelineOptions,
): Promise<PipelineReport> {
  const nats = await benchNats('pipeline');
  const natsPid = natsServerPid();
  let sim: SimulatorProcess | undefined;
  let llm: FakeChatCompletionsServer | undefined;
  let platform: Platform | undefined;
  const workerConcurrency = options.workerConcurrency;
  const workers = { WORKER_CONCURRENCY: String(workerConcurrency) };
  try {
    llm = await startFakeChatCompletionsServer(instantModel);
    platform = await startPlatform(ALL_SERVICES, {
      namespace: nats.namespace,
      appUrl: db.appUrl,
      posterUrl: db.posterUrl,
      registryUrl: db.registryUrl,
      logDir: options.logDir,
      extraEnv: withProfiles(options.logDir, {
        'context-gatherer': workers,
        'llm-synthesizer':
          options.synthesizer === 'offline'
            ? workers
            : {
                ...workers,
                LLM_BASE_URL: llm.baseUrl,
                LLM_API_KEY: 'bench-key',
                LLM_TIMEOUT_MS: '5000',
              },
        'servicedesk-poster': { ...workers, SDP_TIMEOUT_MS: '5000' },
      }),
      // The hook samples nothing until the profiled phase at the end.
      nodeArgs: Object.fromEntries(
        ALL_SERVICES.map((name) => [name, ['-r', './tools/bench/lib/profile-hook.ts']]),
      ),
    });
    const ingressUrl = platform.get('webhook-ingress').url;

    // One simulator process plays every tenant's ServiceDesk (each its own API key and tickets).
    const simulator = await startSimulator(
      Array.from({ length: options.tenants }, (_, t) => `bench-sdp-key-${t}`),
      options.logDir,
    );
    sim = simulator;
    const tenants: (Tenant & { tickets: string[]; sent: number })[] = [];
    for (let t = 0; t < options.tenants; t++) {
      const tickets = Array.from({ length: TICKETS_PER_TENANT }, (_, k) => `BENCH-${t}-${k}`);
      await simulator.seed(
        tickets.map((display_id) => ({ display_id, subject: 'Database connection timeout error' })),
      );
      const tenant = await createTenant(platform.get('tenant-registry').url, {
        name: `Bench MSP ${t}`,
        servicedesk_url: simulator.url,
        servicedesk_api_key: `bench-sdp-key-${t}`,
      });
      tenants.push({ ...tenant, tickets, sent: 0 });
    }
    await seedTenantData(db, tenants);
    for (const tenant of tenants) await waitForTenantAtIngress(ingressUrl, tenant);

    // Idle: started, tenants known, nothing processed yet.
    await sleep(5_000);
    const memory = {} as PipelineReport['memoryMiB'];
    for (const name of ALL_SERVICES) {
      memory[name] = { idle: rssMiB(platform.get(name).proc.pid), peakUnderLoad: 0 };
    }
    console.log(
      `  [pipeline] idle RSS MiB: ${ALL_SERVICES.map((n) => `${n}=${memory[n].idle.toFixed(0)}`).join(' ')}`,
    );

    let counter = 0;
    const send = async (tenant: (typeof tenants)[number]): Promise<Job> => {
      const n = counter++;
      const ticket = tenant.tickets[tenant.sent++];
      if (ticket === undefined)
        throw new Error(`more than ${TICKETS_PER_TENANT} webhooks for one tenant`);
      const body = webhookBody(n, 'BENCH', ticket);
      const sentAt = now();
      const reply = await postWebhook(ingressUrl, tenant, body);
      const job: Job = { tenant, sentAt, ackAt: now(), status: reply.status };
      if (reply.status === 202) job.jobId = (JSON.parse(reply.text) as { job_id: string }).job_id;
      return job;
    };
    /**
     * Waits until the simulator has one note per job (polling its cheap call
     * counter), then reads every note's creation time once.
     */
    const waitForNotes = async (jobIds: string[], timeoutMs: number) => {
      const target = notesSoFar + jobIds.length;
      const deadline = Date.now() + timeoutMs;
      while ((await simulator.noteCount()) < target && Date.now() < deadline) await sleep(100);
      let times = await simulator.noteTimes();
      while (!jobIds.every((id) => times.has(id)) && Date.now() < deadline) {
        await sleep(1_000);
        times = await simulator.noteTimes();
      }
      notesSoFar = await simulator.noteCount();
      return times;
    };
    let notesSoFar = await simulator.noteCount();

    const services = ALL_SERVICES.map((name) => platform!.get(name));
    const machineMeter = async () => {
      const backends = await postgresBackends(db);
      const sum = (pids: number[]) =>
        pids.reduce((total, pid) => total + (cpuSeconds(pid) || 0), 0);
      const servicePids = services.map((svc) => svc.proc.pid);
      const jiffies = machineJiffies();
      const ours = sum(servicePids);
      const natsCpu = natsPid ? cpuSeconds(natsPid) : Number.NaN;
      const pgCpu = sum(backends);
      const simCpu = cpuSeconds(simulator.proc.pid);
      const harness = process.cpuUsage();
      const started = Date.now();
      return (): MachineLoad => {
        const seconds = (Date.now() - started) / 1000;
        const harnessUsage = process.cpuUsage(harness);
        const load = {
          seconds,
          allProcessesCores: coresBusy(jiffies, machineJiffies()),
          platformServicesCores: (sum(servicePids) - ours) / seconds,
          natsServerCores: natsPid ? (cpuSeconds(natsPid) - natsCpu) / seconds : Number.NaN,
          postgresCores: (sum(backends) - pgCpu) / seconds,
          harnessCores: (harnessUsage.user + harnessUsage.system) / 1e6 / seconds,
          simulatorCores: (cpuSeconds(simulator.proc.pid) - simCpu) / seconds,
          otherCores: 0,
        };
        load.otherCores = Math.max(
          0,
          load.allProcessesCores -
            load.platformServicesCores -
            (load.natsServerCores || 0) -
            load.postgresCores -
            load.harnessCores -
            load.simulatorCores,
        );
        return load;
      };
    };

    // --- Latency at fixed rates: the target rate, then a light one.
    const fixedRate = async (
      rate: number,
      seconds: number,
      label = '',
    ): Promise<FixedRateResult> => {
      console.log(`  [pipeline] ${label}${rate} webhooks/s for ${seconds} s`);
      const meter = await machineMeter();
      const total = Math.round(rate * seconds);
      const pending: Promise<Job>[] = [];
      const start = now();
      for (let i = 0; i < total; i++) {
        const wait = start + (i * 1000) / rate - now();
        if (wait > 1) await sleep(wait);
        pending.push(send(tenants[i % tenants.length]));
      }
      const jobs = await Promise.all(pending);
      const sentPerSecond = total / ((jobs[jobs.length - 1].sentAt - start) / 1000);
      const accepted = jobs.filter((j) => j.jobId);
      const times = await waitForNotes(
        accepted.map((j) => j.jobId!),
        120_000,
      );
      const machine = meter();
      const endToEnd = accepted.flatMap((j) => {
        const t = times.get(j.jobId!);
        return t === undefined ? [] : [t - j.sentAt];
      });
      const result: FixedRateResult = {
        rate,
        seconds,
        sent: total,
        accepted: accepted.length,
        notes: endToEnd.length,
        sentPerSecond,
        endToEndMs: summarize(endToEnd),
        ingressAckMs: summarize(jobs.map((j) => j.ackAt - j.sentAt)),
        ...(await stageBreakdown(nats, accepted, times)),
        machine,
      };
      console.log(
        `  [pipeline] ${label}end to end at ${rate}/s: p50=${result.endToEndMs.p50.toFixed(1)} ` +
          `p95=${result.endToEndMs.p95.toFixed(1)} p99=${result.endToEndMs.p99.toFixed(1)} ms ` +
          `(${result.notes}/${total} notes; cores busy: all ${machine.allProcessesCores.toFixed(2)}, ` +
          `services ${machine.platformServicesCores.toFixed(2)}, postgres ${machine.postgresCores.toFixed(2)}, ` +
          `nats ${machine.natsServerCores.toFixed(2)}, harness ${machine.harnessCores.toFixed(2)}, ` +
          `simulator ${machine.simulatorCores.toFixed(2)}, ` +
          `others ${machine.otherCores.toFixed(2)}; backlog moves per webhook ${result.backlogMovesPerWebhook.toFixed(2)})`,
      );
      return result;
    };
    // Warm-up: JIT in five processes, connection pools, plans. Not reported.
    if (options.warmupSeconds > 0) {
      await fixedRate(Math.max(1, options.rate / 2), options.warmupSeconds, 'warm-up: ');
    }
    const latency = [await fixedRate(options.rate, options.rateSeconds)];
    if (options.lowRate > 0)
      latency.push(await fixedRate(options.lowRate, options.rateSeconds / 2));

    // --- Sustained throughput: keep `backlog` webhooks in flight.
    console.log(
      `  [pipeline] throughput: ${options.throughputSeconds} s, backlog ${options.backlog}`,
    );
    const loopMeter = await machineMeter();
    const cpuBefore = Object.fromEntries(services.map((s) => [s.name, cpuSeconds(s.proc.pid)]));
    const natsBefore = natsPid ? cpuSeconds(natsPid) : Number.NaN;
    const counted = [
      ...services.map((s) => ({ name: s.name, pid: s.proc.pid })),
      ...(natsPid ? [{ name: 'nats-server', pid: natsPid }] : []),
    ];
    const syscallsBefore = new Map(counted.map((c) => [c.name, syscalls(c.pid)]));
    const sampler = setInterval(() => {
      for (const s of services) {
        memory[s.name].peakUnderLoad = Math.max(memory[s.name].peakUnderLoad, rssMiB(s.proc.pid));
      }
    }, 500);
    const loopJobs: Job[] = [];
    const loopStart = Date.now();
    const loopEnd = loopStart + options.throughputSeconds * 1000;
    const steadyFrom = loopStart + (options.throughputSeconds * 1000) / 4;
    let inFlight = 0;
    let done = 0;
    const loopBaseline = notesSoFar;
    const senders = Array.from({ length: 8 }, async (_, worker) => {
      let i = worker;
      while (Date.now() < loopEnd) {
        if (loopJobs.length - done + inFlight >= options.backlog) {
          await sleep(20);
          continue;
        }
        inFlight++;
        const job = await send(tenants[i++ % tenants.length]).finally(() => inFlight--);
        loopJobs.push(job);
      }
    });
    const poller = (async () => {
      while (Date.now() < loopEnd) {
        done = (await simulator.noteCount()) - loopBaseline;
        await sleep(100);
      }
    })();
    await Promise.all([...senders, poller]);
    const stopAt = Date.now();
    const loopAccepted = loopJobs.filter((j) => j.jobId).map((j) => j.jobId!);
    const loopTimes = await waitForNotes(loopAccepted, 120_000);
    clearInterval(sampler);
    const drainSeconds = (Date.now() - stopAt) / 1000;
    const noteTimesInLoop = loopAccepted.flatMap((id) => {
      const t = loopTimes.get(id);
      return t === undefined ? [] : [t];
    });
    const steady = noteTimesInLoop.filter((t) => t >= steadyFrom && t < loopEnd).length;
    const cpuMsPerWebhook: Record<string, number> = {};
    for (const s of services) {
      cpuMsPerWebhook[s.name] =
        ((cpuSeconds(s.proc.pid) - cpuBefore[s.name]) * 1000) / Math.max(1, noteTimesInLoop.length);
    }
    if (natsPid) {
      cpuMsPerWebhook['nats-server'] =
        ((cpuSeconds(natsPid) - natsBefore) * 1000) / Math.max(1, noteTimesInLoop.length);
    }
    const syscallsPerWebhook: PipelineReport['throughput']['syscallsPerWebhook'] = {};
    for (const { name, pid } of counted) {
      const [before, after] = [syscallsBefore.get(name)!, syscalls(pid)];
      const per = (n: number) => n / Math.max(1, noteTimesInLoop.length);
      syscallsPerWebhook[name] = {
        reads: per(after.reads - before.reads),
        writes: per(after.writes - before.writes),
      };
    }
    const loopMachine = loopMeter();
    cpuMsPerWebhook['PostgreSQL backends'] =
      (loopMachine.postgresCores * loopMachine.seconds * 1000) /
      Math.max(1, noteTimesInLoop.length);
    cpuMsPerWebhook['bench harness (fake LLM, webhook sender)'] =
      (loopMachine.harnessCores * loopMachine.seconds * 1000) / Math.max(1, noteTimesInLoop.length);
    cpuMsPerWebhook['bench SDP simulator'] =
      (loopMachine.simulatorCores * loopMachine.seconds * 1000) /
      Math.max(1, noteTimesInLoop.length);
    const throughput: PipelineReport['throughput'] = {
      seconds: options.throughputSeconds,
      backlog: options.backlog,
      sent: loopJobs.length,
      notes: noteTimesInLoop.length,
      notesPerSecond: steady / ((loopEnd - steadyFrom) / 1000),
      drainSeconds,
      lost: loopAccepted.length - noteTimesInLoop.length,
      cpuMsPerWebhook,
      syscallsPerWebhook,
      machine: loopMachine,
      timeline: Array.from(
        { length: Math.ceil((Date.now() - loopStart) / 1000) },
        (_, second) =>
          noteTimesInLoop.filter((t) => Math.floor((t - loopStart) / 1000) === second).length,
      ),
    };
    console.log(
      `  [pipeline] throughput: ${throughput.notesPerSecond.toFixed(0)} notes/s steady, ` +
        `${throughput.notes}/${loopAccepted.length} notes, drained in ${drainSeconds.toFixed(1)} s; ` +
        `notes per second: ${throughput.timeline.join(' ')}`,
    );

    // --- Fairness under a backlog: one tenant's flood, then a quiet tenant's ticket.
    let fairness: FairnessResult | undefined;
    if (options.fairnessBacklog > 0 && tenants.length >= 2) {
      const [noisy, quiet] = [tenants[0], tenants[1]];
      const flood = async () => {
        const started = now();
        const jobs: Job[] = [];
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (jobs.length < options.fairnessBacklog) {
              const slot = jobs.length;
              jobs[slot] = undefined as unknown as Job;
              jobs[slot] = await send(noisy);
            }
          }),
        );
        return { started, ids: jobs.filter((j) => j.jobId).map((j) => j.jobId!) };
      };
      const drainRate = (started: number, ids: string[], times: Map<string, number>) => {
        const last = Math.max(...ids.map((id) => times.get(id) ?? Number.NaN));
        return ids.length / ((last - started) / 1000);
      };
      console.log(
        `  [pipeline] fairness: ${options.fairnessBacklog} webhooks of one tenant, alone`,
      );
      const alone = await flood();
      const aloneTimes = await waitForNotes(alone.ids, 300_000);
      console.log('  [pipeline] fairness: the same flood, then one ticket of a quiet tenant');
      const withQuiet = await flood();
      const quietJob = await send(quiet);
      const times = await waitForNotes([...withQuiet.ids, quietJob.jobId!], 300_000);
      const quietAt = times.get(quietJob.jobId!) ?? Number.NaN;
      fairness = {
        backlog: options.fairnessBacklog,
        noisyAloneNotesPerSecond: drainRate(alone.started, alone.ids, aloneTimes),
        noisyWithQuietNotesPerSecond: drainRate(withQuiet.started, withQuiet.ids, times),
        quietTicketMs: quietAt - quietJob.sentAt,
        noisyNotesBeforeQuiet: withQuiet.ids.filter((id) => (times.get(id) ?? Infinity) < quietAt)
          .length,
      };
      console.log(
        `  [pipeline] fairness: quiet ticket's note after ${fairness.quietTicketMs.toFixed(0)} ms, ` +
          `behind ${fairness.noisyNotesBeforeQuiet} of ${withQuiet.ids.length}; noisy tenant ` +
          `${fairness.noisyAloneNotesPerSecond.toFixed(0)} notes/s alone, ` +
          `${fairness.noisyWithQuietNotesPerSecond.toFixed(0)} with the quiet one`,
      );
    }

    // --- Where each service's CPU goes: a last, profiled closed loop.
    const profiles: PipelineReport['profiles'] = {};
    if (options.profileSeconds > 0) {
      for (const svc of services) svc.proc.child.kill('SIGWINCH');
      const sent: string[] = [];
      const notedBefore = notesSoFar;
      const until = Date.now() + options.profileSeconds * 1000;
      await Promise.all(
        Array.from({ length: 8 }, async (_, worker) => {
          for (let i = worker; Date.now() < until; i += 8) {
            const job = await send(tenants[i % tenants.length]);
            if (job.jobId) sent.push(job.jobId);
            // Keep the backlog bounded so the profile shows work, not queueing.
            while (sent.length - ((await simulator.noteCount()) - notedBefore) > options.backlog) {
              await sleep(50);
            }
          }
        }),
      );
      await waitForNotes(sent, 60_000);
      for (const svc of services) svc.proc.child.kill('SIGWINCH');
      for (const svc of services) {
        const file = profileFile(options.logDir, svc.name);
        for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(200);
        if (existsSync(file)) profiles[svc.name] = analyseProfile(file);
      }
    }
    return {
      tenants: options.tenants,
      synthesizer: options.synthesizer,
      workerConcurrency,
      latency,
      throughput,
      fairness,
      profiles,
      memoryMiB: memory,
    };
  } finally {
    await platform?.stop();
    await sim?.stop();
    await llm?.close();
    await nats.cleanup();
  }
}

const profileFile = (logDir: string, name: ServiceName) => join(logDir, `${name}.cpuprofile`);

function withProfiles(
  logDir: string,
  env: Partial<Record<ServiceName, Record<string, string>>>,
): Partial<Record<ServiceName, Record<string, string>>> {
  return Object.fromEntries(
    ALL_SERVICES.map((name) => [
      name,
      { ...env[name], BENCH_CPU_PROFILE: profileFile(logDir, name) },
    ]),
  );
}

/** Server pids of the connections to the bench database (the services' pools). */
async function postgresBackends(db: BenchDatabase): Promise<number[]> {
  const admin = new Client({ connectionString: db.adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((r) => r.pid);
  } finally {
    await admin.end();
  }
}

/** Some history, KB and inventory per tenant, so the gatherer's queries find rows. */
async function seedTenantData(db: BenchDatabase, tenants: Tenant[]): Promise<void> {
  const admin = new Client({ connectionString: db.adminUrl });
  await admin.connect();
  try {
    for (const tenant of tenants) {
      await admin.query(
        `INSERT INTO ticket_history (tenant_id, ticket_id, display_id, subject, description, resolution, status, resolved_at, source)
         SELECT $1, 'HIST-' || i, 'HIST-' || i,
                (ARRAY['Database connection timeout', 'VPN drops every hour', 'Printer offline',
                       'Email not syncing', 'Disk full on file server'])[1 + i % 5] || ' #' || i,
                'Users report the problem on db01 since the morning.',
                (ARRAY['Raised the connection pool size', 'Renewed the VPN certificate',
                       'Reserved the printer DHCP address', 'Re-created the mail profile',
                       'Cleared old backups'])[1 + i % 5],
                'Resolved', now() - i * interval '1 hour', 'import'
           FROM generate_series(1, 200) AS i`,
        [tenant.tenant_id],
      );
      await admin.query(
        `INSERT INTO kb_articles (tenant_id, article_id, title, content, keywords)
         SELECT $1, 'KB-' || i, 'How to fix database connection timeouts (' || i || ')',
                'Check the connection pool, the firewall idle timeout and the database load.',
                'database,timeout,postgresql'
           FROM generate_series(1, 10) AS i`,
        [tenant.tenant_id],
      );
      await admin.query(
        `INSERT INTO system_inventory (tenant_id, hostname, ip_address, service_name, status)
         SELECT $1, 'db0' || i, ('10.0.0.' || i)::inet, 'postgresql', 'up'
           FROM generate_series(1, 9) AS i`,
        [tenant.tenant_id],
      );
    }
    // As autovacuum does within a minute of such an import in any deployment (this machine's
    // PostgreSQL may run without it): statistics, and the visibility map, without which every
    // posting the similar-tickets query reads is a heap fetch (docs/benchmarks.md, sixth pass).
    await admin.query(
      'VACUUM ANALYZE ticket_history, ticket_postings, kb_articles, system_inventory',
    );
  } finally {
    await admin.end();
  }
}

/**
 * Per stage, from the storage timestamps JetStream gave each stage's
 * message: the ingress (send → received stored), the gatherer (received →
 * contextualized, queue wait included), the synthesizer, the poster up to the
 * note's creation on the simulator. A message's copy in a backlog lane
 * (`tickets.backlog.<kind>.<tenant>`) is counted, not taken for the message.
 */
async function stageBreakdown(
  nats: BenchNats,
  jobs: Job[],
  noteTimes: Map<string, number>,
): Promise<Pick<FixedRateResult, 'stagesMs' | 'backlogMovesPerWebhook'>> {
  const jsm = await jetstreamManager(nats.nc);
  const stream = nats.topology.ticketsStream;
  const total = (await jsm.streams.info(stream)).state.messages;
  const consumer = await jetstream(nats.nc).consumers.get(stream);
  const stored = new Map<string, Record<string, number>>();
  const wanted = new Set(jobs.map((j) => j.jobId));
  let moves = 0;
  let read = 0;
  while (read < total) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 2_000 });
    let got = 0;
    for await (const msg of batch) {
      got++;
      const jobId = msg.headers?.get(HEADER.jobId);
      const parts = msg.subject.split('.');
      const kind = parts.at(-2) ?? '';
      if (parts.at(-3) === 'backlog') {
        if (wanted.has(jobId)) moves++;
        continue;
      }
      if (jobId) {
        const entry = stored.get(jobId) ?? {};
        entry[kind] = Number(msg.info.timestampNanos) / 1e6;
        stored.set(jobId, entry);
      }
    }
    read += got;
    if (got === 0) break;
  }
  const segments: Record<string, number[]> = {
    'ingress (send → job stored)': [],
    'context-gatherer (stored → context stored, incl. queue wait)': [],
    'llm-synthesizer (context → enhancement stored)': [],
    'servicedesk-poster (enhancement → note created)': [],
  };
  const keys = Object.keys(segments);
  for (const job of jobs) {
    const at = stored.get(job.jobId!);
    const note = noteTimes.get(job.jobId!);
    if (!at?.received || !at.contextualized || !at.enhanced || note === undefined) continue;
    segments[keys[0]].push(at.received - job.sentAt);
    segments[keys[1]].push(at.contextualized - at.received);
    segments[keys[2]].push(at.enhanced - at.contextualized);
    segments[keys[3]].push(note - at.enhanced);
  }
  return {
    stagesMs: Object.fromEntries(Object.entries(segments).map(([k, v]) => [k, summarize(v)])),
    backlogMovesPerWebhook: jobs.length ? moves / jobs.length : 0,
  };
}
