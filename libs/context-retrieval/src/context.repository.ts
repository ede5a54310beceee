import type { TenantTransaction } from '@tep/data';
import type { Ticket, TicketContext } from '@tep/contracts';
import type { Mentions } from './mentions';

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

/** Records the ticket so history grows from normal traffic. */
export async function recordTicket(tx: TenantTransaction, ticket: Ticket): Promise<void> {
  const resolved = ticket.status !== null && RESOLVED.includes(ticket.status.toLowerCase());
  await tx.query(
    `INSERT INTO ticket_history (tenant_id, ticket_id, subject, description, priority, status, resolution,
                                 requester_email, source, ticket_created_at, resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'webhook', $9, CASE WHEN $10 AND $7::text IS NOT NULL THEN now() END)
     ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET
       subject = EXCLUDED.subject,
       description = EXCLUDED.description,
       priority = EXCLUDED.priority,
       status = EXCLUDED.status,
       resolution = COALESCE(EXCLUDED.resolution, ticket_history.resolution),
       requester_email = COALESCE(EXCLUDED.requester_email, ticket_history.requester_email),
       resolved_at = CASE WHEN $10 AND COALESCE(EXCLUDED.resolution, ticket_history.resolution) IS NOT NULL
                          THEN COALESCE(ticket_history.resolved_at, now()) END,
       updated_at = now()`,
    [
      tx.tenantId,
      ticket.ticket_id,
      ticket.subject,
      ticket.description_text,
      ticket.priority,
      ticket.status,
      ticket.resolution_text,
      ticket.requester_email,
      ticket.created_at,
      resolved,
    ],
  );
}

type SimilarTicket = TicketContext['similar_tickets'][number];

/** Resolved tickets like this one: full-text first, trigram as fallback. */
/**
 * The context queries, exported so the benchmark measures exactly what the
 * gatherer runs. Each runs under the tenant's RLS context.
 */
export const CONTEXT_QUERIES = {
  /** $1 text, $2 the ticket's own id, $3 limit. */
  similarTickets: `SELECT ticket_id, display_id, subject, resolution,
            ts_rank_cd(search_vector, q.query, 32)::float8 AS score
       FROM ticket_history, ${ANY_WORD_QUERY} AS q(query)
      WHERE search_vector @@ q.query
        AND resolution IS NOT NULL AND ticket_id <> $2
      ORDER BY score DESC, resolved_at DESC NULLS LAST
      LIMIT $3`,
  /** $1 subject, $2 the ticket's own id, $3 limit. */
  similarTicketsTrigram: `SELECT ticket_id, display_id, subject, resolution, similarity(subject, $1)::float8 AS score
       FROM ticket_history
      WHERE subject % $1 AND resolution IS NOT NULL AND ticket_id <> $2
      ORDER BY score DESC
      LIMIT $3`,
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
}

const toSimilar = (rows: SimilarRow[], match: SimilarTicket['match']): SimilarTicket[] =>
  rows.map((r) => ({
    ticket_id: r.ticket_id,
    display_id: r.display_id,
    subject: clip(r.subject, 250)!,
    resolution: clip(r.resolution, 1000),
    score: Number(r.score.toFixed(4)),
    match,
  }));

export async function findSimilarTickets(
  tx: TenantTransaction,
  ticket: Ticket,
  limit = 5,
): Promise<SimilarTicket[]> {
  const rows = await tx.query<SimilarRow>(CONTEXT_QUERIES.similarTickets, [
    searchTextOf(ticket),
    ticket.ticket_id,
    limit,
  ]);
  if (rows.length > 0) return toSimilar(rows, 'full_text');
  // Typos and jargon defeat stemming; trigram similarity on the subject still matches.
  const fuzzy = await tx.query<SimilarRow>(CONTEXT_QUERIES.similarTicketsTrigram, [
    ticket.subject,
    ticket.ticket_id,
    limit,
  ]);
  return toSimilar(fuzzy, 'trigram');
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
