/**
 * The SDP simulator (tools/sdp-simulator) as its own process, driven
 * through its control endpoints (/_sim/...): seeding tickets, queuing
 * failures (`fail`), reading back every note and the calls it answered.
 */
import { ServiceProcess } from '@tep/service-process';

export interface SimulatedNote {
  request_id: string;
  request_display_id: string;
  note_id: string;
  description: string;
  show_to_requester: boolean;
  created_time: number;
}

export interface FailureSpec {
  mode: '500' | '429' | 'timeout';
  count: number;
  retryAfterSeconds?: number;
  holdMs?: number;
}

export interface CallStats {
  total: number;
  byRoute: Record<string, Record<string, number>>;
}

export class SdpSimulatorProcess {
  private constructor(
    private readonly process: ServiceProcess,
    readonly apiKey: string,
  ) {}

  static async start(name: string, apiKey: string, logDir: string): Promise<SdpSimulatorProcess> {
    const process = await ServiceProcess.start({
      name,
      script: 'tools/sdp-simulator/src/main.ts',
      portVariable: 'SDP_SIMULATOR_PORT',
      readyPath: '/_sim/calls',
      env: { NODE_ENV: 'test', SDP_SIMULATOR_API_KEYS: apiKey, SDP_SIMULATOR_SEED: 'empty' },
      output: { logDir },
    });
    return new SdpSimulatorProcess(process, apiKey);
  }

  get url(): string {
    return this.process.url;
  }

  get logFile(): string {
    return this.process.logFile;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`simulator ${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async seed(requests: { display_id: string; subject: string; status: string }[]): Promise<void> {
    await this.call('POST', '/_sim/seed', { requests });
  }

  /** The next `count` API calls fail as `mode` says (replacing any queued failure). */
  async fail(spec: FailureSpec): Promise<void> {
    await this.call('POST', '/_sim/fail', spec);
  }

  async notes(): Promise<SimulatedNote[]> {
    return (await this.call<{ notes: SimulatedNote[] }>('GET', '/_sim/notes')).notes;
  }

  async calls(): Promise<CallStats> {
    return this.call<CallStats>('GET', '/_sim/calls');
  }

  stop(): Promise<void> {
    return this.process.kill('SIGTERM').then(() => undefined);
  }
}
