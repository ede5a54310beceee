import type { TenantTransaction } from './tenant-database';

/**
 * enhancement_history: one row per job, pending → posted | failed | skipped.
 * Every stage writes it under the tenant's RLS context.
 */
/**
 * Records a job as pending unless it is already recorded, and says which:
 * the state it was in, or `undefined` when this call created it.
 */
export async function recordJobPending(
  tx: TenantTransaction,
  // The replay branch looks the job up by its ticket too (JobOfTicket).
  job: JobOfTicket & { receivedAt: string; enhancedText?: string },
): Promise<{ earlierStatus: string | undefined }> {
  const rows = await tx.query<{ status: string; inserted: boolean }>(
    `WITH inserted AS (
       INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status, received_at, enhanced_text)
       VALUES ($1, $2, $3, 'pending', $4, $5)
       ON CONFLICT (tenant_id, job_id) DO NOTHING
       RETURNING status)
     SELECT status, true AS inserted FROM inserted
     UNION ALL
     SELECT status, false FROM enhancement_history
      WHERE tenant_id = $1 AND ticket_id = $3 AND job_id = $2 AND NOT EXISTS (SELECT 1 FROM inserted)`,
    [tx.tenantId, job.jobId, job.ticketId, job.receivedAt, job.enhancedText ?? null],
  );
  const row = rows[0];
  return { earlierStatus: row && !row.inserted ? row.status : undefined };
}

/** A job that ends on purpose without a note, with why (never overwrites posted). */
export async function recordJobSkipped(
  tx: TenantTransaction,
  job: { jobId: string; ticketId: string; reason: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status, skip_reason)
     VALUES ($1, $2, $3, 'skipped', $4)
     ON CONFLICT (tenant_id, job_id) DO UPDATE SET
       status = CASE WHEN enhancement_history.status = 'posted' THEN 'posted' ELSE 'skipped' END,
       skip_reason = EXCLUDED.skip_reason,
       updated_at = now()`,
    [tx.tenantId, job.jobId, job.ticketId, job.reason.slice(0, 500)],
  );
}

export interface TicketEnhancement {
  /** The latest job that enhanced the ticket (posted, or still on its way). */
  job_id: string;
  status: 'pending' | 'posted';
  /** The text that job was built from. */
  enhanced_text: string | null;
  /** The ticket's enhancement note: the first one posted (refreshes edit it in place). */
  note_id: string | null;
}

/** How the ticket was enhanced before, by jobs other than `exceptJobId`; undefined: never. */
export async function findTicketEnhancement(
  tx: TenantTransaction,
  ticketId: string,
  exceptJobId: string,
): Promise<TicketEnhancement | undefined> {
  const rows = await tx.query<TicketEnhancement>(
    `SELECT latest.job_id, latest.status, latest.enhanced_text,
            (SELECT note_id FROM enhancement_history
              WHERE tenant_id = $1 AND ticket_id = $2 AND status = 'posted' AND note_id IS NOT NULL
              ORDER BY created_at ASC LIMIT 1) AS note_id
       FROM (SELECT job_id, status, enhanced_text FROM enhancement_history
              WHERE tenant_id = $1 AND ticket_id = $2 AND job_id <> $3 AND status IN ('posted', 'pending')
              ORDER BY created_at DESC LIMIT 1) latest`,
    [tx.tenantId, ticketId, exceptJobId],
  );
  return rows[0];
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
  status: 'pending' | 'posted' | 'failed' | 'skipped';
  note_id: string | null;
}

/**
 * A job and the ticket it is for. Lookups of one job name both, so that any
 * index the planner may pick reads only the ticket's few jobs: with the job
 * alone, a prepared statement's generic plan made while the table was small
 * kept using the (tenant, ticket) index and filtering on job_id, reading
 * every job of the tenant — 210 pages per claim after 4,000 jobs
 * (docs/benchmarks.md).
 */
export interface JobOfTicket {
  jobId: string;
  ticketId: string;
}

export async function findJob(
  tx: TenantTransaction,
  job: JobOfTicket,
): Promise<JobRecord | undefined> {
  const rows = await tx.query<JobRecord>(
    `SELECT status, note_id FROM enhancement_history
      WHERE tenant_id = $1 AND ticket_id = $2 AND job_id = $3`,
    [tx.tenantId, job.ticketId, job.jobId],
  );
  return rows[0];
}

/**
 * The poster's claim on a job before it posts: counts the attempt
 * (post_attempts) and returns the job's record. `attempt` 1 of a pending
 * job is the first time any poster got this far with it, so no note of it
 * can be on the ticket yet; undefined: the job is not recorded.
 */
export async function claimJobPost(
  tx: TenantTransaction,
  job: JobOfTicket,
): Promise<(JobRecord & { attempt: number }) | undefined> {
  const rows = await tx.query<JobRecord & { attempt: number }>(
    `UPDATE enhancement_history SET post_attempts = post_attempts + 1
      WHERE tenant_id = $1 AND ticket_id = $2 AND job_id = $3
      RETURNING status, note_id, post_attempts AS attempt`,
    [tx.tenantId, job.ticketId, job.jobId],
  );
  return rows[0];
}
