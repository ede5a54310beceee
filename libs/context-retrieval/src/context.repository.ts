import type { TenantTransaction } from '@tep/data';
import type { Ticket, TicketContext } from '@tep/contracts';
import type { Mentions } from './mentions';
import {
  MAX_SEARCH_CHARS,
  cleanTicketText,
  detectTicketLanguage,
  indexedTextOf,
  storedTextOf,
} from './ticket-text';

/** Statuses after which a ticket is no longer open: it gets no enhancement and counts in no outage. */
export const FINISHED_STATUSES = [
  'resolved',
  'closed',
  'completed',
  'cancelled',
  'canceled',
] as const;

/** Statuses after which a ticket with a resolution is useful history. */
const RESOLVED = ['resolved', 'closed', 'completed'];

const clip = (text: string | null, max: number) =>
  text === null ? null : text.length > max ? `${text.slice(0, max - 1)}…` : text;

/**
 * OR of the text's stemmed lexemes: "any of these words", ranked by how
 * many match and where (subject weighs more). plainto_tsquery would AND
 * every word and find nothing for a long description.
 */
export const ANY_WORD_QUERY = `(SELECT to_tsquery('english', string_agg(quote_literal(lexeme), ' | '))
                           FROM unnest(to_tsvector('english', $1)) AS t(lexeme, positions, weights))`;

/**
 * Records the ticket so history grows from normal traffic, with what it is
 * indexed by: its detected language and its description without the mail
 * noise (the trigger in the retrieval migration builds the vector), and
 * without secrets or card numbers.
 */
export async function recordTicket(tx: TenantTransaction, ticket: Ticket): Promise<void> {
  const resolved = ticket.status !== null && RESOLVED.includes(ticket.status.toLowerCase());
  const { subject, description, resolution, cleanDescription, language } = storedTextOf({
    subject: ticket.subject,
    description: ticket.description_text,
    resolution: ticket.resolution_text,
  });
  await tx.query(
    `INSERT INTO ticket_history (tenant_id, ticket_id, subject, description, priority, status, resolution,
                                 requester_email, source, ticket_created_at, resolved_at,
                                 clean_description, language, source_updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'webhook', $9, CASE WHEN $10 AND $7::text IS NOT NULL THEN now() END,
             $11, $12, $13)
     ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET
       subject = EXCLUDED.subject,
       description = EXCLUDED.description,
       clean_description = EXCLUDED.clean_description,
       language = EXCLUDED.language,
       priority = EXCLUDED.priority,
       status = EXCLUDED.status,
       resolution = COALESCE(EXCLUDED.resolution, ticket_history.resolution),
       requester_email = COALESCE(EXCLUDED.requester_email, ticket_history.requester_email),
       resolved_at = CASE WHEN $10 AND COALESCE(EXCLUDED.resolution, ticket_history.resolution) IS NOT NULL
                          THEN COALESCE(ticket_history.resolved_at, now()) END,
       source_updated_at = COALESCE(EXCLUDED.source_updated_at, ticket_history.source_updated_at),
       updated_at = now()
     -- History moves forward in the ticket's own time: an older state delivered
     -- late (an SDP retry, a replayed capture) does not overwrite a newer one.
     WHERE EXCLUDED.source_updated_at IS NULL OR ticket_history.source_updated_at IS NULL
        OR EXCLUDED.source_updated_at >= ticket_history.source_updated_at`,
    [
      tx.tenantId,
      ticket.ticket_id,
      subject,
      description,
      ticket.priority,
      ticket.status,
      resolution,
      ticket.requester_email,
      ticket.created_at,
      resolved,
      cleanDescription,
      language,
      ticket.updated_at ?? null,
    ],
  );
}

type SimilarTicket = TicketContext['similar_tickets'][number];

/**
 * How many postings of each query word are read, best impact first: every
 * ticket for a word rarer than this, the strongest matches for a common one
 * (whose IDF adds little). Bounds the work per query at any tenant size.
 */
const POSTINGS_PER_TERM = 200;
/**
 * Tickets scored exactly with every query word, the best of the postings'
 * pre-ranking. Exact scoring is most of the query's cost (one unnest of the
 * ticket's vector each); the evaluation's figures are identical with 150,
 * 50 and 20 (docs/benchmarks.md), so 50 keeps a margin for large tenants,
 * whose common words' postings are cut at POSTINGS_PER_TERM.
 */
const CANDIDATES = 50;
/**
 * Candidates are not looked for by the query's commonest words, as many as
 * together carry at most this share of the query's IDF mass: a ticket that
 * matches only those scores under 5 % of it, and their postings are the
 * longest (in the pipeline benchmark's data 400 of the 522 read per query).
 * Every word still scores the candidates. Retrieval quality unchanged on the
 * evaluation (docs/retrieval-quality.md).
 */
const COMMON_WORDS_MASS = 0.05;

/**
 * The query's words with their IDF in the tenant's resolved history, rarest
 * first ($1 text, $2 language, $6 tenant). `history`: only words the
 * history has (others cannot match it); `any`: unseen words count as the
 * rarest.
 */
const queryTerms = (words: 'history' | 'any') => `corpus AS MATERIALIZED (
         SELECT coalesce(max(docs), 0)::float8 AS n,
                greatest(coalesce(max(total_len::float8 / greatest(docs, 1)), 1), 1) AS avglen
           FROM ticket_corpus_stats WHERE tenant_id = $6::uuid),
       terms AS MATERIALIZED (
         SELECT t.lexeme, ln(1 + (c.n - coalesce(s.df, 0) + 0.5) / (coalesce(s.df, 0) + 0.5)) AS idf
           FROM (SELECT DISTINCT lexeme
                   FROM unnest(tsvector_to_array(to_tsvector(tep_search_config($2), $1))) AS lexeme) t
           ${words === 'history' ? 'JOIN' : 'LEFT JOIN'} ticket_term_stats s
             ON s.tenant_id = $6::uuid AND s.lexeme = t.lexeme${words === 'history' ? ' AND s.df > 0' : ''}
          CROSS JOIN corpus c
          ORDER BY idf DESC
          LIMIT 48)`;

/**
 * BM25 of row `h` over the query's terms (needs the corpus and terms CTEs),
 * from the row's words and their field-weighted frequencies (the
 * term-frequency-arrays migration). Rows written before that migration have
 * none until `npm run db:reindex` fills them, and score only by their
 * subject until then.
 */
const bm25Of = (h: string) => `coalesce((
           SELECT sum(t.idf * tep_bm25_tf(u.tf, ${h}.retrieval_len, corpus.avglen))
             FROM unnest(${h}.retrieval_terms, ${h}.retrieval_tf) AS u(lexeme, tf)
             JOIN terms t ON t.lexeme = u.lexeme), 0)`;

/** The 0–1 relevance: BM25 as a share of the query's IDF mass (90 %), subject trigram similarity (10 %). */
const relevanceOf = (bm25: string, subject: string) =>
  `(0.9 * coalesce(${bm25} / nullif((SELECT sum(idf) FROM terms), 0), 0) + 0.1 * similarity(${subject}, $5))::float8`;

/**
 * How far the technicians' ratings of the notes that cited a resolved
 * ticket move its relevance: at most ±15 %, a single vote ±7 %
 * (tanh of the net votes / 2). Bounded so one vote can neither bury a
 * ticket nor promote a weak match past a strong one; measured on the
 * retrieval evaluation with simulated feedback (docs/retrieval-quality.md).
 */
export const FEEDBACK_BOOST = 0.15;

/**
 * The context queries, exported so the benchmark measures exactly what the
 * gatherer runs. Each runs under the tenant's RLS context.
 */
export const CONTEXT_QUERIES = {
  /**
   * BM25 over the tenant's own history, fused with trigram similarity of
   * the subject (typos, jargon). $1 cleaned text, $2 its language, $3 the
   * ticket's own id, $4 limit, $5 subject, $6 the tenant (the transaction's
   * own: RLS still applies; named as a value so the planner knows how large
   * this tenant is and picks the index for it). Scores are on a 0–1 scale: the
   * share of the query's IDF mass a ticket matches, each term saturated by
   * its field-weighted frequency as in BM25 (k1 = 1.2, b = 0.5; subject
   * ×4, description ×1, resolution ×0.8): 90 %; subject trigram similarity:
   * 10 %. Weights chosen on the evaluation (docs/retrieval-quality.md).
   */
  similarTickets: `WITH ${queryTerms('history')},
       lexical AS MATERIALIZED (
         -- Candidates: each query word's highest-impact postings (a btree range read, leakproof
         -- under RLS, so its cost does not grow with the tenant), pre-ranked by their BM25 sum;
         -- every query word scores the best of them exactly below.
         SELECT p.ticket_row AS id
           FROM (SELECT lexeme, idf
                   FROM (SELECT lexeme, idf, sum(idf) OVER (ORDER BY idf, lexeme) AS upto,
                                sum(idf) OVER () AS mass
                           FROM terms) w
                  WHERE w.upto > ${COMMON_WORDS_MASS} * w.mass) t
          CROSS JOIN LATERAL (
            SELECT ticket_row, impact FROM ticket_postings
             WHERE tenant_id = $6::uuid AND lexeme = t.lexeme
             ORDER BY impact DESC
             LIMIT ${POSTINGS_PER_TERM}) p
          GROUP BY p.ticket_row
          ORDER BY sum(t.idf * p.impact) DESC
          LIMIT ${CANDIDATES}),
       fuzzy AS MATERIALIZED (
         -- Typos and jargon that stemming cannot match: only when words found little.
         -- (Under RLS, % is not leakproof, so it cannot use the trigram index:
         -- this scans the tenant's rows, which is why it is conditional.)
         SELECT h.id FROM ticket_history h
          WHERE (SELECT count(*) FROM lexical) < 10
            AND h.tenant_id = $6::uuid AND h.retrieval_eligible AND h.ticket_id <> $3
            AND h.subject % $5
          ORDER BY similarity(h.subject, $5) DESC
          LIMIT 30),
       candidates AS (SELECT id FROM lexical UNION SELECT id FROM fuzzy),
       bm25 AS MATERIALIZED (
         SELECT h.ticket_id, h.display_id, h.subject, h.resolution, h.resolved_at, ${bm25Of('h')} AS s
           FROM candidates c
           JOIN ticket_history h ON h.id = c.id
          CROSS JOIN corpus
          WHERE h.ticket_id <> $3)
     -- The technicians' feedback on notes that cited a ticket moves it up or down, bounded
     -- (FEEDBACK_BOOST): one vote is ×1.07 or ×0.93, no number of votes passes ×1.15 / ×0.85.
     SELECT b.ticket_id, b.display_id, b.subject, b.resolution,
            (${relevanceOf('b.s', 'b.subject')} *
             (1 + ${FEEDBACK_BOOST} * tanh(coalesce(f.helpful - f.not_helpful, 0) / 2.0)))::float8 AS score,
            b.s > 0 AS lexical
       FROM bm25 b
       LEFT JOIN ticket_feedback f
         ON f.tenant_id = $6::uuid AND f.ticket_ref = coalesce(b.display_id, b.ticket_id)
      ORDER BY score DESC, b.resolved_at DESC NULLS LAST
      LIMIT $4`,
  /**
   * The tenant's other open tickets that arrived within the window and are
   * similar to this one, on the same relevance scale as similarTickets
   * (a word no resolved ticket has counts as the rarest: a new kind of
   * failure is what an outage usually is). $1 cleaned text, $2 language,
   * $3 the ticket's id, $4 window in minutes, $5 subject, $6 tenant,
   * $7 minimum relevance, $8 how many of the most recent open tickets are
   * scored (and at most returned).
   */
  openSimilarTickets: `WITH ${queryTerms('any')},
       recent AS MATERIALIZED (
         SELECT h.ticket_id, h.display_id, h.subject, h.retrieval_terms, h.retrieval_tf, h.retrieval_len
           FROM ticket_history h
          WHERE h.tenant_id = $6::uuid AND h.created_at >= now() - make_interval(mins => $4::int)
            AND h.ticket_id <> $3
            AND lower(coalesce(h.status, '')) NOT IN (${FINISHED_STATUSES.map((s) => `'${s}'`).join(', ')})
          ORDER BY h.created_at DESC
          LIMIT $8),
       -- Materialized: inlined, the score would be computed twice per ticket (filter and order).
       scored AS MATERIALIZED (
         SELECT r.ticket_id, r.display_id, r.subject, ${relevanceOf(bm25Of('r'), 'r.subject')} AS score
           FROM recent r CROSS JOIN corpus)
     SELECT ticket_id, display_id, subject, score FROM scored
      WHERE score >= $7
      ORDER BY score DESC
      LIMIT $8`,
  /** $1 text, $2 limit. */
  kbArticles: `SELECT article_id, title, content, url, ts_rank_cd(search_vector, q.query, 32)::float8 AS score
       FROM kb_articles, ${ANY_WORD_QUERY} AS q(query)
      WHERE search_vector @@ q.query
      ORDER BY score DESC
      LIMIT $2`,
  /** $1 host-like words, $2 addresses, $3 words, $4 limit. */
  mentionedSystems: `SELECT hostname, host(ip_address) AS ip_address, service_name, status,
            CASE WHEN ip_address = ANY($2::inet[]) THEN 'ip_address'
                 WHEN lower(hostname) = ANY($1) OR lower(split_part(hostname, '.', 1)) = ANY($1) THEN 'hostname'
                 ELSE 'service_name' END AS matched_on
       FROM system_inventory
      WHERE lower(hostname) = ANY($1)
         OR lower(split_part(hostname, '.', 1)) = ANY($1)
         OR ip_address = ANY($2::inet[])
         OR lower(service_name) = ANY($3)
      ORDER BY (status NOT IN ('up', 'healthy', 'ok')) DESC, hostname
      LIMIT $4`,
} as const;

/** The text a ticket is searched by (bounded). */
export const searchTextOf = (ticket: Pick<Ticket, 'subject' | 'description_text'>) =>
  `${ticket.subject} ${ticket.description_text}`.slice(0, 4000);

interface SimilarRow {
  ticket_id: string;
  display_id: string | null;
  subject: string;
  resolution: string;
  score: number;
  lexical: boolean;
}

/**
 * A result at or above this relevance is presented as the likely same
 * issue; below it, only as possibly related. Chosen from the evaluation's
 * precision at this threshold (docs/retrieval-quality.md).
 */
export const CONFIDENT_RELEVANCE = 0.2;

/** Mail reply prefixes carry no meaning for search. */
const subjectOf = (subject: string) =>
  subject.replace(/^\s*((re|fw|fwd|aw|wg|tr|rv|sv)\s*(\[\d+\])?\s*:\s*)+/i, '').trim();

/** What a ticket is searched by: subject and cleaned description, and their language. */
export function searchInputOf(ticket: Pick<Ticket, 'subject' | 'description_text'>) {
  const subject = subjectOf(ticket.subject);
  const text = `${subject}\n${cleanTicketText(ticket.description_text)}`.slice(0, MAX_SEARCH_CHARS);
  return { subject, text, language: detectTicketLanguage(text) };
}
export type SearchInput = ReturnType<typeof searchInputOf>;

/**
 * How many of the window's most recent open tickets the outage check
 * scores, at least: every one costs an exact BM25 in PostgreSQL, and
 * during an outage the look-alikes are the newest tickets. A tenant whose
 * outage_threshold is higher gets that many scanned.
 */
const OUTAGE_SCAN_MIN = 50;

/**
 * The ranking queries' parameters, in CONTEXT_QUERIES' numbering, exported
 * with them so the benchmark runs exactly what the gatherer runs.
 */
export const CONTEXT_PARAMETERS = {
  similarTickets: (tenantId: string, ticket: Ticket, input: SearchInput, limit: number) => [
    input.text,
    input.language,
    ticket.ticket_id,
    limit,
    input.subject,
    tenantId,
  ],
  openSimilarTickets: (
    tenantId: string,
    ticket: Ticket,
    window: { minutes: number; threshold: number },
    input: SearchInput,
  ) => [
    input.text,
    input.language,
    ticket.ticket_id,
    window.minutes,
    input.subject,
    tenantId,
    CONFIDENT_RELEVANCE,
    Math.max(OUTAGE_SCAN_MIN, window.threshold),
  ],
};

/**
 * Resolved tickets like this one, best first, each with its relevance (0–1).
 * `search`: the ticket's search input when the caller has it already
 * (cleaning and language detection are the costly part).
 */
export async function findSimilarTickets(
  tx: TenantTransaction,
  ticket: Ticket,
  { limit = 5, search }: { limit?: number; search?: SearchInput } = {},
): Promise<SimilarTicket[]> {
  const rows = await tx.query<SimilarRow>(
    CONTEXT_QUERIES.similarTickets,
    CONTEXT_PARAMETERS.similarTickets(tx.tenantId, ticket, search ?? searchInputOf(ticket), limit),
  );
  return rows.map((r) => ({
    ticket_id: r.ticket_id,
    display_id: r.display_id,
    subject: clip(r.subject, 250)!,
    resolution: clip(r.resolution, 1000),
    score: Number(r.score.toFixed(4)),
    match: r.lexical ? ('full_text' as const) : ('trigram' as const),
    confident: r.score >= CONFIDENT_RELEVANCE,
  }));
}

/**
 * The tenant's other open tickets of the last `window.minutes` that are
 * confidently similar to this one, best first: several at once suggest an
 * outage rather than one user's problem.
 */
export async function findOpenSimilarTickets(
  tx: TenantTransaction,
  ticket: Ticket,
  window: { minutes: number; threshold: number },
  input: SearchInput = searchInputOf(ticket),
): Promise<{ ticket_id: string; display_id: string | null; subject: string; score: number }[]> {
  const rows = await tx.query<{
    ticket_id: string;
    display_id: string | null;
    subject: string;
    score: number;
  }>(
    CONTEXT_QUERIES.openSimilarTickets,
    CONTEXT_PARAMETERS.openSimilarTickets(tx.tenantId, ticket, window, input),
  );
  return rows.map((r) => ({ ...r, subject: clip(r.subject, 250)! }));
}

export async function findKbArticles(
  tx: TenantTransaction,
  ticket: Ticket,
  limit = 3,
): Promise<TicketContext['kb_articles']> {
  const rows = await tx.query<{
    article_id: string;
    title: string;
    content: string;
    url: string | null;
    score: number;
  }>(CONTEXT_QUERIES.kbArticles, [searchTextOf(ticket), limit]);
  return rows.map((r) => ({
    article_id: r.article_id,
    title: clip(r.title, 250)!,
    excerpt: clip(r.content, 500)!,
    url: r.url,
    score: Number(r.score.toFixed(4)),
  }));
}

export async function findMentionedSystems(
  tx: TenantTransaction,
  mentions: Mentions,
  limit = 10,
): Promise<TicketContext['systems']> {
  if (mentions.hosts.length + mentions.addresses.length + mentions.words.length === 0) return [];
  return tx.query<TicketContext['systems'][number]>(CONTEXT_QUERIES.mentionedSystems, [
    [...mentions.hosts, ...mentions.words],
    mentions.addresses,
    mentions.words,
    limit,
  ]);
}

/**
 * Indexes up to `batchSize` of the tenant's rows that predate language
 * detection and cleaning (language IS NULL), oldest id first; returns how
 * many it did. Run until 0: safe to stop and resume, and webhooks and the
 * back-fill keep filling the same columns meanwhile.
 */
export async function reindexTicketHistoryBatch(
  tx: TenantTransaction,
  batchSize = 500,
): Promise<number> {
  const rows = await tx.query<{ id: string; subject: string; description: string }>(
    `SELECT id, subject, description FROM ticket_history
      WHERE language IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [batchSize],
  );
  if (rows.length === 0) return 0;
  const indexed = rows.map(indexedTextOf);
  await tx.query(
    `UPDATE ticket_history h SET clean_description = u.clean, language = u.language
       FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, clean, language)
      WHERE h.id = u.id`,
    [rows.map((r) => r.id), indexed.map((i) => i.cleanDescription), indexed.map((i) => i.language)],
  );
  return rows.length;
}

/**
 * Fills the word and frequency arrays (the term-frequency-arrays migration)
 * of up to `batchSize` of the tenant's rows written before them; returns how
 * many it did. Run until 0. Setting `language` to itself runs the index
 * trigger, the one place the arrays are computed; it rebuilds the same
 * vector, so the statistics and postings are left as they are.
 */
export async function fillTermFrequencyBatch(
  tx: TenantTransaction,
  batchSize = 1000,
): Promise<number> {
  const { rowCount } = await tx.execute(
    // Materialized: as `id IN (subquery)` the planner may run the LIMIT more than once.
    `WITH batch AS MATERIALIZED (
       SELECT id FROM ticket_history
        WHERE retrieval_terms IS NULL AND retrieval_vector IS NOT NULL
        LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE ticket_history h SET language = h.language FROM batch WHERE h.id = batch.id`,
    [batchSize],
  );
  return rowCount;
}

/**
 * Writes the postings (similar-ticket index) of up to `batchSize` of the
 * tenant's eligible rows after ticket id `after` that have none: rows indexed
 * before the postings migration. Returns the last ticket id looked at, or
 * null when the tenant is done; resumable from any id (rows with postings
 * are skipped), and webhooks keep writing postings through the trigger
 * meanwhile.
 */
export async function indexPostingsBatch(
  tx: TenantTransaction,
  after: string,
  batchSize = 1000,
): Promise<{ last: string | null; indexed: number }> {
  const [row] = await tx.query<{ last: string | null; indexed: number }>(
    `WITH batch AS MATERIALIZED (
       SELECT id, ticket_id, retrieval_vector, retrieval_len, retrieval_eligible FROM ticket_history
        WHERE tenant_id = $1::uuid AND ticket_id > $2 ORDER BY ticket_id LIMIT $3),
     corpus AS (SELECT total_len::float8 / greatest(docs, 1) AS avglen FROM ticket_corpus_stats),
     missing AS (
       SELECT b.* FROM batch b
        WHERE b.retrieval_eligible AND NOT EXISTS (SELECT 1 FROM ticket_postings p WHERE p.ticket_row = b.id)),
     written AS (
       INSERT INTO ticket_postings (ticket_row, lexeme, tenant_id, impact)
       SELECT m.id, u.lexeme, $1::uuid, tep_bm25_tf(tep_field_tf(u.weights), m.retrieval_len, c.avglen)
         FROM missing m CROSS JOIN corpus c CROSS JOIN LATERAL unnest(m.retrieval_vector) AS u
       ON CONFLICT DO NOTHING
       RETURNING ticket_row)
     SELECT (SELECT max(ticket_id) FROM batch) AS last,
            (SELECT count(DISTINCT ticket_row)::int FROM written) AS indexed`,
    [tx.tenantId, after, batchSize],
  );
  return row;
}

/**
 * Recounts the tenant's BM25 statistics from its postings and eligible rows
 * (after `indexPostingsBatch`: rows resolved by an update before the postings
 * migration were never counted). A webhook committing meanwhile may be off by
 * one in a word's frequency, which ranking does not notice.
 */
export async function recountRetrievalStats(tx: TenantTransaction): Promise<void> {
  await tx.query(`DELETE FROM ticket_term_stats WHERE tenant_id = $1::uuid`, [tx.tenantId]);
  await tx.query(
    `INSERT INTO ticket_term_stats (tenant_id, lexeme, df)
     SELECT $1::uuid, lexeme, count(*) FROM ticket_postings WHERE tenant_id = $1::uuid GROUP BY lexeme
     ON CONFLICT (tenant_id, lexeme) DO UPDATE SET df = EXCLUDED.df`,
    [tx.tenantId],
  );
  await tx.query(
    `INSERT INTO ticket_corpus_stats (tenant_id, docs, total_len)
     SELECT $1::uuid, count(*), coalesce(sum(retrieval_len), 0) FROM ticket_history
      WHERE tenant_id = $1::uuid AND retrieval_eligible
     ON CONFLICT (tenant_id) DO UPDATE SET docs = EXCLUDED.docs, total_len = EXCLUDED.total_len`,
    [tx.tenantId],
  );
}
