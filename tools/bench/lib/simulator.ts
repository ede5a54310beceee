/**
 * The SDP simulator as its own process (tools/sdp-simulator/src/main.ts),
 * driven through its control endpoints, so that answering the poster costs
 * the benchmark harness nothing and its clock is still this machine's.
 */
import { ServiceProcess } from './processes';

interface SimulatedNote {
  request_display_id: string;
  description: string;
  created_time: number;
}

export interface SimulatorProcess {
  url: string;
  proc: ServiceProcess;
  seed(requests: { display_id: string; subject: string }[]): Promise<void>;
  /** Notes created so far (cheap: from the call counters). */
  noteCount(): Promise<number>;
  /** Every note's creation time (ms since the epoch) by the job id in its marker. */
  noteTimes(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

const JOB_REF = /Enhancement ref: ([0-9a-f-]{36})/;

export async function startSimulator(apiKeys: string[], logDir: string): Promise<SimulatorProcess> {
  const proc = await ServiceProcess.start({
    name: 'sdp-simulator',
    script: 'tools/sdp-simulator/src/main.ts',
    portVariable: 'SDP_SIMULATOR_PORT',
    readyPath: '/_sim/calls',
    env: { SDP_SIMULATOR_API_KEYS: apiKeys.join(','), SDP_SIMULATOR_SEED: 'empty' },
    output: { logDir },
  });
  const url = proc.url;
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    if (!res.ok) throw new Error(`simulator ${path}: ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    url,
    proc,
    async seed(requests) {
      // In slices: the simulator takes bodies up to 1 MiB.
      for (let i = 0; i < requests.length; i += 5_000) {
        const res = await fetch(`${url}/_sim/seed`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ requests: requests.slice(i, i + 5_000) }),
        });
        if (!res.ok) throw new Error(`simulator seed: ${res.status} ${await res.text()}`);
      }
    },
    async noteCount() {
      const calls = await get<{ byRoute: Record<string, Record<string, number>> }>('/_sim/calls');
      const outcomes = calls.byRoute['POST /requests/{id}/notes'] ?? {};
      return Object.entries(outcomes)
        .filter(([status]) => status.startsWith('2'))
        .reduce((sum, [, n]) => sum + n, 0);
    },
    async noteTimes() {
      const { notes } = await get<{ notes: SimulatedNote[] }>('/_sim/notes');
      const times = new Map<string, number>();
      for (const note of notes) {
        const jobId = JOB_REF.exec(note.description)?.[1];
        if (jobId) times.set(jobId, note.created_time);
      }
      return times;
    },
    async stop() {
      await proc.kill();
    },
  };
}
