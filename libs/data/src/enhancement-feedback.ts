import type { TenantTransaction } from './tenant-database';

/** One technician answer about a job's note (@tep/contracts FeedbackAnswers). */
export interface FeedbackRecord {
  jobId: string;
  rating: 'helpful' | 'not_helpful';
  relevant?: 'yes' | 'no';
  helped?: 'yes' | 'no' | 'partially';
  quality?: number;
  accuracy?: number;
  reason?: string;
  submittedAt: string;
}

/**
 * Records an answer; a later one replaces an earlier one (the latest
 * counts), an older one arriving late changes nothing. Keeps the votes of
 * the tickets the note cited (ticket_feedback) in step: +1 for the new
 * rating, −1 for the one it replaces. `false` when the job is not this
 * tenant's (or no longer exists): nothing is recorded.
 */
export async function recordFeedback(tx: TenantTransaction, f: FeedbackRecord): Promise<boolean> {
  const known = await tx.query<{
    related: string[] | null;
    previous: string | null;
    previous_at: Date | null;
  }>(
    `SELECT ARRAY(SELECT jsonb_array_elements_text(h.enhancement->'related_tickets')) AS related,
            f.rating AS previous, f.submitted_at AS previous_at
       FROM enhancement_history h
       LEFT JOIN enhancement_feedback f ON f.tenant_id = h.tenant_id AND f.job_id = h.job_id
      WHERE h.tenant_id = $1 AND h.job_id = $2
      FOR UPDATE OF h`,
    [tx.tenantId, f.jobId],
  );
  const job = known[0];
  if (!job) return false;
  // An older answer than the stored one, delivered late: already superseded.
  if (job.previous_at && new Date(job.previous_at).getTime() > Date.parse(f.submittedAt))
    return true;
  await tx.query(
    `INSERT INTO enhancement_feedback
       (tenant_id, job_id, rating, relevant, helped, quality, accuracy, reason, submitted_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (tenant_id, job_id) DO UPDATE SET
       rating = EXCLUDED.rating, relevant = EXCLUDED.relevant, helped = EXCLUDED.helped,
       quality = EXCLUDED.quality, accuracy = EXCLUDED.accuracy, reason = EXCLUDED.reason,
       submitted_at = EXCLUDED.submitted_at,
       submissions = enhancement_feedback.submissions + 1, updated_at = now()`,
    [
      tx.tenantId,
      f.jobId,
      f.rating,
      f.relevant ?? null,
      f.helped ?? null,
      f.quality ?? null,
      f.accuracy ?? null,
      f.reason || null,
      f.submittedAt,
    ],
  );
  // The note's first related ticket is the one its likely cause rests on: the rating is
  // about it. (Crediting every cited ticket moved right answers down with wrong ones:
  // docs/retrieval-quality.md, "Feedback".)
  const related = (job.related ?? []).slice(0, 1);
  if (related.length > 0 && job.previous !== f.rating) {
    const vote = (rating: string | null) => [
      rating === 'helpful' ? 1 : 0,
      rating === 'not_helpful' ? 1 : 0,
    ];
    const [addHelpful, addNot] = vote(f.rating);
    const [dropHelpful, dropNot] = vote(job.previous);
    await tx.query(
      `INSERT INTO ticket_feedback (tenant_id, ticket_ref, helpful, not_helpful)
       SELECT $1, ref, $3::int, $4::int FROM unnest($2::text[]) AS ref
       ON CONFLICT (tenant_id, ticket_ref) DO UPDATE SET
         helpful = greatest(0, ticket_feedback.helpful + $3::int - $5::int),
         not_helpful = greatest(0, ticket_feedback.not_helpful + $4::int - $6::int),
         updated_at = now()`,
      [tx.tenantId, related, addHelpful, addNot, dropHelpful, dropNot],
    );
  }
  return true;
}

export interface FeedbackRow {
  job_id: string;
  ticket_id: string | null;
  rating: 'helpful' | 'not_helpful';
  relevant: 'yes' | 'no' | null;
  helped: 'yes' | 'no' | 'partially' | null;
  quality: number | null;
  accuracy: number | null;
  reason: string | null;
  submissions: number;
  submitted_at: string;
}

/** The tenant's feedback, newest first (for the admin API and `tep report`). */
export async function listFeedback(
  tx: TenantTransaction,
  options: { since?: string; limit: number },
): Promise<FeedbackRow[]> {
  return tx.query<FeedbackRow>(
    `SELECT f.job_id, h.ticket_id, f.rating, f.relevant, f.helped, f.quality, f.accuracy,
            f.reason, f.submissions, to_char(f.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS submitted_at
       FROM enhancement_feedback f
       LEFT JOIN enhancement_history h ON h.tenant_id = f.tenant_id AND h.job_id = f.job_id
      WHERE f.tenant_id = $1 AND ($2::timestamptz IS NULL OR f.submitted_at >= $2)
      ORDER BY f.submitted_at DESC
      LIMIT $3`,
    [tx.tenantId, options.since ?? null, options.limit],
  );
}

/** The runbook's step 6.3 figures and their targets. */
export interface FeedbackSummary {
  ratings: number;
  helpful: number;
  not_helpful: number;
  /** Share of ratings that are "helpful" (null without ratings). */
  helpful_rate: number | null;
  /** Share of "yes" among answers to "relevant?" (target ≥ 0.8). */
  relevance_yes_rate: number | null;
  helped: { yes: number; partially: number; no: number };
  /** Averages of the 1–5 answers (targets ≥ 4). */
  average_quality: number | null;
  average_accuracy: number | null;
}

export async function feedbackSummary(
  tx: TenantTransaction,
  options: { since?: string } = {},
): Promise<FeedbackSummary> {
  const [row] = await tx.query<Record<string, string | null>>(
    `SELECT count(*) AS ratings,
            count(*) FILTER (WHERE rating = 'helpful') AS helpful,
            count(*) FILTER (WHERE relevant IS NOT NULL) AS relevance_answers,
            count(*) FILTER (WHERE relevant = 'yes') AS relevant_yes,
            count(*) FILTER (WHERE helped = 'yes') AS helped_yes,
            count(*) FILTER (WHERE helped = 'partially') AS helped_partially,
            count(*) FILTER (WHERE helped = 'no') AS helped_no,
            avg(quality) AS quality, avg(accuracy) AS accuracy
       FROM enhancement_feedback
      WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR submitted_at >= $2)`,
    [tx.tenantId, options.since ?? null],
  );
  const n = (v: string | null | undefined) => Number(v ?? 0);
  const ratings = n(row?.ratings);
  const helpful = n(row?.helpful);
  const relevanceAnswers = n(row?.relevance_answers);
  const avg = (v: string | null | undefined) =>
    v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100;
  return {
    ratings,
    helpful,
    not_helpful: ratings - helpful,
    helpful_rate: ratings ? helpful / ratings : null,
    relevance_yes_rate: relevanceAnswers ? n(row?.relevant_yes) / relevanceAnswers : null,
    helped: { yes: n(row?.helped_yes), partially: n(row?.helped_partially), no: n(row?.helped_no) },
    average_quality: avg(row?.quality),
    average_accuracy: avg(row?.accuracy),
  };
}
