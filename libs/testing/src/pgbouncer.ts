/**
 * PgBouncer (Debian's package) in front of a PostgreSQL server, the way
 * production pools the services' connections: transaction pooling, so one
 * server connection serves many clients, one transaction at a time. The
 * platform's tenant context is `set_config(…, true)` inside each
 * transaction, which is exactly what survives such a pooler.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, portOpen } from '@tep/service-process';

const PGBOUNCER = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

export const pgBouncerAvailable = (): boolean => existsSync(PGBOUNCER);

interface PgBouncerOptions {
  /** The PostgreSQL server behind it, on 127.0.0.1. */
  serverPort: number;
  /** Roles that may log in (trust: PostgreSQL, behind it, checks them). */
  users: string[];
  /** Server connections per database and role (kept small in tests to force sharing). */
  poolSize?: number;
}

export interface PgBouncer {
  port: number;
  /** `url` with its host and port pointing at the pooler instead. */
  through(url: string): string;
  stop(): Promise<void>;
}

/** PgBouncer refuses to run as root: as root it switches to the `postgres` system user. */
function runAsUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return spawnSync('id', ['-u', 'postgres']).status === 0 ? 'postgres' : 'nobody';
}

interface PgBouncerProcess {
  /** SIGTERM: PgBouncer's immediate shutdown. */
  stop(): Promise<void>;
}

/**
 * Starts `binary` on `iniFile` (which must make it listen on `port` of
 * 127.0.0.1) and waits until it listens. The ini's directory is handed to
 * the user PgBouncer runs as, so its log and pid files can be written there.
 */
export async function spawnPgBouncer(
  iniFile: string,
  port: number,
  binary = PGBOUNCER,
): Promise<PgBouncerProcess> {
  const user = runAsUser();
  if (user) {
    const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
    chownSync(dirname(iniFile), uid, gid);
  }
  const child: ChildProcess = spawn(binary, [...(user ? ['-u', user] : []), iniFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`PgBouncer did not listen on ${port}:\n${printed}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  if (!pgBouncerAvailable()) {
    throw new Error(`PgBouncer not found at ${PGBOUNCER} (bash tools/dev/ensure-tools.sh)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tep-pgbouncer-'));
  const port = await freePort();
  const userlist = join(dir, 'userlist.txt');
  writeFileSync(userlist, options.users.map((u) => `"${u}" ""\n`).join(''));
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      // Any database name, on the one server.
      `* = host=127.0.0.1 port=${options.serverPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${userlist}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 2}`,
      'max_client_conn = 1000',
      // After a PostgreSQL restart, log in again within a second (default 15 s).
      'server_login_retry = 1',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  const pgbouncer = await spawnPgBouncer(join(dir, 'pgbouncer.ini'), port).catch(
    (error: unknown) => {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    },
  );
  return {
    port,
    through(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    async stop() {
      await pgbouncer.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
