import { z } from 'zod';
import { ContextSourceSchema } from './messages';

/**
 * `tenant_configs.enhancement_preferences`: the runbook's step 1.3 keys,
 * with defaults, plus who may see the note.
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
  })
  .strict();
export type EnhancementPreferences = z.infer<typeof EnhancementPreferencesSchema>;

export const RateLimitsSchema = z
  .object({ requests_per_minute: z.number().int().min(1).max(100_000).nullable().default(null) })
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
