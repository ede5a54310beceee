import { shutdownTracing } from '@tep/service-runtime';
import { benchRuntime } from './runtime';

// The small variant of `npm run bench -- --part runtime`: every job goes
// through all three stages in both modes, and the report adds up. Timings
// are the benchmark's business, not asserted here.
describe('the stage-runtime benchmark (small)', () => {
  afterAll(() => shutdownTracing());

  it('takes every job through the three stages with the runtime and with the bare client', async () => {
    const report = await benchRuntime({ jobs: 120, tenants: 3, rounds: 1, concurrency: 4 });

    expect(report.cells.map((c) => [c.mode, c.jobs])).toEqual([
      ['stage runtime', 120],
      ['bare client', 120],
    ]);
    for (const cell of report.cells) {
      expect(cell.jobsPerSecond).toBeGreaterThan(0);
      expect(cell.processCpuMsPerJob).toBeGreaterThan(0);
    }
    // Only the runtime has fairness lanes; the bare client never moves anything.
    expect(report.cells.find((c) => c.mode === 'bare client')!.backlogMovesPerJob).toBe(0);
    expect(Number.isFinite(report.cpuRatio)).toBe(true);
    expect(report.summary.map((s) => s.mode)).toEqual(['stage runtime', 'bare client']);
  }, 120_000);
});
