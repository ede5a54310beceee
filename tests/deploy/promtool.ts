/** Running promtool (Debian package `prometheus`) when it is on PATH. */
import { spawnSync } from 'node:child_process';
import { findExecutable } from './deploy-files';

export const PROMTOOL = findExecutable('promtool');

export interface PromtoolRun {
  status: number | null;
  output: string;
}

export function promtool(args: string[], cwd?: string): PromtoolRun {
  if (!PROMTOOL) throw new Error('promtool is not on PATH');
  const result = spawnSync(PROMTOOL, args, { encoding: 'utf8', cwd, timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** `it` when promtool is available; otherwise `it.skip` and a visible SKIPPED line. */
export function itWithPromtool(what: string): jest.It {
  if (PROMTOOL) return it;
  console.log(
    `deploy-checks: SKIPPED ${what}: promtool is not on PATH (apt-get install prometheus)`,
  );
  return it.skip;
}
