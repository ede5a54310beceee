import type { Enhancement, TicketContext } from '@tep/contracts';
import { similarTicketId, truncate } from './prompt';
import type { EnhancementProvider, SynthesisInput } from './provider';

type SimilarTicket = TicketContext['similar_tickets'][number];
type KbArticle = TicketContext['kb_articles'][number];
type SystemRef = TicketContext['systems'][number];

const HEALTHY_STATUSES = new Set(['up', 'healthy', 'ok', 'online', 'running', 'operational']);
// "unknown" is no evidence of a problem, so it neither explains the ticket nor needs a check.
const UNKNOWN_STATUSES = new Set(['unknown', '']);

const MAX_CAUSE_CHARS = 2000;
const MAX_ACTION_CHARS = 1000;
const MAX_ACTION_DETAIL_CHARS = 300;
const PER_SOURCE_ACTIONS = 3;
const MAX_RELATED = 10;

export const NO_CONTEXT_CAUSE =
  'No similar resolved tickets or KB articles were found, and no affected systems are reporting problems.';
/** Weak matches only: said plainly, never "likely the same issue". */
export const NOTHING_SIMILAR_CAUSE =
  "Nothing clearly similar was found in this client's resolved tickets.";

export const NO_CONTEXT_ACTIONS = [
  'Ask the requester for the exact error message, when the problem started and who is affected.',
  'Check recent changes and monitoring alerts for the systems the ticket mentions.',
];

/** Confidence model: evidence from the best match, a bonus for agreeing sources, a cap below certainty. */
const CONFIDENCE = {
  base: 0.1,
  perTopScore: 0.65,
  kbWeight: 0.85,
  perAgreeingSource: 0.05,
  maxAgreeingSources: 3,
  systemsOnly: 0.25,
  nothingFound: 0.05,
  max: 0.9,
  perDegradedSource: 0.8,
};

const isResolved = (ticket: SimilarTicket) => Boolean(ticket.resolution?.trim());
const byScore = <T extends { score: number }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => b.score - a.score);
const clamp01 = (n: number) => (Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0);

function hasProblem(system: SystemRef): boolean {
  const status = system.status.trim().toLowerCase();
  return !HEALTHY_STATUSES.has(status) && !UNKNOWN_STATUSES.has(status);
}

function hostLabel(system: SystemRef): string {
  return system.ip_address ? `${system.hostname} (${system.ip_address})` : system.hostname;
}

function systemCheck(system: SystemRef): string {
  const target = system.service_name
    ? `${system.service_name} on ${hostLabel(system)}`
    : hostLabel(system);
  return `Check ${target}: status ${system.status}`;
}

function likelyCause(
  resolved: SimilarTicket[],
  articles: KbArticle[],
  problemSystems: SystemRef[],
  degraded: TicketContext['degraded'],
): string {
  // Only a match above the retrieval's confident threshold is presented as the cause.
  const ticket = resolved.find((t) => t.confident);
  if (ticket?.resolution) {
    return `Likely the same issue as ticket ${similarTicketId(ticket)} ("${ticket.subject}"), which was resolved by: ${ticket.resolution}`;
  }
  const [article] = articles;
  if (article) {
    return `Knowledge base article "${article.title}" matches this ticket: ${article.excerpt}`;
  }
  if (problemSystems.length > 0) {
    const problems = problemSystems.map((s) => `${hostLabel(s)} is ${s.status}`).join('; ');
    return `Affected systems are reporting problems: ${problems}.`;
  }
  if (resolved.length > 0) {
    const weak = resolved.slice(0, 3).map(similarTicketId).join(', ');
    return `${NOTHING_SIMILAR_CAUSE} The closest, possibly related, tickets are ${weak}; check whether they match before applying their fixes.`;
  }
  if (degraded.length > 0) {
    const sources = [...new Set(degraded.map((d) => d.source))].join(', ');
    return `${NO_CONTEXT_CAUSE} Some context sources were unavailable: ${sources}.`;
  }
  return NO_CONTEXT_CAUSE;
}

function suggestedActions(
  resolved: SimilarTicket[],
  articles: KbArticle[],
  problemSystems: SystemRef[],
): string[] {
  const confident = resolved.filter((t) => t.confident);
  const actions = [
    ...(confident.length === 0 && resolved.length > 0 ? [NO_CONTEXT_ACTIONS[0]] : []),
    ...(confident.length > 0 ? confident : resolved)
      .slice(0, PER_SOURCE_ACTIONS)
      .map((t) =>
        t.confident
          ? `Apply the resolution of ticket ${similarTicketId(t)}: ${truncate(t.resolution ?? '', MAX_ACTION_DETAIL_CHARS)}`
          : `If ticket ${similarTicketId(t)} ("${truncate(t.subject, 120)}") matches, try its fix: ${truncate(t.resolution ?? '', MAX_ACTION_DETAIL_CHARS)}`,
      ),
    ...articles
      .slice(0, PER_SOURCE_ACTIONS)
      .map((a) => `Follow KB article "${a.title}"${a.url ? ` (${a.url})` : ''}`),
    ...problemSystems.slice(0, PER_SOURCE_ACTIONS).map(systemCheck),
  ];
  const unique = [...new Set(actions.map((action) => truncate(action, MAX_ACTION_CHARS)))];
  return unique.length > 0 ? unique : [...NO_CONTEXT_ACTIONS];
}

/**
 * Monotone in the best retrieval score and in how many sources agree;
 * never above 0.9 (retrieval alone is not certainty) and lower for each
 * context source that was unavailable.
 */
export function offlineConfidence(context: TicketContext): number {
  const resolved = context.similar_tickets.filter(isResolved);
  const topSimilar = Math.max(0, ...resolved.map((t) => clamp01(t.score)));
  const topKb = Math.max(0, ...context.kb_articles.map((a) => clamp01(a.score)));
  const top = Math.max(topSimilar, CONFIDENCE.kbWeight * topKb);
  const sources = resolved.length + context.kb_articles.length;
  let confidence: number;
  if (sources > 0) {
    const agreeing = Math.min(CONFIDENCE.maxAgreeingSources, sources - 1);
    confidence = Math.min(
      CONFIDENCE.max,
      CONFIDENCE.base + CONFIDENCE.perTopScore * top + CONFIDENCE.perAgreeingSource * agreeing,
    );
  } else {
    confidence = context.systems.some(hasProblem)
      ? CONFIDENCE.systemsOnly
      : CONFIDENCE.nothingFound;
  }
  const sourcesDown = new Set(context.degraded.map((d) => d.source)).size;
  return Math.round(confidence * CONFIDENCE.perDegradedSource ** sourcesDown * 100) / 100;
}

/** Deterministic, no network: the enhancement built from the retrieved context alone. */
export function synthesizeOffline(
  input: Pick<SynthesisInput, 'context' | 'preferences'>,
  fallbackReason: string | null = null,
): Enhancement {
  const { context, preferences } = input;
  const resolved = byScore(context.similar_tickets.filter(isResolved));
  const articles = byScore(context.kb_articles);
  const problemSystems = context.systems.filter(hasProblem);
  const related = [...new Set(byScore(context.similar_tickets).map(similarTicketId))];
  return {
    likely_cause: truncate(
      likelyCause(resolved, articles, problemSystems, context.degraded),
      MAX_CAUSE_CHARS,
    ),
    suggested_actions: suggestedActions(resolved, articles, problemSystems),
    related_tickets: related.slice(0, MAX_RELATED),
    confidence: preferences.include_confidence_score ? offlineConfidence(context) : null,
    synthesizer: 'offline',
    model: null,
    fallback_reason: fallbackReason,
    usage: null,
  };
}

export class OfflineSynthesizer implements EnhancementProvider {
  readonly name = 'offline';

  /** `fallbackReason` is set by a caller that answers offline because its model failed. */
  synthesize(
    input: SynthesisInput,
    _signal?: AbortSignal,
    fallbackReason: string | null = null,
  ): Promise<Enhancement> {
    return Promise.resolve(synthesizeOffline(input, fallbackReason));
  }
}
