import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One enhancement note per ticket (README "Tenant preferences": on_update,
 * min_confidence, low_confidence_action):
 *
 * - `skipped`: a job that ends on purpose without a note — an update of a
 *   ticket that already has one, a resolved ticket, a confidence below the
 *   tenant's minimum with `low_confidence_action: skip` — with its reason.
 * - `enhanced_text`: the subject and cleaned description a job was built
 *   from, so a later update can tell whether the text changed enough for
 *   the enhancement to change.
 * - Open tickets by arrival, for the possible-outage check (recent open
 *   look-alikes of the same tenant).
 */
export class OneNotePerTicket1764720000000 implements MigrationInterface {
  name = 'OneNotePerTicket1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE enhancement_history DROP CONSTRAINT enhancement_history_status_check`,
    );
    await q.query(`
      ALTER TABLE enhancement_history
        ADD CONSTRAINT enhancement_history_status_check
          CHECK (status IN ('pending', 'posted', 'failed', 'skipped')),
        ADD COLUMN skip_reason text,
        ADD COLUMN enhanced_text text`);
    await q.query(
      `CREATE INDEX ticket_history_tenant_recent_idx ON ticket_history (tenant_id, created_at DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ticket_history_tenant_recent_idx`);
    await q.query(`DELETE FROM enhancement_history WHERE status = 'skipped'`);
    await q.query(
      `ALTER TABLE enhancement_history DROP CONSTRAINT enhancement_history_status_check`,
    );
    await q.query(`
      ALTER TABLE enhancement_history
        DROP COLUMN skip_reason, DROP COLUMN enhanced_text,
        ADD CONSTRAINT enhancement_history_status_check CHECK (status IN ('pending', 'posted', 'failed'))`);
  }
}
