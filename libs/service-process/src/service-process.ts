import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root: entries and the TypeScript loader are relative to it. */
export const ROOT = join(__dirname, '..', '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let tasksetAvailable: boolean | undefined;
/** Whether something accepts TCP connections on 127.0.0.1:`port` (answers within 500 ms). */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

/** `taskset` exists and there are at least two cores to split. */
export function canPin(): boolean {
  tasksetAvailable ??=
    cpus().length >= 2 && spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  return tasksetAvailable;
}

/** Children still running when this process exits are killed with it. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
}

/**
 * Where a process's output goes: a log file (`<logDir>/<name>.log`, which
 * nothing has to drain, so a chatty service never slows its parent), or
 * each line to a callback (the terminal of `npm start`).
 */
export type ProcessOutput = { logDir: string } | { onLine: (line: string) => void };

export interface NodeProcessOptions {
  name: string;
  /** The entry, relative to the repository root: TypeScript (through the SWC loader) unless `compiled`. */
  script: string;
  /** A compiled JavaScript entry, run by plain node (the Docker image's way). */
  compiled?: boolean;
  env: Record<string, string>;
  output: ProcessOutput;
  /** Extra node arguments after the loader (e.g. another `-r` preload). */
  nodeArgs?: string[];
  /** A CPU list for `taskset -c` (e.g. "0"); ignored where pinning is impossible. */
  cpu?: string;
  /** Append to the log file instead of starting it afresh (a restart). */
  append?: boolean;
}

export interface NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The log file, when output goes to one. */
  readonly logFile?: string;
  /** The end of what the process printed, for error messages and log assertions. */
  tail(chars?: number): string;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
}

/** Spawns `node [loader] [nodeArgs] <script>` from the repository root. */
export function spawnNode(options: NodeProcessOptions): NodeProcess {
  const loader = options.compiled ? [] : ['-r', './tools/register.js'];
  const nodeArgv = [...loader, ...(options.nodeArgs ?? []), options.script];
  const pinned = options.cpu !== undefined && canPin();
  // taskset execs node, so the child's pid is node's pid.
  const [command, args] = pinned
    ? ['taskset', ['-c', options.cpu!, process.execPath, ...nodeArgv]]
    : [process.execPath, nodeArgv];
  let logFile: string | undefined;
  let fd: number | undefined;
  if ('logDir' in options.output) {
    mkdirSync(options.output.logDir, { recursive: true });
    logFile = join(options.output.logDir, `${options.name}.log`);
    fd = openSync(logFile, options.append ? 'a' : 'w');
  }
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
  });
  if (fd !== undefined) closeSync(fd);
  let recent = '';
  if ('onLine' in options.output) {
    const { onLine } = options.output;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        recent = (recent + line + '\n').slice(-20_000);
        onLine(line);
      });
    }
  }
  track(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    name: options.name,
    child,
    pid: child.pid!,
    logFile,
    exited,
    tail: (chars = 3000) => {
      if (!logFile) return recent.slice(-chars);
      try {
        return readFileSync(logFile, 'utf8').slice(-chars);
      } catch {
        return '';
      }
    },
  };
}

export interface ServiceProcessOptions extends Omit<NodeProcessOptions, 'script' | 'append'> {
  /** The entry (default: `apps/<name>/src/main.ts`, or `<compiledDir>/apps/<name>/src/main.js`). */
  script?: string;
  /** A fixed port (kept across restarts); default: a free one. */
  port?: number;
  /** The variable that carries the port (default: PORT). */
  portVariable?: string;
  /** Answers 200 once the process is ready (default: /health). */
  readyPath?: string;
}

/**
 * One of the platform's services (or the SDP simulator) as a process on its
 * own port: the one way `npm start`, the end-to-end specs, the fault suite
 * and the benchmark start them. Restartable on the same port, so its URL
 * survives a kill.
 */
export class ServiceProcess {
  private current?: NodeProcess;
  /** How many times it was started. */
  starts = 0;

  private constructor(
    private readonly options: ServiceProcessOptions,
    readonly port: number,
  ) {}

  /** Starts it and waits until it is ready. */
  static async start(options: ServiceProcessOptions, timeoutMs?: number): Promise<ServiceProcess> {
    const service = new ServiceProcess(options, options.port ?? (await freePort()));
    await service.start(timeoutMs);
    return service;
  }

  get name(): string {
    return this.options.name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private get started(): NodeProcess {
    if (!this.current) throw new Error(`${this.name} was never started`);
    return this.current;
  }

  /** The current (or last) process. */
  get child(): ChildProcess {
    return this.started.child;
  }

  get pid(): number {
    return this.started.pid;
  }

  /** Its log file (output to a log directory only). */
  get logFile(): string {
    if (!('logDir' in this.options.output))
      throw new Error(`${this.name} logs to a callback, not a file`);
    return join(this.options.output.logDir, `${this.name}.log`);
  }

  /** Resolves when the current process exits, with its code. */
  get exited(): Promise<number | null> {
    return this.current?.exited ?? Promise.resolve(null);
  }

  get running(): boolean {
    const child = this.current?.child;
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  /** What it printed lately (its log), for error messages and assertions on log lines. */
  output(chars = 1_000_000): string {
    return this.current?.tail(chars) ?? '';
  }

  /** Spawns the process (a restart appends to its log) and waits until readyPath answers 200. */
  async start(timeoutMs = 90_000): Promise<void> {
    const { options } = this;
    const script =
      options.script ??
      (options.compiled ? `apps/${options.name}/src/main.js` : `apps/${options.name}/src/main.ts`);
    this.current = spawnNode({
      ...options,
      script,
      append: this.starts > 0,
      env: {
        HOST: '127.0.0.1',
        [options.portVariable ?? 'PORT']: String(this.port),
        ...options.env,
      },
    });
    this.starts += 1;
    const child = this.current.child;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `${this.name} exited with ${child.exitCode ?? child.signalCode} during start:\n${this.output(3000)}`,
        );
      }
      try {
        const res = await fetch(`${this.url}${options.readyPath ?? '/health'}`, {
          signal: AbortSignal.timeout(2_000),
        });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill('SIGKILL');
        throw new Error(`${this.name} did not become ready:\n${this.output(3000)}`);
      }
      await sleep(200);
    }
  }

  /** Sends the signal and waits for the exit (SIGKILL after 15 s of anything else). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const current = this.current;
    if (!current || !this.running) return current ? current.exited : null;
    current.child.kill(signal);
    const timer =
      signal === 'SIGKILL' ? undefined : setTimeout(() => current.child.kill('SIGKILL'), 15_000);
    const code = await current.exited;
    if (timer) clearTimeout(timer);
    return code;
  }
}
