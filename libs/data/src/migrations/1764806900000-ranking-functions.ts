import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The two ranking functions, same values, at half the cost per matched
 * word (docs/benchmarks.md, measured with pg_stat_statements):
 *
 * - tep_bm25_tf is inlined now. The planner refuses to inline a SQL
 *   function that uses a parameter twice when the argument is an
 *   expression (the inlined tep_field_tf), so `tf / (tf + k)` ran as its own
 *   function call, with its own executor start-up, for every matched word
 *   of every candidate — about 1,250 calls per similar-tickets query.
 *   `1 - k / (tf + k)` uses `tf` once (k = 1.2 · (0.5 + 0.5 · len / avglen):
 *   k1 = 1.2, b = 0.5); it differs by at most one unit in the last place.
 * - tep_field_tf counts in integers and divides once in float8 instead of
 *   computing in numeric: (5·all + 15·A − C) / 5 is subject ×4, resolution
 *   ×0.8, the rest ×1, and the correctly rounded division gives exactly the
 *   double the numeric expression was cast to.
 */
export class RankingFunctions1764806900000 implements MigrationInterface {
  name = 'RankingFunctions1764806900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION tep_bm25_tf(tf float8, len float8, avglen float8) RETURNS float8
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT 1 - 1.2 * (0.5 + 0.5 * len / greatest(avglen, 1))
                   / (tf + 1.2 * (0.5 + 0.5 * len / greatest(avglen, 1))) $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION tep_field_tf(weights text[]) RETURNS float8
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT coalesce((5 * cardinality(weights)
                           + 15 * cardinality(array_positions(weights, 'A'))
                           - cardinality(array_positions(weights, 'C'))) / 5.0::float8, 0) $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION tep_bm25_tf(tf float8, len float8, avglen float8) RETURNS float8
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT tf / (tf + 1.2 * (0.5 + 0.5 * len / greatest(avglen, 1))) $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION tep_field_tf(weights text[]) RETURNS float8
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT coalesce(cardinality(weights)
                          + 3.0 * cardinality(array_positions(weights, 'A'))
                          - 0.2 * cardinality(array_positions(weights, 'C')), 0)::float8 $$`);
  }
}
