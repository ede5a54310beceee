/** Real service processes for end-to-end specs, started the one way the platform starts them. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, freePort } from '@tep/service-process';

export { ServiceProcess, freePort };

/**
 * Spawns `apps/<name>/src/main.ts` and waits until its /health says healthy.
 * Its output goes to a log file of its own (`output()` reads it), so two
 * replicas of one service never share a file.
 */
export async function startServiceProcess(
  name: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
  port?: number,
): Promise<ServiceProcess> {
  return ServiceProcess.start(
    {
      name,
      port,
      // Its own gRPC port too: specs run in parallel and 50051 would collide.
      env: { NODE_ENV: 'test', GRPC_PORT: String(await freePort()), ...env },
      output: { logDir: mkdtempSync(join(tmpdir(), `tep-${name}-`)) },
    },
    timeoutMs,
  );
}
