import { z } from 'zod';

/**
 * A technician's answer about one note (runbook step 6.3): the rating the
 * note's link carries and the optional questions of the feedback page. The
 * same fields are the page's form (POST /feedback/<token>) and the message
 * the ingress queues for the context-gatherer to record.
 */
export const FEEDBACK_RATINGS = ['helpful', 'not_helpful'] as const;
export type FeedbackRating = (typeof FEEDBACK_RATINGS)[number];

/** Free text is capped: a reason, not an essay (and never a way to store megabytes). */
export const MAX_FEEDBACK_REASON_CHARS = 2000;

const score = z.coerce.number().int().min(1).max(5);
/** A form's empty field is "not answered". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

export const FeedbackAnswersSchema = z.strictObject({
  rating: z.enum(FEEDBACK_RATINGS),
  relevant: optional(z.enum(['yes', 'no'])),
  helped: optional(z.enum(['yes', 'no', 'partially'])),
  quality: optional(score),
  accuracy: optional(score),
  reason: optional(z.string().trim().max(MAX_FEEDBACK_REASON_CHARS)),
});
export type FeedbackAnswers = z.infer<typeof FeedbackAnswersSchema>;

export const FeedbackSubmittedSchema = z.object({
  tenant_id: z.string().uuid(),
  job_id: z.string().uuid(),
  answers: FeedbackAnswersSchema,
  submitted_at: z.string().datetime(),
});
export type FeedbackSubmitted = z.infer<typeof FeedbackSubmittedSchema>;
