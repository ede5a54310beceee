import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The index trigger's function: the vector, its length and eligibility; `extra` adds to its body. */
const indexFunction = (extra: string) => `
      CREATE OR REPLACE FUNCTION tep_ticket_history_index() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE cfg regconfig := tep_search_config(NEW.language);
        BEGIN
          NEW.retrieval_vector :=
            setweight(to_tsvector(cfg, coalesce(NEW.subject, '')), 'A') ||
            setweight(to_tsvector(cfg, left(coalesce(NEW.clean_description, NEW.description, ''), 20000)), 'B') ||
            setweight(to_tsvector(cfg, left(coalesce(NEW.resolution, ''), 20000)), 'C');
          NEW.retrieval_len := length(NEW.retrieval_vector);
          NEW.retrieval_eligible := tep_informative_resolution(NEW.resolution)
            AND lower(coalesce(NEW.status, '')) IN ('resolved', 'closed', 'completed');${extra}
          RETURN NEW;
        END $$`;

/**
 * Each ticket's words and their field-weighted frequencies as two arrays
 * (`retrieval_terms`, `retrieval_tf`), kept by the index trigger beside
 * `retrieval_vector`, so the ranking queries read a word's frequency
 * instead of computing it: unnesting a tsvector builds a positions array
 * and a weights array for every word of every ticket scored, and
 * tep_field_tf then searched the weights twice: the largest part of the
 * outage check's CPU (it cost 0.81–0.84 of before after this change,
 * docs/benchmarks.md, sixth pass). The frequencies are float8, the values
 * tep_field_tf gives, so every score stays the same.
 *
 * Nothing here rewrites the table, so the migration is online: rows written
 * before it get their arrays from `npm run db:reindex` (batched, resumable);
 * until then they are ranked by their subject only. (Scoring such rows from
 * the vector instead, in the same queries, cost every query up to 0.7 ms
 * more, about what the arrays save.)
 */
export class TermFrequencyArrays1764807100000 implements MigrationInterface {
  name = 'TermFrequencyArrays1764807100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE ticket_history ADD COLUMN retrieval_terms text[], ADD COLUMN retrieval_tf float8[]`,
    );
    // unnest gives a tsvector's words in its (sorted) order; an empty vector gives empty arrays.
    await q.query(
      indexFunction(`
          SELECT coalesce(array_agg(u.lexeme), '{}'), coalesce(array_agg(tep_field_tf(u.weights)), '{}')
            INTO NEW.retrieval_terms, NEW.retrieval_tf
            FROM unnest(NEW.retrieval_vector) AS u;`),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(indexFunction(''));
    await q.query(
      `ALTER TABLE ticket_history DROP COLUMN retrieval_terms, DROP COLUMN retrieval_tf`,
    );
  }
}
