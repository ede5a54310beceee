import { FINISHED_STATUSES } from '@tep/context-retrieval';
import type { EnhancementPreferences, TicketContext } from '@tep/contracts';
import type { TicketEnhancement } from '@tep/data';

/** A finished ticket gets no new enhancement: its resolution becomes history. */
const FINISHED: ReadonlySet<string> = new Set(FINISHED_STATUSES);

/**
 * Below this word overlap (Jaccard) with the text the note was built from,
 * an update counts as new information: a pasted error, a different
 * symptom. Priority, status or a typo fix stay well above it.
 */
export const CHANGED_TEXT_BELOW = 0.8;

export type EnhancementPlan =
  { kind: 'skip'; reason: string } | { kind: 'enhance'; updateOf: TicketContext['update_of'] };

/** Words, keeping identifiers whole (db01.acme.local, 0x8004010F) but not a sentence's full stop. */
const wordsOf = (text: string) =>
  new Set(text.toLowerCase().match(/[\p{L}\p{N}]+(?:[._-][\p{L}\p{N}]+)*/gu) ?? []);

/** Share of distinct words two texts have in common (1: same words). */
export function textOverlap(a: string, b: string): number {
  const x = wordsOf(a);
  const y = wordsOf(b);
  if (x.size === 0 && y.size === 0) return 1;
  let shared = 0;
  for (const word of x) if (y.has(word)) shared++;
  return shared / (x.size + y.size - shared);
}

/**
 * One enhancement note per ticket: whether this event gets one, and
 * whether it updates an earlier one (tenant preference `on_update`).
 */
export function planEnhancement(input: {
  status: string | null;
  /** The subject and cleaned description this job would be built from. */
  text: string;
  earlier: TicketEnhancement | undefined;
  onUpdate: EnhancementPreferences['on_update'];
}): EnhancementPlan {
  const { status, text, earlier, onUpdate } = input;
  if (status !== null && FINISHED.has(status.trim().toLowerCase())) {
    return {
      kind: 'skip',
      reason: `the ticket is ${status.trim()}: its resolution is kept as history`,
    };
  }
  if (!earlier) return { kind: 'enhance', updateOf: null };
  if (onUpdate === 'none') {
    return {
      kind: 'skip',
      reason: `the ticket already has its enhancement (job ${earlier.job_id}); on_update is none`,
    };
  }
  // Jobs from before the text was recorded: no evidence of a change.
  if (
    earlier.enhanced_text === null ||
    textOverlap(earlier.enhanced_text, text) >= CHANGED_TEXT_BELOW
  ) {
    return {
      kind: 'skip',
      reason: `the ticket's text has not changed enough since its enhancement (job ${earlier.job_id})`,
    };
  }
  return {
    kind: 'enhance',
    updateOf: { mode: onUpdate, job_id: earlier.job_id, note_id: earlier.note_id },
  };
}
