import { z } from 'zod';
import type { TicketContext } from '@tep/contracts';
import { similarTicketId, truncate } from './prompt';

const MAX_CAUSE_CHARS = 2000;
const MAX_ACTION_CHARS = 1000;
const MAX_ACTIONS = 10;
const MAX_RELATED = 10;

/**
 * What the model must return. Lenient where models commonly differ but the
 * meaning is clear (numeric ids, "85%" confidence); strict where a missing
 * part would leave the technician without an answer.
 */
export const ModelAnswerSchema = z.object({
  likely_cause: z.string().trim().min(1),
  suggested_actions: z.array(z.string().trim().min(1)).min(1),
  related_tickets: z.array(z.union([z.string(), z.number()])).nullish(),
  confidence: z.union([z.number(), z.string(), z.null()]).optional(),
});
export type ModelAnswer = z.infer<typeof ModelAnswerSchema>;

export type ParsedAnswer = { ok: true; answer: ModelAnswer } | { ok: false; problem: string };

/**
 * Where the JSON may be in a reply: all of it, a markdown fence anywhere
 * in it, or its outermost braces. Small local models wrap JSON in a fence
 * or a sentence ("Sure! Here is the answer: {…}") when the endpoint cannot
 * constrain the output, and sometimes even when it can.
 */
function jsonCandidates(content: string): string[] {
  const trimmed = content.trim();
  const fenced = /```(?:json)?\s*([\s\S]*?)\s*```/i.exec(trimmed)?.[1];
  const start = trimmed.indexOf('{');
  const end = trimmed.lastIndexOf('}');
  const braced = start >= 0 && end > start ? trimmed.slice(start, end + 1) : undefined;
  return [trimmed, fenced, braced].filter((candidate) => candidate !== undefined);
}

function parseJson(content: string): { ok: true; json: unknown } | { ok: false } {
  for (const candidate of jsonCandidates(content)) {
    try {
      return { ok: true, json: JSON.parse(candidate) };
    } catch {
      // Try the next place the JSON may be.
    }
  }
  return { ok: false };
}

export function parseModelAnswer(content: string | null | undefined): ParsedAnswer {
  if (!content?.trim()) return { ok: false, problem: 'the reply was empty' };
  const parsed = parseJson(content);
  if (!parsed.ok) return { ok: false, problem: 'the reply was not valid JSON' };
  const result = ModelAnswerSchema.safeParse(parsed.json);
  if (result.success) return { ok: true, answer: result.data };
  const issues = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, problem: `the JSON did not match the required shape (${issues})` };
}

/** 0..1; percentages (e.g. 85 or "85%") are divided by 100; unreadable values become null. */
export function normaliseConfidence(value: ModelAnswer['confidence']): number | null {
  if (value === null || value === undefined) return null;
  let number = typeof value === 'number' ? value : Number.parseFloat(value);
  if (!Number.isFinite(number)) return null;
  if (typeof value === 'string' && value.trim().endsWith('%')) number /= 100;
  else if (number > 1) number /= 100;
  return Math.min(1, Math.max(0, number));
}

/**
 * Keeps only ids that were in the context (a model may invent plausible
 * ones), matched on ticket_id or display_id, reported as the display id.
 */
export function keepKnownTickets(
  ids: readonly (string | number)[],
  similarTickets: TicketContext['similar_tickets'],
): string[] {
  const named = new Set(ids.map((id) => String(id).trim().replace(/^#/, '')));
  // In the retrieval's rank order, best first (operators and evaluations read it so),
  // whatever order the model listed them in.
  const ranked = [...similarTickets].sort((a, b) => b.score - a.score);
  const kept = new Set<string>();
  for (const similar of ranked) {
    if (
      named.has(similar.ticket_id) ||
      (similar.display_id !== null && named.has(similar.display_id))
    ) {
      kept.add(similarTicketId(similar));
    }
  }
  return [...kept].slice(0, MAX_RELATED);
}

export interface NormalisedAnswer {
  likely_cause: string;
  suggested_actions: string[];
  related_tickets: string[];
  confidence: number | null;
}

export function normaliseAnswer(
  answer: ModelAnswer,
  similarTickets: TicketContext['similar_tickets'],
  includeConfidence: boolean,
): NormalisedAnswer {
  return {
    likely_cause: truncate(answer.likely_cause, MAX_CAUSE_CHARS),
    suggested_actions: answer.suggested_actions
      .slice(0, MAX_ACTIONS)
      .map((action) => truncate(action, MAX_ACTION_CHARS)),
    related_tickets: keepKnownTickets(answer.related_tickets ?? [], similarTickets),
    confidence: includeConfidence ? normaliseConfidence(answer.confidence) : null,
  };
}
