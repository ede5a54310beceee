import { RANKING_MODES, benchRanking } from './ranking';

// The small variant of `npm run bench -- --part ranking`: both modes run
// every query and find the same tickets with the same scores. Timings are
// the benchmark's business, not asserted here.
describe('the ranking benchmark (small)', () => {
  it('scores the same from the term arrays as from the vector, and reports CPU per query', async () => {
    const report = await benchRanking({ queries: 5, rounds: 2, openTickets: 60 });

    expect(report.sameResults).toBe(true);
    expect(report.cells).toHaveLength(2 * RANKING_MODES.length * 2);
    expect(report.summary.map((s) => s.mode)).toEqual(
      RANKING_MODES.flatMap((mode) => [mode, mode]),
    );
    for (const s of report.summary) expect(s.backendCpuMsPerQuery).toBeGreaterThan(0);
  }, 120_000);
});
