/**
 * The load generator, run as its own process (pinned to another core than
 * the server under test) by lib/load.ts: autocannon sends signed webhooks,
 * each with a unique body (a counter in ticket_id) so that de-duplication
 * never short-circuits, and prints one JSON line with the measured window.
 *
 * Input: the BENCH_LOAD environment variable (JSON, see LoadSpec).
 */
import { createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './lib/load';
import { summarize } from './lib/stats';

const spec = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadSpec;

let counter = 0;
const prefix = `${spec.ticketPrefix}-${process.pid}`;

function nextRequest(request: autocannon.Request): autocannon.Request {
  counter++;
  const body = JSON.stringify({
    ticket_id: `${prefix}-${counter}`,
    subject: `Database connection timeout error #${counter}`,
    description:
      "Application reports 'Connection timeout' when querying PostgreSQL database on db01. " +
      'Error started at 10:30 AM. All other services operational.',
    priority: 'High',
    status: 'Open',
    requester_email: 'user@acmecorp.com',
    created_at: '2025-11-03T10:30:00Z',
  });
  const signature = createHmac('sha256', spec.secret).update(body).digest('hex');
  return {
    ...request,
    body,
    headers: {
      ...request.headers,
      'content-type': 'application/json',
      'x-servicedesk-signature': signature,
    },
  };
}

function run(
  seconds: number,
  record: boolean,
): Promise<{ result: autocannon.Result; ms: number[] }> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: 'POST',
        connections: spec.connections,
        duration: seconds,
        timeout: 10,
        requests: [{ method: 'POST', setupRequest: nextRequest }],
      },
      (error: unknown, result) =>
        error
          ? reject(error instanceof Error ? error : new Error(JSON.stringify(error)))
          : resolve({ result, ms: latencies }),
    );
    if (record) {
      instance.on('response', (_client, _status, _bytes, responseTime: number) => {
        latencies.push(responseTime);
      });
    }
  });
}

async function main(): Promise<void> {
  if (spec.warmupSeconds > 0) await run(spec.warmupSeconds, false);
  const { result, ms } = await run(spec.durationSeconds, true);
  const statusCounts: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    statusCounts[code] = count ?? 0;
  }
  const seconds = (new Date(result.finish).getTime() - new Date(result.start).getTime()) / 1000;
  const accepted = statusCounts['202'] ?? 0;
  const output: LoadResult = {
    connections: spec.connections,
    seconds,
    requests: result.requests.total,
    accepted,
    acceptedPerSecond: accepted / seconds,
    statusCounts,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: summarize(ms),
  };
  process.stdout.write(`RESULT ${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
