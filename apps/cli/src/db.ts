/**
 * PostgreSQL access for `tep`, always as the role DATABASE_URL names (the
 * application role by default), so every tenant read goes through RLS
 * exactly as the services' reads do.
 */
import { Client } from 'pg';
import { isUuid } from '@tep/data';
import { UnreachableError, UsageError, errorMessage, notTenantId } from './errors';

const CONNECT_TIMEOUT_MS = 5_000;

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function connectFailure(url: string, error: unknown): Error {
  const code = (error as { code?: string }).code ?? '';
  // 28xxx: authentication; 3D000: no such database — the URL is wrong, not the network.
  if (code.startsWith('28') || code === '3D000') {
    return new UsageError(`PostgreSQL refused ${redactUrl(url)}: ${errorMessage(error)}`);
  }
  return new UnreachableError(
    `PostgreSQL unreachable at ${redactUrl(url)}: ${code || errorMessage(error)}`,
  );
}

export async function withPg<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'tep-cli',
  });
  // An idle-connection error after connect must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectFailure(url, error);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A read-only transaction under one tenant's RLS context, set the way
 * TenantDatabase.withTenant sets it (local to the transaction). Read-only
 * because nothing `tep` reports on should ever write tenant rows.
 */
export async function readAsTenant<T>(
  client: Client,
  tenantId: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!isUuid(tenantId)) throw notTenantId(tenantId);
  await client.query('BEGIN TRANSACTION READ ONLY');
  try {
    await client.query(`SELECT set_config('app.current_tenant_id', $1, true)`, [tenantId]);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export interface EnhancementStats {
  posted: number;
  failed: number;
  pending: number;
  /** posted / (posted + failed); null when nothing finished yet. */
  success_rate: number | null;
  last_error: string | null;
  last_received_at: string | null;
}

/** The tenant's recent enhancement_history outcomes, read under its RLS context. */
export async function enhancementStats(
  client: Client,
  tenantId: string,
  sinceHours: number,
): Promise<EnhancementStats> {
  return readAsTenant(client, tenantId, async () => {
    const { rows } = await client.query<{
      posted: number;
      failed: number;
      pending: number;
      last_error: string | null;
      last_received_at: Date | null;
    }>(
      `SELECT count(*) FILTER (WHERE status = 'posted')::int AS posted,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'pending')::int AS pending,
              (array_agg(error ORDER BY updated_at DESC) FILTER (WHERE status = 'failed'))[1] AS last_error,
              max(received_at) AS last_received_at
         FROM enhancement_history
        WHERE received_at > now() - make_interval(hours => $1)`,
      [sinceHours],
    );
    const row = rows[0];
    const finished = row.posted + row.failed;
    return {
      posted: row.posted,
      failed: row.failed,
      pending: row.pending,
      success_rate: finished === 0 ? null : row.posted / finished,
      last_error: row.last_error,
      last_received_at: row.last_received_at ? new Date(row.last_received_at).toISOString() : null,
    };
  });
}

export interface JobRow {
  status: 'pending' | 'posted' | 'failed';
  note_id: string | null;
  error: string | null;
}

export async function findJob(
  client: Client,
  tenantId: string,
  jobId: string,
): Promise<JobRow | undefined> {
  return readAsTenant(client, tenantId, async () => {
    const { rows } = await client.query<JobRow>(
      `SELECT status, note_id, error FROM enhancement_history WHERE job_id = $1`,
      [jobId],
    );
    return rows[0];
  });
}
