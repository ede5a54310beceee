/**
 * The fault-injection suite:
 *
 *   node -r ./tools/register.js tests/faults/run.ts            # all six scenarios, over 10,000 webhooks
 *   node -r ./tools/register.js tests/faults/run.ts --quick    # scenarios 1, 4, 6, smaller
 *   node -r ./tools/register.js tests/faults/run.ts --cluster  # three clustered nats-servers (R3), two
 *       replicas of every service, PgBouncer; scenarios 7–9 too (node kills, replica kills, a partition)
 *   (--replicas=N and --pgbouncer set those apart from --cluster; --llm-delay-ms=N the fake model's latency)
 *   node -r ./tools/register.js tests/faults/run.ts --only=2,3 # some scenarios
 *   node -r ./tools/register.js tests/faults/run.ts --secure-nats # production NATS: TLS, a user per service
 *   (--drain-timeout=<s> bounds the wait after each scenario; --out=<file> moves the JSON)
 *
 * Starts its own PostgreSQL and NATS (never the shared ones), the five
 * services, a fake LLM and SDP simulators; prints a table, writes the JSON
 * to tests/faults/results/latest.json (latest-quick.json with --quick) and
 * exits 1 when any accepted webhook was lost or got more than one note.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'prettier';
import { ROOT } from './infra';
import { formatTable, runSuite } from './suite';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const drainArg = args.find((a) => a.startsWith('--drain-timeout='))?.slice(16);
  const drainTimeoutMs = drainArg ? Number(drainArg) * 1000 : undefined;
  const outArg = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  const out =
    outArg ??
    join(
      ROOT,
      'tests',
      'faults',
      'results',
      `latest${args.includes('--cluster') ? '-cluster' : ''}${quick ? '-quick' : ''}.json`,
    );

  const secureNats = args.includes('--secure-nats');
  const cluster = args.includes('--cluster');
  const replicasArg = args.find((a) => a.startsWith('--replicas='))?.slice('--replicas='.length);
  const replicas = replicasArg ? Number(replicasArg) : undefined;
  const pgbouncer = args.includes('--pgbouncer') || undefined;
  const delayArg = args
    .find((a) => a.startsWith('--llm-delay-ms='))
    ?.slice('--llm-delay-ms='.length);
  const llmDelayMs = delayArg === undefined ? undefined : Number(delayArg);
  const result = await runSuite({
    quick,
    only,
    drainTimeoutMs,
    secureNats,
    cluster,
    replicas,
    pgbouncer,
    llmDelayMs,
  });
  console.log(`\n${formatTable(result)}\n`);
  for (const scenario of result.scenarios) {
    for (const problem of scenario.problems) {
      console.log(
        `scenario ${scenario.id}: job ${problem.jobId} (tenant ${problem.tenantIndex}, ticket ${problem.ticketId}) ` +
          `${problem.verdict}: ${problem.notes} note(s), ${problem.deadLetters} dead letter(s), history ${problem.history ?? 'none'}`,
      );
    }
  }
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, await format(JSON.stringify(result), { parser: 'json' }));
  console.log(`${result.passed ? 'PASSED' : 'FAILED'} in ${result.duration_seconds} s; ${out}`);
  return result.passed ? 0 : 1;
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // The suite's finally blocks stop what it started; exiting runs the emergency clean-up.
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping`);
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
