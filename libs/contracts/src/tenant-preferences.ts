import { z } from 'zod';
import type { TicketContext } from './messages';

/** Languages a note is written in (labels translated, the model told to answer in it). */
export const NoteLanguageSchema = z.enum(['en', 'de', 'fr', 'es', 'nl']);
export type NoteLanguage = z.infer<typeof NoteLanguageSchema>;

export const ContextSourceSchema = z.enum(['ticket_history', 'kb', 'monitoring']);
export type ContextSource = z.infer<typeof ContextSourceSchema>;

/** What may be replaced by a placeholder before text leaves for a model, beyond secrets (always). */
export const RedactableSchema = z.enum(['email', 'phone', 'name']);
export type Redactable = z.infer<typeof RedactableSchema>;

/**
 * `tenant_configs.enhancement_preferences`: the runbook's step 1.3 keys,
 * with defaults, plus who may see the note and how it is written
 * (README "Tenant preferences").
 */
export const EnhancementPreferencesSchema = z
  .object({
    context_sources: z
      .array(ContextSourceSchema)
      .max(3)
      .default(['ticket_history', 'kb', 'monitoring']),
    output_format: z.enum(['markdown', 'html', 'plain']).default('markdown'),
    max_tokens: z.number().int().min(50).max(4000).default(500),
    llm_model: z.string().trim().min(1).max(200).default('openai/gpt-4o-mini'),
    include_confidence_score: z.boolean().default(true),
    /** Technicians only unless the MSP decides requesters should see it. */
    note_visibility: z.enum(['technicians', 'requester']).default('technicians'),
    /** `auto`: the ticket's detected language (English when unknown). */
    note_language: z.union([z.literal('auto'), NoteLanguageSchema]).default('auto'),
    /**
     * An update event never posts a second enhancement by default; when the
     * ticket's text changed enough: `refresh` edits our note in place,
     * `new_note` adds a short follow-up note.
     */
    on_update: z.enum(['none', 'refresh', 'new_note']).default('none'),
    /** Below this confidence the note is replaced by `low_confidence_action`. */
    min_confidence: z.number().min(0).max(1).default(0),
    /** `note`: a short "no confident suggestion" note; `skip`: no note, recorded as skipped. */
    low_confidence_action: z.enum(['note', 'skip']).default('note'),
    /** The MSP's own guidance for the model (never the offline synthesizer's). */
    instructions: z.string().max(2000).default(''),
    /** Personal data replaced by placeholders before a model sees the text (secrets always are). */
    redact: z.array(RedactableSchema).max(3).default(['email', 'phone', 'name']),
    /** This many other open similar tickets within the window make a possible outage. */
    outage_threshold: z.number().int().min(2).max(1000).default(3),
    outage_window_minutes: z.number().int().min(5).max(1440).default(60),
  })
  .strict();
export type EnhancementPreferences = z.infer<typeof EnhancementPreferencesSchema>;

/**
 * Webhooks a tenant may send per minute (across ingress replicas) unless
 * its operator sets another value: ten a second sustained is far above what
 * one ServiceDesk sends (an event per ticket change), yet a runaway sender
 * or a leaked secret cannot fill the shared queue. `null` (set explicitly):
 * no limit.
 */
export const DEFAULT_REQUESTS_PER_MINUTE = 600;

export const RateLimitsSchema = z
  .object({
    requests_per_minute: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .nullable()
      .default(DEFAULT_REQUESTS_PER_MINUTE),
  })
  .strict();
export type RateLimits = z.infer<typeof RateLimitsSchema>;

/**
 * Reads stored preferences leniently: rows written by hand (the runbook's
 * INSERT) may carry unknown keys; known keys must still be valid.
 */
export function readEnhancementPreferences(stored: unknown): EnhancementPreferences {
  const known = EnhancementPreferencesSchema.keyof().options as readonly string[];
  const picked = Object.fromEntries(
    Object.entries((stored ?? {}) as Record<string, unknown>).filter(([key]) =>
      known.includes(key),
    ),
  );
  const sources = picked['context_sources'];
  if (Array.isArray(sources)) {
    // The runbook suggests sources we do not have yet (e.g. "recent_alerts").
    picked['context_sources'] = sources.filter((s) => ContextSourceSchema.safeParse(s).success);
  }
  return EnhancementPreferencesSchema.parse(picked);
}

/** The language a job's note is written in: the tenant's choice, else the ticket's, else English. */
export function noteLanguageOf(
  preferences: Pick<EnhancementPreferences, 'note_language'>,
  context: Pick<TicketContext, 'language'>,
): NoteLanguage {
  if (preferences.note_language !== 'auto') return preferences.note_language;
  return context.language === 'und' ? 'en' : context.language;
}
