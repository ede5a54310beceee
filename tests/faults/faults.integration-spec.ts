/**
 * The fault-injection suite's quick variant (scenarios 1, 4 and 6, fewer
 * webhooks): kill -9 of each worker mid-processing, SDP failing in every way
 * it can, and one webhook delivered 100 times. It starts its own PostgreSQL
 * and NATS (never the shared ones) and the five services as processes.
 * Takes about 100 s alone on 2 cores. The full suite (six scenarios):
 * `node -r ./tools/register.js tests/faults/run.ts`; see docs/fault-injection.md.
 */
import { formatTable, runSuite, type SuiteResult } from './suite';

describe('fault injection (quick variant)', () => {
  let result: SuiteResult;
  const lines: string[] = [];

  beforeAll(async () => {
    result = await runSuite({ quick: true, log: (line) => lines.push(line) });
    // Shown with the test output: the same table the CLI prints.
    console.log(`${lines.join('\n')}\n\n${formatTable(result)}`);
  }, 480_000);

  it.each(['1', '4', '6'])(
    'scenario %s: every accepted webhook ends as exactly one note or one dead letter',
    (id) => {
      const scenario = result.scenarios.find((s) => s.id === id)!;
      expect(scenario).toBeDefined();
      expect(scenario.accepted).toBeGreaterThan(0);
      const problems = scenario.problems.map(
        (p) => `${p.verdict} ${p.jobId} (${p.notes} notes, ${p.deadLetters} dead letters)`,
      );
      expect({ id, lost: scenario.lost, duplicates: scenario.duplicates, problems }).toEqual({
        id,
        lost: 0,
        duplicates: 0,
        problems: [],
      });
      expect(scenario.notes_posted + scenario.dead_letters).toBe(scenario.jobs);
    },
  );

  it('the same webhook sent 100 times is one job', () => {
    const same = result.scenarios.find((s) => s.id === '6')!.details['same_webhook'] as {
      sent: number;
      accepted: number;
      distinct_job_ids: number;
    };
    expect(same).toEqual({ ...same, sent: 100, accepted: 100, distinct_job_ids: 1 });
  });
});
