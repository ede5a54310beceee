/** Runs load-generator.ts in its own (pinned) process and reads its result. */
import { spawn } from 'node:child_process';
import { canPin, ROOT } from './processes';
import type { LatencySummary } from './stats';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** The tenant's webhook secret: every body is signed with it. */
  secret: string;
  ticketPrefix: string;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  requests: number;
  /** Replies with status 202. */
  accepted: number;
  acceptedPerSecond: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  latencyMs: LatencySummary;
}

export async function runLoad(spec: LoadSpec, cpu?: string): Promise<LoadResult> {
  const argv = [process.execPath, '-r', './tools/register.js', 'tools/bench/load-generator.ts'];
  const [command, ...args] = cpu !== undefined && canPin() ? ['taskset', '-c', cpu, ...argv] : argv;
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, BENCH_LOAD: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) {
    throw new Error(`load generator failed (${code}): ${stderr.slice(-2000)}${stdout.slice(-500)}`);
  }
  return JSON.parse(line.slice('RESULT '.length)) as LoadResult;
}
