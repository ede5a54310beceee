/**
 * `npm run bench`: runs every benchmark part (or those named with --part),
 * prints a summary and writes tools/bench/results/<timestamp>.json (and a
 * markdown rendering next to it). See docs/benchmarks.md.
 *
 *   --part ingress,pipeline,memory,context   parts to run (default: all)
 *   --duration 7 --warmup 1 --rounds 2 --connections 10,50,100   ingress
 *   --diagnostics 50                  ingress variants at this many connections (0: skip)
 *   --rate 50 --rate-seconds 20 --low-rate 10 --pipeline-warmup 15 --tenants 5 --throughput-seconds 20
 *   --backlog 400 --profile-seconds 8 --worker-concurrency 4             pipeline
 *   --synthesizer instant-model|offline                                  pipeline (default instant-model)
 *   --fairness-backlog 1000   one tenant's flood, then a quiet tenant's ticket (0: skip)
 *   --idle-seconds 5                                                      memory
 *   --rows 1000000 --context-tenants 1000 --queries 500 --keep-context-db   context
 *   --jobs 3000 --runtime-tenants 10 --runtime-rounds 3                   runtime (the stage runtime vs a bare client)
 *   --calls 3000 --http-rounds 3                                         http-client (CPU per outbound call)
 *   --ranking-queries 1000 --ranking-rounds 3 --ranking-open 500         ranking (PostgreSQL CPU per ranking query)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { benchIngress, type IngressReport } from './ingress';
import { benchContext, type ContextReport } from './context';
import { benchMemory, type MemoryReport } from './memory';
import { benchPipeline, type PipelineOptions, type PipelineReport } from './pipeline';
import { benchRuntime, type RuntimeReport } from './runtime';
import { benchHttpClient, type HttpClientReport } from './http-client';
import { benchRanking, type RankingReport } from './ranking';

function synthesizerFlag(value: string | undefined): PipelineOptions['synthesizer'] {
  if (value === undefined || value === 'instant-model' || value === 'offline')
    return value ?? 'instant-model';
  throw new Error('--synthesizer must be instant-model or offline');
}
import {
  NATS_URL,
  benchDatabase,
  deleteStaleBenchStreams,
  machineInfo,
  type MachineInfo,
} from './lib/environment';
import { RESULTS_DIR } from './lib/processes';
import { renderMarkdown } from './report';

const PARTS = [
  'ingress',
  'pipeline',
  'memory',
  'context',
  'runtime',
  'http-client',
  'ranking',
] as const;
type Part = (typeof PARTS)[number];

export interface BenchSettings {
  parts: Part[];
  ingress: {
    connections: number[];
    durationSeconds: number;
    warmupSeconds: number;
    rounds: number;
    diagnosticConnections: number;
  };
  pipeline: {
    rate: number;
    rateSeconds: number;
    lowRate: number;
    warmupSeconds: number;
    profileSeconds: number;
    tenants: number;
    throughputSeconds: number;
    backlog: number;
    workerConcurrency: number;
    synthesizer: PipelineOptions['synthesizer'];
    fairnessBacklog: number;
  };
  memory: { idleSeconds: number };
  context: {
    rows: number;
    tenants: number;
    queries: number;
    keepDatabase: boolean;
  };
  runtime: { jobs: number; tenants: number; rounds: number; concurrency: number };
  httpClient: { calls: number; rounds: number };
  ranking: { queries: number; rounds: number; openTickets: number };
}

export interface BenchResults {
  machine: MachineInfo;
  settings: BenchSettings;
  startedAt: string;
  finishedAt: string;
  ingress?: IngressReport;
  pipeline?: PipelineReport;
  memory?: MemoryReport;
  context?: ContextReport;
  runtime?: RuntimeReport;
  httpClient?: HttpClientReport;
  ranking?: RankingReport;
}

function parseArgs(argv: string[]): BenchSettings {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (inline !== undefined) flags.set(name, inline);
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) flags.set(name, argv[++i]);
    else flags.set(name, 'true');
  }
  const known = new Set([
    'part',
    'duration',
    'warmup',
    'rounds',
    'connections',
    'diagnostics',
    'rate',
    'rate-seconds',
    'low-rate',
    'pipeline-warmup',
    'profile-seconds',
    'idle-seconds',
    'tenants',
    'throughput-seconds',
    'backlog',
    'worker-concurrency',
    'synthesizer',
    'fairness-backlog',
    'rows',
    'context-tenants',
    'queries',
    'keep-context-db',
    'jobs',
    'runtime-rounds',
    'runtime-tenants',
    'calls',
    'http-rounds',
    'ranking-queries',
    'ranking-rounds',
    'ranking-open',
  ]);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);
  const num = (name: string, fallback: number) => {
    const value = Number(flags.get(name) ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
    return value;
  };
  const parts = (flags.get('part') ?? PARTS.join(','))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean) as Part[];
  for (const part of parts) {
    if (!PARTS.includes(part)) throw new Error(`--part: unknown part ${part}`);
  }
  return {
    parts,
    ingress: {
      connections: (flags.get('connections') ?? '10,50,100').split(',').map(Number),
      durationSeconds: num('duration', 7),
      warmupSeconds: num('warmup', 1),
      rounds: num('rounds', 2),
      diagnosticConnections: num('diagnostics', 50),
    },
    pipeline: {
      rate: num('rate', 50),
      rateSeconds: num('rate-seconds', 20),
      lowRate: num('low-rate', 10),
      warmupSeconds: num('pipeline-warmup', 15),
      profileSeconds: num('profile-seconds', 8),
      tenants: num('tenants', 5),
      throughputSeconds: num('throughput-seconds', 20),
      backlog: num('backlog', 400),
      workerConcurrency: num('worker-concurrency', 4),
      synthesizer: synthesizerFlag(flags.get('synthesizer')),
      fairnessBacklog: num('fairness-backlog', 1_000),
    },
    memory: { idleSeconds: num('idle-seconds', 5) },
    context: {
      rows: num('rows', 1_000_000),
      tenants: num('context-tenants', 1_000),
      queries: num('queries', 500),
      keepDatabase: flags.get('keep-context-db') === 'true',
    },
    runtime: {
      jobs: num('jobs', 3_000),
      tenants: num('runtime-tenants', 10),
      rounds: num('runtime-rounds', 3),
      concurrency: num('worker-concurrency', 4),
    },
    httpClient: { calls: num('calls', 3_000), rounds: num('http-rounds', 3) },
    ranking: {
      queries: num('ranking-queries', 1_000),
      rounds: num('ranking-rounds', 3),
      openTickets: num('ranking-open', 500),
    },
  };
}

async function main(): Promise<void> {
  const settings = parseArgs(process.argv.slice(2));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = join(RESULTS_DIR, stamp);
  mkdirSync(runDir, { recursive: true });
  const nc = await connect({ servers: NATS_URL, name: 'bench-run' });
  const stale = await deleteStaleBenchStreams(nc);
  if (stale.length) console.log(`removed ${stale.length} streams left by an interrupted run`);
  const results: BenchResults = {
    machine: await machineInfo(nc),
    settings,
    startedAt: new Date().toISOString(),
    finishedAt: '',
  };
  await nc.close();
  console.log(
    `bench: ${results.machine.cores} cores ${results.machine.cpuModel}, node ${results.machine.node}, ` +
      `load average ${results.machine.loadAverageAtStart}; logs in ${runDir}`,
  );

  const needsPlatformDb = ['ingress', 'pipeline', 'memory'].some((p) =>
    settings.parts.includes(p as Part),
  );
  const db = needsPlatformDb ? await benchDatabase('ai_agents_bench') : undefined;
  try {
    if (settings.parts.includes('ingress') && db) {
      console.log('== part 1: ingress throughput and latency');
      results.ingress = await benchIngress(db, {
        ...settings.ingress,
        logDir: join(runDir, 'ingress'),
      });
    }
    if (settings.parts.includes('pipeline') && db) {
      console.log('== part 2: end-to-end pipeline latency, throughput and memory');
      results.pipeline = await benchPipeline(db, {
        ...settings.pipeline,
        logDir: join(runDir, 'pipeline'),
      });
    }
    if (settings.parts.includes('memory') && db) {
      console.log('== part 4: memory per service, idle');
      results.memory = await benchMemory(db, {
        ...settings.memory,
        logDir: join(runDir, 'memory'),
      });
    }
  } finally {
    await db?.drop();
  }
  if (settings.parts.includes('context')) {
    console.log('== part 3: context retrieval under RLS');
    results.context = await benchContext(settings.context);
  }
  if (settings.parts.includes('runtime')) {
    console.log('== part 5: the stage runtime against a bare NATS client');
    results.runtime = await benchRuntime(settings.runtime);
  }
  if (settings.parts.includes('http-client')) {
    console.log('== part 6: CPU per outbound HTTP call, by client');
    results.httpClient = await benchHttpClient(settings.httpClient);
  }
  if (settings.parts.includes('ranking')) {
    console.log('== part 7: PostgreSQL CPU per ranking query, term arrays against the vector');
    results.ranking = await benchRanking(settings.ranking);
  }
  results.finishedAt = new Date().toISOString();

  const markdown = renderMarkdown(results);
  writeFileSync(join(runDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(runDir, 'results.md'), markdown);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${markdown}`);
  console.log(`results: ${join(runDir, 'results.json')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
