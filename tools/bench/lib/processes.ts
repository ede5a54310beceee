/**
 * Child processes for the benchmarks: the real services (as `npm start` runs
 * them), the reference servers and the load generator. Output goes to a log
 * file, not to a pipe this process reads, so a service logging every request
 * does not make the harness a bottleneck (or grow a string without end).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');
export const RESULTS_DIR = join(ROOT, 'tools', 'bench', 'results');

let tasksetAvailable: boolean | undefined;

/** `taskset` exists and there are at least two cores to split. */
export function canPin(): boolean {
  tasksetAvailable ??=
    cpus().length >= 2 && spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  return tasksetAvailable;
}

export interface NodeProcessOptions {
  name: string;
  /** Path of the entry, relative to the repository root (TypeScript unless `compiled`). */
  script: string;
  /** A compiled JavaScript entry: run by plain node, without the SWC loader. */
  compiled?: boolean;
  env: Record<string, string>;
  /** A CPU list for `taskset -c` (e.g. "0"); ignored where pinning is impossible. */
  cpu?: string;
  logDir: string;
  /** Extra node arguments, after the TypeScript loader (e.g. another `-r` preload). */
  nodeArgs?: string[];
}

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Last lines of the log, for error messages. */
  tail(chars?: number): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnNode(options: NodeProcessOptions): BenchProcess {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${options.name}.log`);
  const fd = openSync(logFile, 'w');
  const loader = options.compiled ? [] : ['-r', './tools/register.js'];
  const nodeArgv = [...loader, ...(options.nodeArgs ?? []), options.script];
  const pinned = options.cpu !== undefined && canPin();
  // taskset execs node, so the child's pid is node's pid.
  const [command, args] = pinned
    ? ['taskset', ['-c', options.cpu!, process.execPath, ...nodeArgv]]
    : [process.execPath, nodeArgv];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    name: options.name,
    child,
    pid: child.pid!,
    logFile,
    tail: (chars = 3000) => {
      try {
        return readFileSync(logFile, 'utf8').slice(-chars);
      } catch {
        return '';
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}

/** Polls `url` until it answers 200, failing early if the process exits. */
export async function waitHealthy(
  proc: BenchProcess,
  url: string,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null)
      throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${proc.tail()}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`${proc.name} did not become healthy at ${url}:\n${proc.tail()}`);
    }
    await sleep(200);
  }
}

/** Resident set size in MiB from /proc/<pid>/status (VmRSS), or NaN when unreadable. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Jiffies the whole machine spent busy and in total so far (/proc/stat). */
export function machineJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** How busy the machine was between two readings, in cores (0..nproc). */
export function coresBusy(
  before: { busy: number; total: number },
  after: { busy: number; total: number },
): number {
  return ((after.busy - before.busy) / Math.max(1, after.total - before.total)) * cpus().length;
}
