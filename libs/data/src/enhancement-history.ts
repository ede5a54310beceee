import type { TenantTransaction } from './tenant-database';

/**
 * enhancement_history: one row per job, pending → posted | failed. Every
 * stage writes it under the tenant's RLS context.
 */
export async function recordJobPending(
  tx: TenantTransaction,
  job: { jobId: string; ticketId: string; receivedAt: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status, received_at)
     VALUES ($1, $2, $3, 'pending', $4)
     ON CONFLICT (tenant_id, job_id) DO NOTHING`,
    [tx.tenantId, job.jobId, job.ticketId, job.receivedAt],
  );
}

/** A dead-lettered job: failed with its reason (never overwrites posted). */
export async function recordJobFailed(
  tx: TenantTransaction,
  job: { jobId: string; ticketId: string; error: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status, error)
     VALUES ($1, $2, $3, 'failed', $4)
     ON CONFLICT (tenant_id, job_id) DO UPDATE SET
       status = CASE WHEN enhancement_history.status = 'posted' THEN 'posted' ELSE 'failed' END,
       error = EXCLUDED.error,
       updated_at = now()`,
    [tx.tenantId, job.jobId, job.ticketId, job.error.slice(0, 2000)],
  );
}

export interface PostedJob {
  jobId: string;
  ticketId: string;
  noteId: string;
  enhancement: unknown;
  synthesizer: string;
  model: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

export async function recordJobPosted(tx: TenantTransaction, job: PostedJob): Promise<void> {
  await tx.query(
    `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status, note_id, enhancement, synthesizer,
                                      model, prompt_tokens, completion_tokens, posted_at)
     VALUES ($1, $2, $3, 'posted', $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (tenant_id, job_id) DO UPDATE SET
       status = 'posted', note_id = EXCLUDED.note_id, enhancement = EXCLUDED.enhancement,
       synthesizer = EXCLUDED.synthesizer, model = EXCLUDED.model,
       prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = EXCLUDED.completion_tokens,
       error = NULL, posted_at = now(),
       duration_ms = (extract(epoch FROM now() - enhancement_history.received_at) * 1000)::int,
       updated_at = now()`,
    [
      tx.tenantId,
      job.jobId,
      job.ticketId,
      job.noteId,
      JSON.stringify(job.enhancement),
      job.synthesizer,
      job.model,
      job.promptTokens,
      job.completionTokens,
    ],
  );
}

export interface JobRecord {
  status: 'pending' | 'posted' | 'failed';
  note_id: string | null;
}

export async function findJob(
  tx: TenantTransaction,
  jobId: string,
): Promise<JobRecord | undefined> {
  const rows = await tx.query<JobRecord>(
    `SELECT status, note_id FROM enhancement_history WHERE job_id = $1`,
    [jobId],
  );
  return rows[0];
}
