/**
 * Similar-ticket retrieval, evaluated through the gatherer's own code: the
 * history goes in with `recordTicket` and the queries run `findSimilarTickets`
 * as the application role under RLS. Every query searches the whole history.
 */
import {
  CONFIDENT_RELEVANCE,
  CONTEXT_QUERIES,
  findSimilarTickets,
  indexedTextOf,
  recordTicket,
  searchInputOf,
} from '@tep/context-retrieval';
import { ServiceDeskWebhookPayloadSchema, type Ticket } from '@tep/contracts';
import type { TenantDatabase, TenantTransaction } from '@tep/data';
import { QUERY_CATEGORIES, type Dataset, type EvalQuery } from './dataset';
import { mean, ndcgAt, reciprocalRankAt, recallAt } from './metrics';

export interface Ranked {
  id: string;
  score: number;
  confident: boolean;
}
export type Ranker = (tx: TenantTransaction, ticket: Ticket) => Promise<Ranked[]>;

export interface Figures {
  queries: number;
  recall5: number;
  mrr10: number;
  ndcg5: number;
  /** How often the first result is relevant. */
  p1: number;
}

export interface EvaluationResult {
  overall: Figures;
  byCategory: Record<string, Figures>;
  /** Results at or above the confident threshold that are relevant. */
  confidentPrecision: number;
  /** Queries whose best result is confident. */
  confidentCoverage: number;
  /** Per relevance band: results in it and the share that are relevant (calibration). */
  bands: { from: number; to: number; results: number; relevant: number }[];
  /** Uninformative resolutions ("fixed", "done") that were offered at all. */
  uninformativeOffered: number;
  perQuery: { id: string; ranked: string[]; relevant: string[] }[];
}

export const toTicket = (t: {
  id: string;
  subject: string;
  description: string;
  resolution?: string;
  status?: string;
}): Ticket =>
  ServiceDeskWebhookPayloadSchema.parse({
    ticket_id: t.id,
    subject: t.subject,
    description: t.description,
    resolution: t.resolution,
    status: t.status ?? 'Open',
  });

/** Loads the history the way webhooks and the back-fill do. */
export async function loadHistory(
  database: TenantDatabase,
  tenantId: string,
  dataset: Dataset,
): Promise<void> {
  for (let i = 0; i < dataset.history.length; i += 50) {
    await database.withTenant(tenantId, async (tx) => {
      for (const h of dataset.history.slice(i, i + 50)) await recordTicket(tx, toTicket(h));
    });
  }
}

/** The production ranking, exactly as the gatherer calls it. */
export const currentRanking: Ranker = async (tx, ticket) =>
  (await findSimilarTickets(tx, ticket, { limit: 10 })).map((r) => ({
    id: r.ticket_id,
    score: r.score,
    confident: r.confident,
  }));

export async function evaluate(
  database: TenantDatabase,
  tenantId: string,
  dataset: Dataset,
  rank: Ranker = currentRanking,
): Promise<EvaluationResult> {
  const uninformative = new Set(dataset.history.filter((h) => h.uninformative).map((h) => h.id));
  const perQuery: EvaluationResult['perQuery'] = [];
  const scored: { q: EvalQuery; figures: Omit<Figures, 'queries'> }[] = [];
  const results: { score: number; confident: boolean; relevant: boolean }[] = [];
  let confidentTop = 0;
  let uninformativeOffered = 0;
  for (const q of dataset.queries) {
    const ranked = await database.withTenant(tenantId, (tx) => rank(tx, toTicket(q)));
    const ids = ranked.map((r) => r.id);
    const relevant = new Set(q.relevant);
    scored.push({
      q,
      figures: {
        recall5: recallAt(5, ids, relevant),
        mrr10: reciprocalRankAt(10, ids, relevant),
        ndcg5: ndcgAt(5, ids, relevant),
        p1: ids[0] !== undefined && relevant.has(ids[0]) ? 1 : 0,
      },
    });
    for (const r of ranked.slice(0, 5)) {
      results.push({ score: r.score, confident: r.confident, relevant: relevant.has(r.id) });
    }
    if (ranked[0]?.confident) confidentTop += 1;
    uninformativeOffered += ids.filter((id) => uninformative.has(id)).length;
    perQuery.push({ id: q.id, ranked: ids, relevant: q.relevant });
  }
  const summarize = (rows: typeof scored): Figures => ({
    queries: rows.length,
    recall5: mean(rows.map((r) => r.figures.recall5)),
    mrr10: mean(rows.map((r) => r.figures.mrr10)),
    ndcg5: mean(rows.map((r) => r.figures.ndcg5)),
    p1: mean(rows.map((r) => r.figures.p1)),
  });
  const byCategory = Object.fromEntries(
    QUERY_CATEGORIES.map((c) => [c, summarize(scored.filter((s) => s.q.categories.includes(c)))]),
  );
  const confident = results.filter((r) => r.confident);
  const edges = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 1.01];
  return {
    overall: summarize(scored),
    byCategory,
    confidentPrecision: confident.length
      ? confident.filter((r) => r.relevant).length / confident.length
      : 0,
    confidentCoverage: confidentTop / Math.max(1, dataset.queries.length),
    bands: edges.slice(0, -1).map((from, i) => {
      const inBand = results.filter((r) => r.score >= from && r.score < edges[i + 1]);
      return {
        from,
        to: Math.min(1, edges[i + 1]),
        results: inBand.length,
        relevant: inBand.filter((r) => r.relevant).length,
      };
    }),
    uninformativeOffered,
    perQuery,
  };
}

/**
 * The ranking before this work, for the baseline column: every lexeme
 * ORed, ts_rank_cd (no IDF) over the raw English-stemmed text, and trigram
 * on the subject only when full text found nothing.
 */
export const baselineRanking: Ranker = async (tx, ticket) => {
  const text = `${ticket.subject} ${ticket.description_text}`.slice(0, 4000);
  const anyWord = `(SELECT to_tsquery('english', string_agg(quote_literal(lexeme), ' | '))
                     FROM unnest(to_tsvector('english', $1)) AS t(lexeme, positions, weights))`;
  let rows = await tx.query<{ ticket_id: string; score: number }>(
    `SELECT ticket_id, ts_rank_cd(search_vector, q.query, 32)::float8 AS score
       FROM ticket_history, ${anyWord} AS q(query)
      WHERE search_vector @@ q.query AND resolution IS NOT NULL AND ticket_id <> $2
      ORDER BY score DESC, resolved_at DESC NULLS LAST LIMIT 10`,
    [text, ticket.ticket_id],
  );
  if (rows.length === 0) {
    rows = await tx.query(
      `SELECT ticket_id, similarity(subject, $1)::float8 AS score FROM ticket_history
        WHERE subject % $1 AND resolution IS NOT NULL AND ticket_id <> $2
        ORDER BY score DESC LIMIT 10`,
      [ticket.subject, ticket.ticket_id],
    );
  }
  return rows.map((r) => ({ id: r.ticket_id, score: r.score, confident: true }));
};

/**
 * The production query with one lever held back, to show what each change
 * contributed: `clean` and `language` on the query side (the index side is
 * switched by `indexAs`), `trigram` for the fusion.
 */
export function ablatedRanking(options: {
  clean: boolean;
  language: boolean;
  trigram: boolean;
}): Ranker {
  const sql = options.trigram
    ? CONTEXT_QUERIES.similarTickets
    : (
        [
          ['0.9 * coalesce', '1.0 * coalesce'],
          ['+ 0.1 * similarity(b.subject, $5)', '+ 0.0 * similarity(b.subject, $5)'],
          ['AND h.subject % $5', 'AND false'],
        ] as [string, string][]
      ).reduce<string>((text, [from, to]) => {
        // A query edited without this ablation would silently measure production.
        if (!text.includes(from)) throw new Error(`ablation no longer applies: ${from}`);
        return text.replace(from, to);
      }, CONTEXT_QUERIES.similarTickets);
  return async (tx, ticket) => {
    const input = searchInputOf(ticket);
    const text = options.clean
      ? input.text
      : `${ticket.subject}\n${ticket.description_text}`.slice(0, 6000);
    const rows = await tx.query<{ ticket_id: string; score: number }>(sql, [
      text,
      options.language ? input.language : 'en',
      ticket.ticket_id,
      10,
      input.subject,
      tx.tenantId,
    ]);
    return rows.map((r) => ({
      id: r.ticket_id,
      score: r.score,
      confident: r.score >= CONFIDENT_RELEVANCE,
    }));
  };
}

/** Re-indexes the loaded history with cleaning and language detection on or off. */
export async function indexAs(
  database: TenantDatabase,
  tenantId: string,
  dataset: Dataset,
  options: { clean: boolean; language: boolean },
): Promise<void> {
  await database.withTenant(tenantId, async (tx) => {
    for (const h of dataset.history) {
      // Exactly what recordTicket stores, with a lever held back.
      const indexed = indexedTextOf({
        subject: h.subject,
        description: toTicket(h).description_text,
      });
      await tx.query(
        `UPDATE ticket_history SET clean_description = $2, language = $3 WHERE ticket_id = $1`,
        [
          h.id,
          options.clean ? indexed.cleanDescription : null,
          options.language ? indexed.language : null,
        ],
      );
    }
  });
}
