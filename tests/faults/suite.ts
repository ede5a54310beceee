/**
 * Runs the scenarios one after another against one platform, waits for the
 * pipeline to drain after each, counts every accepted webhook, and recounts
 * all of them at the end (a late duplicate would show there).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import {
  logEvidence,
  snapshot,
  tally,
  waitForDrain,
  type JobAccount,
  type Tally,
} from './accounting';
import { NATS_SERVER, ROOT, sleep } from './infra';
import { WebhookSender, type SentWebhook } from './load';
import { Platform, type PlatformOptions } from './platform';
import {
  clearSimulatorFailures,
  defaultLoad,
  scenarios as allScenarios,
  type ScenarioContext,
} from './scenarios';

export interface SuiteOptions {
  quick: boolean;
  /** Scenario ids to run (default: all of the mode). */
  only?: string[];
  drainTimeoutMs?: number;
  /** The production NATS configuration: TLS, a user per service (tests/security/secure-nats.ts). */
  secureNats?: boolean;
  /** Three clustered nats-servers (R3), two replicas of every service, PgBouncer: scenarios 7–9 too. */
  cluster?: boolean;
  /** Processes per service (default: 2 with `cluster`, else 1). */
  replicas?: number;
  /** PgBouncer in transaction pooling mode in front of PostgreSQL (default: with `cluster`). */
  pgbouncer?: boolean;
  /** How long the fake model takes per answer (default 300 ms; 0 for an instant model). */
  llmDelayMs?: number;
  logDir?: string;
  log?: (line: string) => void;
}

export interface ProblemJob extends JobAccount {
  log: string[];
}

export interface ScenarioResult {
  id: string;
  title: string;
  webhooks_sent: number;
  accepted: number;
  rejected: Record<string, number>;
  jobs: number;
  notes_posted: number;
  duplicates: number;
  extra_notes: number;
  dead_letters: number;
  dead_letter_entries: number;
  expected_dead_letters: number;
  unexpected_dead_letters: number;
  lost: number;
  dead_letters_unrecorded: number;
  note_and_dead_letter: number;
  notes_for_rejected_webhooks: number;
  drained: boolean;
  drain_seconds: number;
  /** Dead-lettered messages the server was still redelivering when the drain ended. */
  dead_letters_still_delivered: number;
  load_seconds: number;
  ingress_latency_ms: { p50: number; p99: number; max: number };
  events: { at_s: number; what: string; data?: Record<string, unknown> }[];
  details: Record<string, unknown>;
  problems: ProblemJob[];
  passed: boolean;
}

export interface SuiteResult {
  suite: 'fault-injection';
  mode: 'full' | 'quick';
  started_at: string;
  finished_at: string;
  duration_seconds: number;
  machine: Record<string, string | number>;
  config: Record<string, string | number>;
  scenarios: ScenarioResult[];
  /** Every scenario added up. */
  totals: Totals;
  passed: boolean;
}

export interface Totals {
  webhooks_sent: number;
  accepted: number;
  notes_posted: number;
  duplicates: number;
  dead_letters: number;
  expected_dead_letters: number;
  lost: number;
  drain_seconds: number;
}

function totalsOf(results: ScenarioResult[]): Totals {
  const sum = (pick: (r: ScenarioResult) => number) => results.reduce((a, r) => a + pick(r), 0);
  return {
    webhooks_sent: sum((r) => r.webhooks_sent),
    accepted: sum((r) => r.accepted),
    notes_posted: sum((r) => r.notes_posted),
    duplicates: sum((r) => r.duplicates),
    dead_letters: sum((r) => r.dead_letters),
    expected_dead_letters: sum((r) => r.expected_dead_letters),
    lost: sum((r) => r.lost),
    drain_seconds: Math.round(sum((r) => r.drain_seconds) * 10) / 10,
  };
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {
    return 'unknown';
  }
}

async function machineInfo(platform: Platform): Promise<Record<string, string | number>> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const { rows } = await platform.admin.query<{ v: string }>(
    "SELECT current_setting('server_version') AS v",
  );
  return {
    host: hostname(),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    load_average_at_start: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    node: process.version,
    postgres: rows[0]?.v ?? 'unknown',
    nats_server: version(NATS_SERVER, ['--version']),
    // Streams and KV buckets with their replicas, as the registry created them.
    stream_replicas: (await platform.jsm.streams.list().next())
      .map((s) => `${s.config.name}: R${s.config.num_replicas}`)
      .sort()
      .join(', '),
  };
}

function fromTally(t: Tally): Omit<Tally, 'accounts'> {
  const figures: Partial<Tally> = { ...t };
  delete figures.accounts;
  return figures as Omit<Tally, 'accounts'>;
}

/** How often the poster's at-most-once checks caught a job that was already done. */
function posterLogCounts(platform: Platform): { foundOnTicket: number; alreadyRecorded: number } {
  let text = '';
  for (const replica of platform.replicasOf('servicedesk-poster')) {
    try {
      text += readFileSync(replica.logFile, 'utf8');
    } catch {
      // no log yet
    }
  }
  const count = (needle: string) => text.split(needle).length - 1;
  return {
    foundOnTicket: count('Note for this job already on the ticket'),
    alreadyRecorded: count('Already posted; nothing to do'),
  };
}

const isProblem = (a: JobAccount) => a.verdict !== 'posted' && a.verdict !== 'dead_lettered';

export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const quick = options.quick;
  // The full run's scenarios leave a backlog of over a thousand jobs each to drain.
  const drainTimeoutMs = options.drainTimeoutMs ?? (quick ? 120_000 : 300_000);
  const cluster = options.cluster ?? false;
  const platformOptions: PlatformOptions = {
    tenants: 4,
    logDir:
      options.logDir ??
      join(
        ROOT,
        'tests',
        'faults',
        'results',
        `logs${cluster ? '-cluster' : ''}${quick ? '-quick' : ''}`,
      ),
    llmDelayMs: options.llmDelayMs ?? 300,
    llmTimeoutMs: 2_000,
    sdpTimeoutMs: 3_000,
    secureNats: options.secureNats ?? false,
    cluster,
    replicas: options.replicas ?? (cluster ? 2 : 1),
    pgbouncer: options.pgbouncer ?? cluster,
    log,
  };
  const startedAt = new Date();
  const selected = allScenarios({ quick, cluster }).filter((s) =>
    options.only ? options.only.includes(s.id) : !s.optIn,
  );
  log(
    `fault suite (${quick ? 'quick' : 'full'}${cluster ? ', cluster' : ''}): scenarios ${selected.map((s) => s.id).join(', ')}`,
  );
  const platform = await Platform.start(platformOptions);
  const results: ScenarioResult[] = [];
  const sentByScenario = new Map<string, SentWebhook[]>();
  try {
    const machine = await machineInfo(platform);
    for (const scenario of selected) {
      log(`\n▶ scenario ${scenario.id}: ${scenario.title}`);
      const before = posterLogCounts(platform);
      const start = Date.now();
      const sender = new WebhookSender(platform, start);
      const events: ScenarioResult['events'] = [];
      const details: Record<string, unknown> = {};
      const ctx: ScenarioContext = {
        platform,
        quick,
        sender,
        elapsed: () => Date.now() - start,
        at: async (ms) => {
          const wait = start + ms - Date.now();
          if (wait > 0) await sleep(wait);
        },
        event(what, data) {
          const at_s = Math.round((Date.now() - start) / 100) / 10;
          events.push({ at_s, what, ...(data && { data }) });
          log(`  [${at_s.toFixed(1)} s] ${what}${data ? ` ${JSON.stringify(data)}` : ''}`);
        },
        details,
      };
      const load = scenario.load ? scenario.load(ctx) : defaultLoad(ctx, scenario);
      const injected = scenario.inject(ctx);
      const [loadOutcome, injectOutcome] = await Promise.allSettled([load, injected]);
      for (const outcome of [loadOutcome, injectOutcome]) {
        if (outcome.status === 'rejected') {
          const reason: unknown = outcome.reason;
          ctx.event('scenario step failed', {
            error: reason instanceof Error ? reason.message : String(reason),
          });
        }
      }
      await sender.settled();
      const loadMs = Date.now() - start;
      ctx.event('load finished; waiting for the pipeline to drain');
      const drain = await waitForDrain(platform, sender.sent, drainTimeoutMs);
      ctx.event(
        drain.drained ? 'drained' : `not drained after ${drainTimeoutMs / 1000} s`,
        drain.drained ? undefined : { consumers: drain.consumers },
      );
      sentByScenario.set(scenario.id, sender.sent);
      await Promise.resolve(scenario.report?.(ctx)).catch((error: unknown) =>
        ctx.event('report failed', { error: String(error) }),
      );
      const after = posterLogCounts(platform);
      details['poster_found_its_note_already_on_the_ticket'] =
        after.foundOnTicket - before.foundOnTicket;
      details['poster_found_the_job_already_recorded'] =
        after.alreadyRecorded - before.alreadyRecorded;
      const latencies = sender.sent.filter((w) => w.status === 202).map((w) => w.latencyMs);
      results.push({
        id: scenario.id,
        title: scenario.title,
        ...fromTally(drain.tally),
        drained: drain.drained,
        dead_letters_still_delivered: drain.deadLettersStillDelivered,
        drain_seconds: Math.round(drain.drainMs / 100) / 10,
        load_seconds: Math.round(loadMs / 100) / 10,
        ingress_latency_ms: {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          max: Math.max(0, ...latencies),
        },
        events,
        details,
        problems: [],
        passed: false,
      });
      await Promise.all(platform.tenants.map(clearSimulatorFailures));
      platform.llm.mode = 'ok';
      platform.llm.release();
      const r = results[results.length - 1];
      log(
        `  accepted ${r.accepted}/${r.webhooks_sent}, notes ${r.notes_posted}, dead letters ${r.dead_letters}, ` +
          `duplicates ${r.duplicates}, lost ${r.lost}, drain ${r.drain_seconds} s`,
      );
    }

    // Recount everything: a redelivery after a scenario's drain would show up here.
    const everything = [...sentByScenario.values()].flat();
    const jobIds = [...new Set(everything.filter((w) => w.jobId).map((w) => w.jobId!))];
    const finalSnapshot = await snapshot(platform, jobIds);
    for (const result of results) {
      const final = tally(sentByScenario.get(result.id) ?? [], finalSnapshot);
      if (final.duplicates !== result.duplicates || final.lost !== result.lost) {
        result.details['final_recount'] = {
          duplicates: final.duplicates,
          lost: final.lost,
          note: 'figures changed after the scenario drained',
        };
      }
      Object.assign(result, fromTally(final));
      result.problems = final.accounts
        .filter(isProblem)
        .map((a) => ({ ...a, log: logEvidence(platform, a.jobId) }));
      result.passed =
        result.lost === 0 &&
        result.duplicates === 0 &&
        result.dead_letters_unrecorded === 0 &&
        result.note_and_dead_letter === 0;
    }
    const finishedAt = new Date();
    return {
      suite: 'fault-injection',
      mode: quick ? 'quick' : 'full',
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      duration_seconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
      machine,
      config: {
        tenants: platformOptions.tenants,
        llm_delay_ms: platformOptions.llmDelayMs,
        llm_timeout_ms: platformOptions.llmTimeoutMs,
        sdp_timeout_ms: platformOptions.sdpTimeoutMs,
        worker_concurrency: 4,
        nats: cluster ? '3-node JetStream cluster, R3 streams and KV buckets' : 'one nats-server',
        sync_interval: platform.cluster?.syncAlways ? 'always' : 'server default',
        replicas_per_service: platformOptions.replicas,
        pgbouncer: platformOptions.pgbouncer
          ? 'transaction pooling, 10 server connections per role'
          : 'none',
        poison_ticket_every: 10,
        drain_timeout_s: drainTimeoutMs / 1000,
        service_logs: relative(ROOT, platformOptions.logDir),
      },
      scenarios: results,
      totals: totalsOf(results),
      passed: results.every((r) => r.passed),
    };
  } finally {
    await platform.stop();
  }
}

/** The table the CLI prints and the docs quote. */
export function formatTable(result: SuiteResult): string {
  const header = [
    '#',
    'scenario',
    'sent',
    'accepted',
    'rejected',
    'jobs',
    'notes',
    'dupl.',
    'dead letters (expected)',
    'DLQ msgs',
    'lost',
    'drain s',
  ];
  const rows = result.scenarios.map((s) => [
    s.id,
    s.title,
    String(s.webhooks_sent),
    String(s.accepted),
    String(Object.values(s.rejected).reduce((a, b) => a + b, 0)),
    String(s.jobs),
    String(s.notes_posted),
    String(s.duplicates),
    `${s.dead_letters} (${s.expected_dead_letters})`,
    String(s.dead_letter_entries),
    String(s.lost),
    `${s.drain_seconds}${s.drained ? '' : ' (timeout)'}`,
  ]);
  const t = result.totals;
  rows.push([
    '',
    'total',
    String(t.webhooks_sent),
    String(t.accepted),
    String(t.webhooks_sent - t.accepted),
    '',
    String(t.notes_posted),
    String(t.duplicates),
    `${t.dead_letters} (${t.expected_dead_letters})`,
    '',
    String(t.lost),
    String(t.drain_seconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 1 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}
