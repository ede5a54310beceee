/**
 * What a JetStream publish costs on this machine, as the ingress makes it
 * (one awaited publish per webhook, a job-sized payload):
 *
 *   node -r ./tools/register.js tests/faults/publish-cost.ts [--messages=2000]
 *
 * - one nats-server, R1 stream (what `npm start` runs);
 * - a three-node cluster on loopback, R3 stream (what deploy/ runs), with
 *   the server's default sync and — where the server has it (2.10+) — with
 *   `sync_interval: always`, as deploy/ sets it;
 * - the disk itself: appends of the same size with and without an fdatasync
 *   after each, the least `sync_interval: always` adds to a write the
 *   server flushes alone (it flushes concurrent writes together).
 *
 * Prints a table and writes tests/faults/results/publish-cost.json.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  makeTempDir,
  NatsCluster,
  NatsInstance,
  natsServerVersion,
  removeTempDirs,
  ROOT,
  sleep,
} from './infra';

interface Figures {
  setup: string;
  in_flight: number;
  messages: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const PAYLOAD = Buffer.alloc(1_500, 'x');

async function measure(
  setup: string,
  url: string,
  replicas: number,
  inFlight: number,
  messages: number,
): Promise<Figures> {
  const nc = await connect({ servers: url.split(','), timeout: 10_000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 15_000, checkAPI: false });
    const name = `COST_${replicas}_${inFlight}`;
    for (;;) {
      try {
        await jsm.streams.add({ name, subjects: [`cost.${name}.>`], num_replicas: replicas });
        break;
      } catch {
        await sleep(500); // a new cluster elects its meta leader first
      }
    }
    const js = jetstream(nc, { timeout: 15_000 });
    // Warm-up: connections, the stream's leader and its first block.
    for (let i = 0; i < 100; i++) await js.publish(`cost.${name}.warm`, PAYLOAD);
    const latencies: number[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < messages) {
          const id = next++;
          const t0 = process.hrtime.bigint();
          await js.publish(`cost.${name}.m`, PAYLOAD, { msgID: `m-${id}` });
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await jsm.streams.delete(name);
    latencies.sort((a, b) => a - b);
    return {
      setup,
      in_flight: inFlight,
      messages,
      per_second: Math.round(messages / seconds),
      p50_ms: Math.round(percentile(latencies, 50) * 100) / 100,
      p99_ms: Math.round(percentile(latencies, 99) * 100) / 100,
    };
  } finally {
    await nc.close();
  }
}

/** Appends of one payload each, with or without fdatasync after each. */
function diskAppends(sync: boolean, count: number): { per_second: number; mean_ms: number } {
  const dir = makeTempDir('tep-publish-cost-disk-');
  const fd = openSync(join(dir, 'append.blk'), 'a');
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    writeSync(fd, PAYLOAD);
    if (sync) fdatasyncSync(fd);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  closeSync(fd);
  return {
    per_second: Math.round((count / ms) * 1000),
    mean_ms: Math.round((ms / count) * 1000) / 1000,
  };
}

async function main(): Promise<void> {
  const messages = Number(
    process.argv.find((a) => a.startsWith('--messages='))?.slice(11) ?? 2_000,
  );
  const [major, minor] = natsServerVersion();
  const results: Figures[] = [];
  const single = await NatsInstance.create();
  try {
    for (const inFlight of [1, 32]) {
      results.push(await measure('one server, R1', single.url, 1, inFlight, messages));
    }
  } finally {
    await single.destroy();
  }
  for (const syncAlways of [false, true]) {
    const cluster = await NatsCluster.create(3, { syncAlways });
    if (syncAlways && !cluster.syncAlways) {
      await cluster.destroy();
      break;
    }
    try {
      const setup = `cluster of 3, R3, sync_interval: ${cluster.syncAlways ? 'always' : 'default'}`;
      for (const inFlight of [1, 32]) {
        results.push(await measure(setup, cluster.url, 3, inFlight, messages));
      }
    } finally {
      await cluster.destroy();
    }
  }
  const disk = {
    without_fdatasync: diskAppends(false, 1_000),
    with_fdatasync_after_each: diskAppends(true, 1_000),
  };
  removeTempDirs();
  const report = {
    measured_at: new Date().toISOString(),
    nats_server: `${major}.${minor}`,
    sync_interval_always_supported: major > 2 || (major === 2 && minor >= 10),
    payload_bytes: PAYLOAD.length,
    publishes: results,
    disk_appends_1500_bytes: disk,
  };
  for (const r of results) {
    console.log(
      `${r.setup.padEnd(42)} ${String(r.in_flight).padStart(3)} in flight: ${String(r.per_second).padStart(6)} publishes/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`,
    );
  }
  console.log(
    `disk: ${disk.without_fdatasync.per_second} appends/s without fdatasync, ` +
      `${disk.with_fdatasync_after_each.per_second}/s with (${disk.with_fdatasync_after_each.mean_ms} ms each)`,
  );
  if (!report.sync_interval_always_supported) {
    console.log(
      `nats-server ${major}.${minor} has no sync_interval (2.10+): the cluster ran with the server's default`,
    );
  }
  const out = join(ROOT, 'tests', 'faults', 'results', 'publish-cost.json');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(out);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
