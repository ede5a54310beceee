/**
 * kubectl, only when the operator asked for --apply and it is installed:
 * the manifests are always written for review either way.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const KUBECTL_TIMEOUT_MS = 60_000;

/** The executable's path when `command` is on PATH. */
export function findOnPath(command: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runKubectl(
  executable: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      executable,
      args,
      { env, timeout: KUBECTL_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr || (error?.message ?? '')) });
      },
    );
  });
}

/** `-f a -f b …` in the given order (the namespace must exist before what lives in it). */
export function fileArgs(paths: readonly string[]): string[] {
  return paths.flatMap((p) => ['-f', p]);
}
