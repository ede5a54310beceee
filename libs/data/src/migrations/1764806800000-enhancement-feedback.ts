import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CURRENT_TENANT } from './1732780800000-tenant-schema';

/** Technicians' feedback on notes: tenant data (forced RLS, purged on offboarding). */
export const FEEDBACK_TABLE = 'enhancement_feedback';

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
    await q.query(`ALTER TABLE enhancement_feedback ENABLE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE enhancement_feedback FORCE ROW LEVEL SECURITY`);
    await q.query(`
      CREATE POLICY enhancement_feedback_tenant_isolation ON enhancement_feedback FOR ALL
        USING (tenant_id = ${CURRENT_TENANT}) WITH CHECK (tenant_id = ${CURRENT_TENANT})`);
    await q.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON enhancement_feedback TO tep_application`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS enhancement_feedback`);
  }
}
