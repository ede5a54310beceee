import { HTTP_CLIENT_MODES, benchHttpClient } from './http-client';

// The small variant of `npm run bench -- --part http-client`: every mode
// completes its calls against the loopback chat server, and the report adds
// up. Timings are the benchmark's business, not asserted here.
describe('the outbound HTTP client benchmark (small)', () => {
  it('makes every call through each client and reports a median per client', async () => {
    const report = await benchHttpClient({ calls: 30, rounds: 2 });

    expect(report.cells.map((c) => [c.mode, c.round, c.calls])).toEqual(
      [1, 2].flatMap((round) => HTTP_CLIENT_MODES.map((mode) => [mode, round, 30])),
    );
    expect(report.summary.map((s) => s.mode)).toEqual([...HTTP_CLIENT_MODES]);
    for (const s of report.summary) expect(s.cpuMsPerCall).toBeGreaterThan(0);
  }, 60_000);
});
