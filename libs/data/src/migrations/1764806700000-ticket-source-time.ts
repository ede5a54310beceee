import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When SDP last changed each ticket (the webhook's `last_updated_time`), so
 * a ticket's stored state only moves forward in its own time: a delivery of
 * an older state (an SDP retry arriving late, a captured webhook replayed)
 * does not roll a status or resolution back.
 */
export class TicketSourceTime1764806700000 implements MigrationInterface {
  name = 'TicketSourceTime1764806700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ticket_history ADD COLUMN source_updated_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ticket_history DROP COLUMN source_updated_at`);
  }
}
