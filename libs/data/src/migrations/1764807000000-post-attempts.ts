import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many times the poster has started to post a job (claimJobPost). The
 * first attempt of a job cannot find its note on the ticket, so it skips
 * listing the ticket's notes for the job's marker; every later attempt (a
 * redelivery after a crash or a lost reply, a replay, a second writer)
 * lists them. One SDP call per note instead of two. A constant default:
 * PostgreSQL adds the column without rewriting the table.
 */
export class PostAttempts1764807000000 implements MigrationInterface {
  name = 'PostAttempts1764807000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE enhancement_history ADD COLUMN post_attempts integer NOT NULL DEFAULT 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE enhancement_history DROP COLUMN post_attempts`);
  }
}
