/**
 * The context sources, pipelined on one transaction against the real
 * PostgreSQL: a source that fails (a timeout, an error) costs only its own
 * context, as when they ran one after the other.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { TenantDatabase, createDataSource, type TenantTransaction } from '@tep/data';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import type { ContextSource } from '@tep/contracts';
import { SOURCES_SAVEPOINT, lookUpSources } from './source-lookups';

let db: TestDatabase;
let source: DataSource;
let tenants: TenantDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  source = createDataSource({ url: db.appUrl, poolSize: 1 });
  await source.initialize();
  tenants = new TenantDatabase(source, { preparedStatements: true });
});

afterAll(async () => {
  await source?.destroy();
  await db?.drop();
});

const value = (tx: TenantTransaction, v: string) =>
  tx.query<{ v: string }>('SELECT $1::text AS v', [v]).then((rows) => rows.map((r) => r.v));
/** Cancelled by the 100 ms statement_timeout the savepoint statement sets. */
const timesOut = (tx: TenantTransaction) =>
  tx
    .query<{ v: string }>("SELECT pg_sleep(5), 'late'::text AS v")
    .then((rows) => rows.map((r) => r.v));
const fails = (tx: TenantTransaction) =>
  tx
    .query<{ v: string }>('SELECT (1 / $1::int)::text AS v', [0])
    .then((rows) => rows.map((r) => r.v));

/** Sets a marker and the savepoint as the gatherer does, runs the lookups, then reads the marker. */
async function gather(
  lookups: { source: ContextSource; query: (tx: TenantTransaction) => Promise<string[]> }[],
  enabled: (source: ContextSource) => boolean = () => true,
) {
  const failures: { source: ContextSource; reason: string }[] = [];
  return tenants.withTenant(randomUUID(), async (tx) => {
    const marker = tx.query(`SELECT set_config('app.marker', 'kept', true)`);
    const savepoint = tx.query(
      `SELECT set_config('statement_timeout', '100ms', true); SAVEPOINT ${SOURCES_SAVEPOINT}`,
    );
    const found = await lookUpSources(
      tx,
      Promise.all([marker, savepoint]),
      lookups.map((l) => ({ ...l, empty: [] as string[] })),
      { enabled, onFailure: (source, reason) => failures.push({ source, reason }) },
    );
    const [{ marker: after }] = await tx.query<{ marker: string }>(
      `SELECT current_setting('app.marker') AS marker`,
    );
    return { found, failures, after };
  });
}

describe('lookUpSources', () => {
  it('returns every source in order when none fails', async () => {
    const result = await gather([
      { source: 'ticket_history', query: (tx) => value(tx, 'history') },
      { source: 'kb', query: (tx) => value(tx, 'kb') },
      { source: 'monitoring', query: (tx) => value(tx, 'systems') },
    ]);
    expect(result).toEqual({
      found: [['history'], ['kb'], ['systems']],
      failures: [],
      after: 'kept',
    });
  });

  it('loses only the source that timed out: the ones behind it are sent again and found', async () => {
    const result = await gather([
      { source: 'ticket_history', query: (tx) => value(tx, 'history') },
      { source: 'kb', query: timesOut },
      { source: 'monitoring', query: (tx) => value(tx, 'systems') },
    ]);
    expect(result.found).toEqual([['history'], [], ['systems']]);
    expect(result.failures).toEqual([
      { source: 'kb', reason: expect.stringMatching(/statement timeout/) },
    ]);
    // Rolled back to the savepoint only: what came before it stays, and the transaction goes on.
    expect(result.after).toBe('kept');
  });

  it('reports each of two failing sources with its own error, and keeps the one between them', async () => {
    const result = await gather([
      { source: 'ticket_history', query: fails },
      { source: 'kb', query: (tx) => value(tx, 'kb') },
      { source: 'monitoring', query: timesOut },
    ]);
    expect(result.found).toEqual([[], ['kb'], []]);
    expect(result.failures).toEqual([
      { source: 'ticket_history', reason: expect.stringMatching(/division by zero/) },
      { source: 'monitoring', reason: expect.stringMatching(/statement timeout/) },
    ]);
    expect(result.after).toBe('kept');
  });

  it('a source of two statements fails as one, with the error of the statement that failed', async () => {
    const result = await gather([
      {
        source: 'ticket_history',
        query: async (tx) => (await Promise.all([value(tx, 'a'), fails(tx)])).flat(),
      },
      { source: 'kb', query: (tx) => value(tx, 'kb') },
    ]);
    expect(result.found).toEqual([[], ['kb']]);
    expect(result.failures).toEqual([
      { source: 'ticket_history', reason: expect.stringMatching(/division by zero/) },
    ]);
  });

  it('runs no statement of a source the tenant turned off', async () => {
    const ran: string[] = [];
    const result = await gather(
      [
        { source: 'ticket_history', query: (tx) => (ran.push('history'), value(tx, 'history')) },
        { source: 'kb', query: (tx) => (ran.push('kb'), value(tx, 'kb')) },
      ],
      (s) => s !== 'kb',
    );
    expect(ran).toEqual(['history']);
    expect(result.found).toEqual([['history'], []]);
  });

  it('throws what failed before the sources (the stage fails), and reports no source as failed', async () => {
    const failures: ContextSource[] = [];
    const outcome = tenants.withTenant(randomUUID(), async (tx) => {
      const broken = tx.query('SELECT 1 / $1::int', [0]);
      const savepoint = tx.query(`SAVEPOINT ${SOURCES_SAVEPOINT}`);
      return lookUpSources(
        tx,
        Promise.all([broken, savepoint]),
        [{ source: 'kb', empty: [] as string[], query: (tx) => value(tx, 'kb') }],
        { enabled: () => true, onFailure: (source) => failures.push(source) },
      );
    });
    await expect(outcome).rejects.toThrow(/division by zero/);
    expect(failures).toEqual([]);
  });
});
