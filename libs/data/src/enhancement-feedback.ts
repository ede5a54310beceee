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
 * counts), an older one arriving late changes nothing. `false` when the job
 * is not this tenant's (or no longer exists): nothing is recorded.
 */
export async function recordFeedback(tx: TenantTransaction, f: FeedbackRecord): Promise<boolean> {
  const rows = await tx.query<{ job_id: string }>(
    `INSERT INTO enhancement_feedback
       (tenant_id, job_id, rating, relevant, helped, quality, accuracy, reason, submitted_at)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
      WHERE EXISTS (SELECT 1 FROM enhancement_history WHERE tenant_id = $1 AND job_id = $2)
     ON CONFLICT (tenant_id, job_id) DO UPDATE SET
       rating = EXCLUDED.rating, relevant = EXCLUDED.relevant, helped = EXCLUDED.helped,
       quality = EXCLUDED.quality, accuracy = EXCLUDED.accuracy, reason = EXCLUDED.reason,
       submitted_at = EXCLUDED.submitted_at,
       submissions = enhancement_feedback.submissions + 1, updated_at = now()
       WHERE enhancement_feedback.submitted_at <= EXCLUDED.submitted_at
     RETURNING job_id`,
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
  if (rows.length > 0) return true;
  // No row: not this tenant's job — or an older answer than the one stored, which counts as recorded.
  const known = await tx.query(
    `SELECT 1 FROM enhancement_feedback WHERE tenant_id = $1 AND job_id = $2`,
    [tx.tenantId, f.jobId],
  );
  return known.length > 0;
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
