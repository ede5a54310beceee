/**
 * Part 1: ingress throughput and latency. Our webhook-ingress (the real
 * process) and two reference servers run side by side in the same run,
 * each pinned to core 0, while autocannon runs in its own process on core 1.
 * Servers are measured in a rotating order, cell by cell, so that noise
 * from the shared machine falls on all of them alike; the report is ratios.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchNats, natsServerPid, type BenchDatabase } from './lib/environment';
import { runLoad, type LoadResult } from './lib/load';
import {
  createTenant,
  startPlatform,
  waitForTenantAtIngress,
  webhookUrl,
  type Platform,
  type Tenant,
} from './lib/platform';
import {
  canPin,
  coresBusy,
  cpuSeconds,
  machineJiffies,
  rssMiB,
  sleep,
  ServiceProcess,
} from './lib/processes';
import { median } from './lib/stats';
import { analyseProfile, type ProfileBreakdown } from './lib/cpu-profile';

export type IngressServer = 'reference-hmac' | 'reference-jetstream' | 'ingress';
export type DiagnosticServer = 'reference-jetstream-kv' | 'ingress-log-warn';

export interface IngressOptions {
  connections: number[];
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  /** Also measure the diagnostic variants at this many connections (0: skip). */
  diagnosticConnections: number;
  logDir: string;
}

export interface IngressCell {
  server: IngressServer | DiagnosticServer;
  connections: number;
  round: number;
  load: LoadResult;
  /** CPU the server process used per accepted webhook. */
  serverCpuMsPerRequest: number;
  /** CPU nats-server used per accepted webhook (NATS is shared, so approximate). */
  natsCpuMsPerRequest: number;
  serverPeakRssMiB: number;
  /** How busy the whole machine was meanwhile (cores, of nproc). */
  machineBusyCores: number;
}

export interface IngressSummaryRow {
  connections: number;
  server: IngressServer | DiagnosticServer;
  reqPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  serverCpuMsPerRequest: number;
  natsCpuMsPerRequest: number;
  machineBusyCores: number;
  non202: number;
}

export interface IngressReport {
  pinned: boolean;
  cells: IngressCell[];
  /** Median over rounds per server and connection count. */
  summary: IngressSummaryRow[];
  ratios: {
    connections: number;
    oursOverHmac: number;
    oursOverJetstream: number;
    /** Server CPU per accepted webhook, ours / (b): less sensitive to other users' load. */
    cpuPerRequestOursOverJetstream: number;
  }[];
  ingressRssAfterLoadMiB: number;
  /** CPU profile of a separate ingress process under the diagnostic load. */
  profile?: ProfileBreakdown;
}

interface Target {
  server: IngressServer | DiagnosticServer;
  url: string;
  proc: ServiceProcess;
}

async function startReference(
  mode: 'hmac' | 'hmac-jetstream' | 'hmac-jetstream-kv',
  namespace: string,
  secret: string,
  logDir: string,
): Promise<{ url: string; proc: ServiceProcess }> {
  const proc = await ServiceProcess.start({
    name: `reference-${mode}`,
    script: 'tools/bench/reference-server.ts',
    env: { REF_MODE: mode, REF_SECRET: secret, NATS_NAMESPACE: namespace },
    cpu: '0',
    output: { logDir },
  });
  return { url: proc.url, proc };
}

/** The same path and query for every server; only ours looks at them. */
function targetUrl(target: Target, tenant: Tenant): string {
  return webhookUrl(target.url, tenant.tenant_id);
}

async function measure(
  target: Target,
  tenant: Tenant,
  connections: number,
  round: number,
  options: IngressOptions,
  natsPid: number | undefined,
): Promise<IngressCell> {
  const spec = {
    url: targetUrl(target, tenant),
    connections,
    secret: tenant.webhook_secret,
    ticketPrefix: `B${round}-${connections}-${target.server}`,
    warmupSeconds: 0,
  };
  if (options.warmupSeconds > 0) {
    await runLoad({ ...spec, durationSeconds: options.warmupSeconds }, '1');
  }
  const jiffies = machineJiffies();
  const cpuBefore = cpuSeconds(target.proc.pid);
  const natsBefore = natsPid ? cpuSeconds(natsPid) : Number.NaN;
  let peak = rssMiB(target.proc.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(target.proc.pid))), 500);
  const load = await runLoad({ ...spec, durationSeconds: options.durationSeconds }, '1').finally(
    () => clearInterval(sampler),
  );
  const accepted = Math.max(1, load.accepted);
  const cell: IngressCell = {
    server: target.server,
    connections,
    round,
    load,
    serverCpuMsPerRequest: ((cpuSeconds(target.proc.pid) - cpuBefore) * 1000) / accepted,
    natsCpuMsPerRequest: natsPid ? ((cpuSeconds(natsPid) - natsBefore) * 1000) / accepted : NaN,
    serverPeakRssMiB: peak,
    machineBusyCores: coresBusy(jiffies, machineJiffies()),
  };
  const other = load.requests - load.accepted;
  console.log(
    `  [ingress] c=${connections} round=${round} ${target.server.padEnd(22)} ` +
      `${load.acceptedPerSecond.toFixed(0).padStart(6)} req/s  p50=${load.latencyMs.p50.toFixed(1)} ` +
      `p95=${load.latencyMs.p95.toFixed(1)} p99=${load.latencyMs.p99.toFixed(1)} ms` +
      `  cpu=${cell.serverCpuMsPerRequest.toFixed(3)} ms/req${other ? `  NON-202: ${JSON.stringify(load.statusCounts)} errors=${load.errors}` : ''}`,
  );
  // Let the server settle (GC, flushing logs) before the next cell.
  await sleep(500);
  return cell;
}

export async function benchIngress(
  db: BenchDatabase,
  options: IngressOptions,
): Promise<IngressReport> {
  const nats = await benchNats('ingress');
  const natsPid = natsServerPid();
  let platform: Platform | undefined;
  let quiet: Platform | undefined;
  const references: ServiceProcess[] = [];
  try {
    platform = await startPlatform(['tenant-registry', 'webhook-ingress'], {
      namespace: nats.namespace,
      appUrl: db.appUrl,
      registryUrl: db.registryUrl,
      logDir: options.logDir,
      cpu: { 'webhook-ingress': '0' },
      extraEnv: {},
    });
    const ingress = platform.get('webhook-ingress');
    const tenant = await createTenant(platform.get('tenant-registry').url, {
      name: 'Bench ingress tenant',
      servicedesk_url: 'http://127.0.0.1:9/',
      servicedesk_api_key: 'bench-sdp-key',
    });
    await waitForTenantAtIngress(ingress.url, tenant);

    const refNamespace = `${nats.namespace}_ref`;
    const hmac = await startReference('hmac', refNamespace, tenant.webhook_secret, options.logDir);
    references.push(hmac.proc);
    const js = await startReference(
      'hmac-jetstream',
      refNamespace,
      tenant.webhook_secret,
      options.logDir,
    );
    references.push(js.proc);
    const targets: Target[] = [
      { server: 'reference-hmac', ...hmac },
      { server: 'reference-jetstream', ...js },
      { server: 'ingress', url: ingress.url, proc: ingress.proc },
    ];
    const diagnostics: Target[] = [];
    if (options.diagnosticConnections > 0) {
      // Where the gap to (b) goes: (b) plus the ingress's two KV round trips,
      // and our ingress with its per-request info logging switched off.
      const kv = await startReference(
        'hmac-jetstream-kv',
        refNamespace,
        tenant.webhook_secret,
        options.logDir,
      );
      references.push(kv.proc);
      quiet = await startPlatform(['webhook-ingress'], {
        namespace: nats.namespace,
        appUrl: db.appUrl,
        registryUrl: db.registryUrl,
        logDir: join(options.logDir, 'ingress-log-warn'),
        encryptionKey: platform.encryptionKey,
        cpu: { 'webhook-ingress': '0' },
        extraEnv: { 'webhook-ingress': { LOG_LEVEL: 'warn' } },
      });
      const quietIngress = quiet.get('webhook-ingress');
      await waitForTenantAtIngress(quietIngress.url, tenant);
      diagnostics.push(
        { server: 'reference-jetstream-kv', ...kv },
        { server: 'ingress-log-warn', url: quietIngress.url, proc: quietIngress.proc },
      );
    }

    // Warm every server's JIT once before any measured cell.
    for (const target of [...targets, ...diagnostics]) {
      await runLoad(
        {
          url: targetUrl(target, tenant),
          connections: 50,
          durationSeconds: Math.max(4, options.warmupSeconds),
          warmupSeconds: 0,
          secret: tenant.webhook_secret,
          ticketPrefix: `W-${target.server}`,
        },
        '1',
      );
    }
    const cells: IngressCell[] = [];
    for (let round = 0; round < options.rounds; round++) {
      for (const [i, connections] of options.connections.entries()) {
        const present =
          connections === options.diagnosticConnections ? [...targets, ...diagnostics] : targets;
        // Rotate the order so no server always runs first (or right after another's load).
        const shift = (round + i) % present.length;
        const ordered = [...present.slice(shift), ...present.slice(0, shift)];
        for (const target of ordered) {
          cells.push(await measure(target, tenant, connections, round, options, natsPid));
        }
      }
    }
    await quiet?.stop();
    const profile =
      options.diagnosticConnections > 0
        ? await profileIngress(tenant, platform.encryptionKey, nats.namespace, db, options)
        : undefined;

    const summary = summarizeCells(cells);
    const ratios = options.connections.map((connections) => {
      const row = (server: IngressServer) =>
        summary.find((r) => r.connections === connections && r.server === server)!;
      return {
        connections,
        oursOverHmac: row('ingress').reqPerSec / row('reference-hmac').reqPerSec,
        oursOverJetstream: row('ingress').reqPerSec / row('reference-jetstream').reqPerSec,
        cpuPerRequestOursOverJetstream:
          row('ingress').serverCpuMsPerRequest / row('reference-jetstream').serverCpuMsPerRequest,
      };
    });
    return {
      pinned: canPin(),
      cells,
      summary,
      ratios,
      ingressRssAfterLoadMiB: rssMiB(ingress.proc.pid),
      profile,
    };
  } finally {
    await Promise.all(references.map((p) => p.kill()));
    await quiet?.stop();
    await platform?.stop();
    await nats.cleanup();
  }
}

const SERVER_ORDER = [
  'reference-hmac',
  'reference-jetstream',
  'ingress',
  'reference-jetstream-kv',
  'ingress-log-warn',
];

function summarizeCells(cells: IngressCell[]): IngressSummaryRow[] {
  const ordered = [...cells].sort(
    (a, b) =>
      a.connections - b.connections ||
      SERVER_ORDER.indexOf(a.server) - SERVER_ORDER.indexOf(b.server),
  );
  const keys = [...new Set(ordered.map((c) => `${c.connections}|${c.server}`))];
  return keys.map((key) => {
    const group = cells.filter((c) => `${c.connections}|${c.server}` === key);
    const pick = (f: (c: IngressCell) => number) => median(group.map(f));
    return {
      connections: group[0].connections,
      server: group[0].server,
      reqPerSec: pick((c) => c.load.acceptedPerSecond),
      p50: pick((c) => c.load.latencyMs.p50),
      p95: pick((c) => c.load.latencyMs.p95),
      p99: pick((c) => c.load.latencyMs.p99),
      serverCpuMsPerRequest: pick((c) => c.serverCpuMsPerRequest),
      natsCpuMsPerRequest: pick((c) => c.natsCpuMsPerRequest),
      machineBusyCores: pick((c) => c.machineBusyCores),
      non202: group.reduce((n, c) => n + c.load.requests - c.load.accepted, 0),
    };
  });
}

/**
 * Profiles a third ingress process (the measured ones stay unprofiled)
 * under the diagnostic load: where does its CPU go per webhook?
 */
async function profileIngress(
  tenant: Tenant,
  encryptionKey: string,
  namespace: string,
  db: BenchDatabase,
  options: IngressOptions,
): Promise<ProfileBreakdown | undefined> {
  const logDir = join(options.logDir, 'ingress-profiled');
  const output = join(logDir, 'webhook-ingress.cpuprofile');
  const profiled = await startPlatform(['webhook-ingress'], {
    namespace,
    appUrl: db.appUrl,
    registryUrl: db.registryUrl,
    logDir,
    encryptionKey,
    cpu: { 'webhook-ingress': '0' },
    nodeArgs: { 'webhook-ingress': ['-r', './tools/bench/lib/profile-hook.ts'] },
    extraEnv: { 'webhook-ingress': { BENCH_CPU_PROFILE: output } },
  });
  try {
    const ingress = profiled.get('webhook-ingress');
    await waitForTenantAtIngress(ingress.url, tenant);
    const spec = {
      url: webhookUrl(ingress.url, tenant.tenant_id),
      connections: options.diagnosticConnections,
      secret: tenant.webhook_secret,
      ticketPrefix: 'PROF',
      warmupSeconds: 0,
    };
    await runLoad({ ...spec, durationSeconds: 6 }, '1');
    ingress.proc.child.kill('SIGWINCH');
    await sleep(200);
    const load = await runLoad({ ...spec, durationSeconds: options.durationSeconds }, '1');
    ingress.proc.child.kill('SIGWINCH');
    for (let i = 0; i < 50 && !existsSync(output); i++) await sleep(200);
    console.log(
      `  [ingress] profiled run: ${load.acceptedPerSecond.toFixed(0)} req/s (profiler on), profile ${output}`,
    );
    return existsSync(output) ? analyseProfile(output) : undefined;
  } finally {
    await profiled.stop();
  }
}
