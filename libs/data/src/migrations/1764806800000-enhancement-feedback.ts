import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CURRENT_TENANT } from './1732780800000-tenant-schema';

/** Technicians' feedback on notes: tenant data (forced RLS, purged on offboarding). */
export const FEEDBACK_TABLE = 'enhancement_feedback';
/** Per resolved ticket, the ratings of the notes that cited it (retrieval's feedback boost). */
export const TICKET_FEEDBACK_TABLE = 'ticket_feedback';

/**
 * One row per job's note: the latest answer of the technicians who rated
 * it (runbook step 6.3), and how many answers it had.
 */
export class EnhancementFeedback1764806800000 implements MigrationInterface {
  name = 'EnhancementFeedback1764806800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE enhancement_feedback (
        tenant_id uuid NOT NULL,
        job_id uuid NOT NULL,
        rating text NOT NULL CHECK (rating IN ('helpful', 'not_helpful')),
        relevant text CHECK (relevant IN ('yes', 'no')),
        helped text CHECK (helped IN ('yes', 'no', 'partially')),
        quality smallint CHECK (quality BETWEEN 1 AND 5),
        accuracy smallint CHECK (accuracy BETWEEN 1 AND 5),
        reason text CHECK (char_length(reason) <= 2000),
        submitted_at timestamptz NOT NULL,
        submissions integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, job_id))`);
    await q.query(
      `CREATE INDEX enhancement_feedback_recent_idx ON enhancement_feedback (tenant_id, submitted_at DESC)`,
    );
    // ticket_ref: the id the note cited (display id, else ticket id), as related_tickets holds it.
    await q.query(`
      CREATE TABLE ticket_feedback (
        tenant_id uuid NOT NULL,
        ticket_ref text NOT NULL,
        helpful integer NOT NULL DEFAULT 0 CHECK (helpful >= 0),
        not_helpful integer NOT NULL DEFAULT 0 CHECK (not_helpful >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, ticket_ref))`);
    for (const table of ['enhancement_feedback', 'ticket_feedback']) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`
        CREATE POLICY ${table}_tenant_isolation ON ${table} FOR ALL
          USING (tenant_id = ${CURRENT_TENANT}) WITH CHECK (tenant_id = ${CURRENT_TENANT})`);
      await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO tep_application`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ticket_feedback`);
    await q.query(`DROP TABLE IF EXISTS enhancement_feedback`);
  }
}
