import type { ContextSource, Enhancement, NoteLanguage, TicketContext } from '@tep/contracts';
import { scrubAddresses } from './address-scrub';
import { NOTE_WORDING, joinList, type OfflineSentences } from './note-language';
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

// The English sentences, as constants for tests and docs; every language's are in NOTE_WORDING.
export const NO_CONTEXT_CAUSE = NOTE_WORDING.en.offline.noContextCause;
/** Weak matches only: said plainly, never "likely the same issue". */
export const NOTHING_SIMILAR_CAUSE = NOTE_WORDING.en.offline.nothingSimilarCause;
export const NO_CONTEXT_ACTIONS: readonly string[] = NOTE_WORDING.en.offline.noContextActions;

/**
 * Confidence model: evidence from the best match, a bonus for agreeing sources, a cap below certainty.
 * Tuned on the labelled dataset so that a note at confidence c is grounded in a relevant
 * ticket about c of the time (`npm run eval`, docs/retrieval-quality.md "Confidence calibration").
 */
const CONFIDENCE = {
  base: 0.1,
  perTopScore: 0.65,
  /** A note whose likely cause is a confident similar ticket: citedBase + perCitedScore × its score. */
  citedBase: 0,
  perCitedScore: 2.75,
  /** The most a note that names no cause may claim: it is never grounded in a ticket. */
  noCause: 0.05,
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

/** What the sentences are built from, ranked. */
interface Evidence {
  resolved: SimilarTicket[];
  articles: KbArticle[];
  problemSystems: SystemRef[];
  degraded: TicketContext['degraded'];
}

/**
 * How to write: the language, and whether the requester sees the note. A
 * requester's note names no other ticket (id, subject or resolution) and no
 * host or address; the service name of an unhealthy system stays, it is
 * what the requester knows the problem by.
 */
interface Writer {
  language: NoteLanguage;
  say: OfflineSentences;
  sourceNames: Record<ContextSource, string>;
  forRequester: boolean;
  /** For a requester, KB text may still name hosts; the sentences themselves do not. */
  scrub: (text: string) => string;
}

function systemTarget(system: SystemRef, w: Writer): string | null {
  const host = w.forRequester ? null : hostLabel(system);
  return system.service_name ? w.say.serviceOn(system.service_name, host) : host;
}

function likelyCause(evidence: Evidence, w: Writer): string {
  const { resolved, articles, problemSystems, degraded } = evidence;
  const { say } = w;
  // Only a match above the retrieval's confident threshold is presented as the cause.
  const ticket = resolved.find((t) => t.confident);
  if (ticket?.resolution) {
    return w.forRequester
      ? say.sameIssueUnnamed
      : say.sameIssue(similarTicketId(ticket), ticket.subject, ticket.resolution);
  }
  const [article] = articles;
  if (article) return say.kbMatches(article.title, article.excerpt);
  if (problemSystems.length > 0) {
    const problems = problemSystems.map((s) =>
      say.systemProblem(w.forRequester ? s.service_name : hostLabel(s), s.status),
    );
    return say.systemsReporting([...new Set(problems)]);
  }
  if (resolved.length > 0) {
    if (w.forRequester) return say.nothingSimilarCause;
    const weak = resolved.slice(0, 3).map(similarTicketId).join(', ');
    return `${say.nothingSimilarCause} ${say.closestTickets(weak)}`;
  }
  if (degraded.length > 0) {
    const sources = [...new Set(degraded.map((d) => w.sourceNames[d.source]))];
    return `${say.noContextCause} ${say.sourcesUnavailable(joinList(w.language, sources))}`;
  }
  return say.noContextCause;
}

function ticketActions(resolved: SimilarTicket[], w: Writer): string[] {
  const confident = resolved.filter((t) => t.confident);
  if (w.forRequester) return confident.length > 0 ? [w.say.applyResolutionUnnamed] : [];
  return (confident.length > 0 ? confident : resolved)
    .slice(0, PER_SOURCE_ACTIONS)
    .map((t) =>
      t.confident
        ? w.say.applyResolution(
            similarTicketId(t),
            truncate(t.resolution ?? '', MAX_ACTION_DETAIL_CHARS),
          )
        : w.say.tryWeakFix(
            similarTicketId(t),
            truncate(t.subject, 120),
            truncate(t.resolution ?? '', MAX_ACTION_DETAIL_CHARS),
          ),
    );
}

function suggestedActions(evidence: Evidence, w: Writer): string[] {
  const { resolved, articles, problemSystems } = evidence;
  const weakOnly = resolved.length > 0 && !resolved.some((t) => t.confident);
  const actions = [
    ...(weakOnly ? [w.say.noContextActions[0]] : []),
    ...ticketActions(resolved, w),
    ...articles
      .slice(0, PER_SOURCE_ACTIONS)
      .map((a) => w.say.followKb(a.title, w.forRequester ? null : a.url)),
    ...problemSystems
      .slice(0, PER_SOURCE_ACTIONS)
      .map((s) => w.say.checkSystem(systemTarget(s, w), s.status)),
  ];
  const unique = [...new Set(actions.map((action) => truncate(w.scrub(action), MAX_ACTION_CHARS)))];
  return unique.length > 0 ? unique : [...w.say.noContextActions];
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
    // The likely cause is then that ticket (likelyCause): its own, tuned line, never below the general one.
    const cited = resolved.some((t) => t.confident);
    const evidence = Math.max(
      CONFIDENCE.base + CONFIDENCE.perTopScore * top,
      cited ? CONFIDENCE.citedBase + CONFIDENCE.perCitedScore * topSimilar : 0,
    );
    confidence = Math.min(CONFIDENCE.max, evidence + CONFIDENCE.perAgreeingSource * agreeing);
    // "Nothing clearly similar": no confident ticket, no KB article, no system reporting a problem.
    const namesCause = cited || context.kb_articles.length > 0 || context.systems.some(hasProblem);
    if (!namesCause) confidence = Math.min(confidence, CONFIDENCE.noCause);
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
  input: Pick<SynthesisInput, 'context' | 'preferences' | 'language'>,
  fallbackReason: string | null = null,
): Enhancement {
  const { context, preferences, language } = input;
  const wording = NOTE_WORDING[language];
  const forRequester = preferences.note_visibility === 'requester';
  const w: Writer = {
    language,
    say: wording.offline,
    sourceNames: wording.note.sources,
    forRequester,
    scrub: forRequester
      ? (text) => scrubAddresses(text, context.systems, wording.note.affectedSystem)
      : (text) => text,
  };
  const evidence: Evidence = {
    resolved: byScore(context.similar_tickets.filter(isResolved)),
    articles: byScore(context.kb_articles),
    problemSystems: context.systems.filter(hasProblem),
    degraded: context.degraded,
  };
  const related = [...new Set(byScore(context.similar_tickets).map(similarTicketId))];
  return {
    likely_cause: truncate(w.scrub(likelyCause(evidence, w)), MAX_CAUSE_CHARS),
    suggested_actions: suggestedActions(evidence, w),
    related_tickets: related.slice(0, MAX_RELATED),
    confidence: preferences.include_confidence_score ? offlineConfidence(context) : null,
    synthesizer: 'offline',
    language,
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
