/**
 * Part 7: what PostgreSQL spends on the gatherer's two ranking queries
 * (similar resolved tickets, and the outage check's open look-alikes), the
 * largest share of its CPU per webhook. One tenant shaped like the pipeline
 * part's (200 resolved tickets of five kinds, `openTickets` recent open ones
 * alike); the queries run as the gatherer runs them (application role, RLS,
 * named prepared statements, one connection, the same parameters), in two
 * modes:
 *
 *  - `term arrays`: `CONTEXT_QUERIES` as they are, scoring each ticket from
 *    its stored words and frequencies (the term-frequency-arrays migration);
 *  - `vector (before)`: the same queries scoring from the tsvector, as they
 *    did before that migration (derived from today's text, so nothing else
 *    differs).
 *
 * CPU is the PostgreSQL backend's (`/proc/<pid>/schedstat`, nanoseconds on
 * a CPU) per query; modes alternate per round, and both must return the
 * same tickets with the same scores.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import {
  CONTEXT_PARAMETERS,
  CONTEXT_QUERIES,
  recordTicket,
  searchInputOf,
} from '@tep/context-retrieval';
import type { Ticket } from '@tep/contracts';
import { TenantDatabase, createDataSource } from '@tep/data';
import { testTicket } from '@tep/testing';
import { Client } from 'pg';
import { benchDatabase } from './lib/environment';
import { median } from './lib/stats';

export interface RankingOptions {
  queries: number;
  rounds: number;
  openTickets: number;
}

export const RANKING_MODES = ['term arrays', 'vector (before)'] as const;
export type RankingMode = (typeof RANKING_MODES)[number];
const QUERIES = ['similar tickets', 'open look-alikes (outage check)'] as const;
type RankingQuery = (typeof QUERIES)[number];

export interface RankingCell {
  mode: RankingMode;
  query: RankingQuery;
  round: number;
  queries: number;
  backendCpuMsPerQuery: number;
}

export interface RankingReport {
  cells: RankingCell[];
  /** Median over rounds. */
  summary: { mode: RankingMode; query: RankingQuery; backendCpuMsPerQuery: number }[];
  /** Both modes found the same tickets with the same scores. */
  sameResults: boolean;
}

const TENANT = '7a2d0c9e-5b1f-4c3a-9e8d-000000000007';
const DATABASE = 'ai_agents_bench_ranking';

const ticket = (over: Partial<Ticket>): Ticket =>
  testTicket({
    ticket_id: 'RANK-NEW',
    subject: 'Database connection timeout error #99999',
    description_text:
      "Application reports 'Connection timeout' when querying PostgreSQL database on db01. " +
      'Error started at 10:30 AM. All other services operational.',
    ...over,
  });

const KINDS = [
  ['Database connection timeout', 'Raised the connection pool size'],
  ['VPN drops every hour', 'Renewed the VPN certificate'],
  ['Printer offline', 'Reserved the printer DHCP address'],
  ['Email not syncing', 'Re-created the mail profile'],
  ['Disk full on file server', 'Cleared old backups'],
] as const;

/** `sql` as it scored before the term-frequency-arrays migration: from each row's tsvector. */
function scoredFromVector(sql: string): string {
  const before = sql
    .replace(
      /unnest\((\w+)\.retrieval_terms, \1\.retrieval_tf\) AS u\(lexeme, tf\)/g,
      'unnest($1.retrieval_vector) AS u',
    )
    .replace(/tep_bm25_tf\(u\.tf,/g, 'tep_bm25_tf(tep_field_tf(u.weights),')
    .replace(
      'h.retrieval_terms, h.retrieval_tf, h.retrieval_len',
      'h.retrieval_vector, h.retrieval_len',
    );
  if (before === sql || /retrieval_terms|retrieval_tf|u\.tf/.test(before)) {
    throw new Error(
      'the ranking queries changed: update scoredFromVector (tools/bench/ranking.ts)',
    );
  }
  return before;
}

/** Nanoseconds the backend has been on a CPU. */
const backendCpuNs = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

export async function benchRanking(options: RankingOptions): Promise<RankingReport> {
  const db = await benchDatabase(DATABASE);
  const dataSource = createDataSource({
    url: db.appUrl,
    poolSize: 1,
    applicationName: 'bench-ranking',
  });
  await dataSource.initialize();
  const admin = new Client({ connectionString: db.adminUrl });
  await admin.connect();
  try {
    const tenants = new TenantDatabase(dataSource, { preparedStatements: true });
    await tenants.withTenant(TENANT, async (tx) => {
      for (let i = 1; i <= 200; i++) {
        const [subject, resolution] = KINDS[i % KINDS.length];
        await recordTicket(
          tx,
          ticket({
            ticket_id: `HIST-${i}`,
            subject: `${subject} #${i}`,
            description_text: 'Users report the problem on db01 since the morning.',
            status: 'Resolved',
            resolution_text: resolution,
          }),
        );
      }
      for (let i = 1; i <= options.openTickets; i++) {
        await recordTicket(
          tx,
          ticket({ ticket_id: `OPEN-${i}`, subject: `Database connection timeout error #${i}` }),
        );
      }
    });
    const incoming = ticket({});
    const search = searchInputOf(incoming);
    const parameters: Record<RankingQuery, unknown[]> = {
      'similar tickets': CONTEXT_PARAMETERS.similarTickets(TENANT, incoming, search, 5),
      'open look-alikes (outage check)': CONTEXT_PARAMETERS.openSimilarTickets(
        TENANT,
        incoming,
        { minutes: 60, threshold: 3 },
        search,
      ),
    };
    const sql: Record<RankingMode, Record<RankingQuery, string>> = {
      'term arrays': {
        'similar tickets': CONTEXT_QUERIES.similarTickets,
        'open look-alikes (outage check)': CONTEXT_QUERIES.openSimilarTickets,
      },
      'vector (before)': {
        'similar tickets': scoredFromVector(CONTEXT_QUERIES.similarTickets),
        'open look-alikes (outage check)': scoredFromVector(CONTEXT_QUERIES.openSimilarTickets),
      },
    };
    const run = (mode: RankingMode, query: RankingQuery) =>
      tenants.withTenant(TENANT, (tx) => tx.query(sql[mode][query], parameters[query]));
    const pid = await tenants.withTenant(TENANT, async (tx) => {
      const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return row.pid;
    });
    // As autovacuum would after the load (this machine's PostgreSQL may run without it).
    await admin.query('VACUUM ANALYZE ticket_history, ticket_postings');
    const cells: RankingCell[] = [];
    const results = new Map<RankingMode, unknown[]>();
    for (let round = 1; round <= options.rounds; round++) {
      for (const mode of RANKING_MODES) {
        const found: unknown[] = [];
        for (const query of QUERIES) {
          // Warm the plans (named statements: generic after five) and the cache.
          for (let i = 0; i < Math.min(20, options.queries); i++) await run(mode, query);
          const before = backendCpuNs(pid);
          for (let i = 0; i < options.queries; i++) await run(mode, query);
          const ns = backendCpuNs(pid) - before;
          found.push(await run(mode, query));
          cells.push({
            mode,
            query,
            round,
            queries: options.queries,
            backendCpuMsPerQuery: ns / 1e6 / options.queries,
          });
        }
        results.set(mode, found);
      }
    }
    return {
      cells,
      summary: RANKING_MODES.flatMap((mode) =>
        QUERIES.map((query) => ({
          mode,
          query,
          backendCpuMsPerQuery: median(
            cells
              .filter((c) => c.mode === mode && c.query === query)
              .map((c) => c.backendCpuMsPerQuery),
          ),
        })),
      ),
      sameResults: isDeepStrictEqual(results.get('term arrays'), results.get('vector (before)')),
    };
  } finally {
    await admin.end();
    await dataSource.destroy();
    await db.drop();
  }
}
