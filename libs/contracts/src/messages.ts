import { z } from 'zod';
import {
  ContextSourceSchema,
  EnhancementPreferencesSchema,
  NoteLanguageSchema,
} from './tenant-preferences';

/** Message schemas exchanged over JetStream; validated at both ends. */
export const TicketSchema = z.object({
  ticket_id: z.string().min(1).max(100),
  subject: z.string().max(500),
  description_html: z.string(),
  description_text: z.string(),
  resolution_text: z.string().nullable(),
  priority: z.string().nullable(),
  status: z.string().nullable(),
  requester_email: z.string().nullable(),
  created_at: z.string().nullable(),
  /**
   * When SDP last changed the ticket (its `last_updated_time`), if the webhook
   * says: stored history only moves forward in this time. Absent in
   * messages queued before it existed.
   */
  updated_at: z.string().nullable().optional(),
  event: z.enum(['created', 'updated']),
});
export type Ticket = z.infer<typeof TicketSchema>;

const envelope = {
  version: z.literal(1),
  job_id: z.string().uuid(),
  tenant_id: z.string().uuid(),
  received_at: z.string().datetime(),
};

export const TicketReceivedSchema = z.object({ ...envelope, ticket: TicketSchema });
export type TicketReceived = z.infer<typeof TicketReceivedSchema>;

export const SimilarTicketSchema = z.object({
  ticket_id: z.string(),
  display_id: z.string().nullable(),
  subject: z.string(),
  resolution: z.string().nullable(),
  /** Relevance on a 0–1 scale (see docs/retrieval-quality.md). */
  score: z.number(),
  match: z.enum(['full_text', 'trigram']),
  /** At or above the retrieval's confident threshold: may be presented as the likely cause. */
  confident: z.boolean().default(false),
});
export const KbArticleRefSchema = z.object({
  article_id: z.string(),
  title: z.string(),
  excerpt: z.string(),
  url: z.string().nullable(),
  score: z.number(),
});
export const SystemRefSchema = z.object({
  hostname: z.string(),
  ip_address: z.string().nullable(),
  service_name: z.string().nullable(),
  status: z.string(),
  matched_on: z.string(),
});

export const TicketContextSchema = z.object({
  similar_tickets: z.array(SimilarTicketSchema).max(10),
  kb_articles: z.array(KbArticleRefSchema).max(10),
  systems: z.array(SystemRefSchema).max(20),
  /** Sources that failed or timed out: the job goes on without them. */
  degraded: z.array(z.object({ source: ContextSourceSchema, reason: z.string().max(500) })),
  /** The ticket's detected language ('und': not one we detect). */
  language: z.union([NoteLanguageSchema, z.literal('und')]).default('und'),
  /**
   * Set when at least the tenant's `outage_threshold` other open tickets
   * created within `outage_window_minutes` are similar to this one.
   */
  possible_outage: z
    .object({
      window_minutes: z.number().int(),
      /** How many (the list holds the most similar of them). */
      count: z.number().int(),
      tickets: z
        .array(
          z.object({
            ticket_id: z.string(),
            display_id: z.string().nullable(),
            subject: z.string(),
          }),
        )
        .max(20),
    })
    .nullable()
    .default(null),
  /**
   * Set when the ticket was enhanced before and the tenant's `on_update`
   * asks for more after its text changed: `refresh` edits `note_id` in
   * place, `new_note` adds a short follow-up.
   */
  update_of: z
    .object({
      mode: z.enum(['refresh', 'new_note']),
      job_id: z.string(),
      note_id: z.string().nullable(),
    })
    .nullable()
    .default(null),
});
export type TicketContext = z.infer<typeof TicketContextSchema>;

export const TicketContextualizedSchema = TicketReceivedSchema.extend({
  context: TicketContextSchema,
  /**
   * The tenant's preferences as the gatherer read them: one read per job,
   * the same for every later stage. Absent in messages queued before this
   * field existed (stages then read them themselves).
   */
  preferences: EnhancementPreferencesSchema.optional(),
});
export type TicketContextualized = z.infer<typeof TicketContextualizedSchema>;

export const EnhancementSchema = z.object({
  likely_cause: z.string().min(1).max(2000),
  suggested_actions: z.array(z.string().min(1).max(1000)).min(1).max(10),
  related_tickets: z.array(z.string()).max(10),
  confidence: z.number().min(0).max(1).nullable(),
  synthesizer: z.enum(['llm', 'offline']),
  /** The language the note is written in. */
  language: NoteLanguageSchema.default('en'),
  model: z.string().nullable(),
  /** Why the offline synthesizer answered instead of the configured model. */
  fallback_reason: z.string().nullable(),
  usage: z
    .object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int() })
    .nullable(),
});
export type Enhancement = z.infer<typeof EnhancementSchema>;

export const TicketEnhancedSchema = TicketContextualizedSchema.extend({
  enhancement: EnhancementSchema,
});
export type TicketEnhanced = z.infer<typeof TicketEnhancedSchema>;

export const TicketPostedSchema = z.object({
  ...envelope,
  ticket_id: z.string(),
  note_id: z.string(),
  posted_at: z.string().datetime(),
});
export type TicketPosted = z.infer<typeof TicketPostedSchema>;

export const DeadLetterSchema = z.object({
  job_id: z.string(),
  tenant_id: z.string(),
  stage: z.string(),
  error_code: z.string(),
  error: z.string().max(2000),
  deliveries: z.number().int(),
  original_subject: z.string(),
  /** The message as received (UTF-8), so an operator can replay it. */
  original_payload: z.string(),
  failed_at: z.string().datetime(),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;
