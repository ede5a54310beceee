/**
 * What the benchmark reads about its processes (CPU, memory, the machine).
 * The processes themselves start the one way the platform's do
 * (@tep/service-process), each logging to a file, so a service logging every
 * request does not make the harness a bottleneck.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@tep/service-process';

export { ROOT, ServiceProcess, canPin, freePort } from '@tep/service-process';
export const RESULTS_DIR = join(ROOT, 'tools', 'bench', 'results');

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

/**
 * Read and write system calls a process has made so far (`syscr`, `syscw`
 * in /proc/<pid>/io: read(2), write(2) and their vector forms, which is how
 * Node's and Go's sockets and log files are written; PostgreSQL's send(2) and
 * recv(2) are not counted), or NaN when unreadable.
 */
export function syscalls(pid: number): { reads: number; writes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(io)?.[1]);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return { reads: Number.NaN, writes: Number.NaN };
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
