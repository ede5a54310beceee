import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The field-weighted term frequency without a set-returning subquery, so
 * PostgreSQL inlines it into the ranking queries instead of calling a SQL
 * function (with its own executor start-up) for every matched word of
 * every candidate: similar tickets and the outage check ran 2–3× faster
 * with the same scores (docs/benchmarks.md). Same weights: subject (A) 4,
 * resolution (C) 0.8, description (B) and unweighted (D) 1.
 */
export class InlineFieldTf1764806400000 implements MigrationInterface {
  name = 'InlineFieldTf1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION tep_field_tf(weights text[]) RETURNS float8
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT coalesce(cardinality(weights)
                          + 3.0 * cardinality(array_positions(weights, 'A'))
                          - 0.2 * cardinality(array_positions(weights, 'C')), 0)::float8 $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION tep_field_tf(weights text[]) RETURNS float8
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT coalesce(sum(CASE w WHEN 'A' THEN 4.0 WHEN 'B' THEN 1.0 WHEN 'C' THEN 0.8 ELSE 1.0 END), 0)::float8
            FROM unnest(weights) AS w $$`);
  }
}
