import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CURRENT_TENANT } from './1732780800000-tenant-schema';
import { TERM_STATS_FUNCTION } from './1764547200000-retrieval-ranking';

/**
 * Similar tickets fast at any tenant size (docs/benchmarks.md, context part).
 *
 * Under row-level security PostgreSQL only turns a condition into an index
 * condition when its operator is leakproof: `=` on uuid and text is, `@@`
 * (tsvector match) is not, so the GIN index on `retrieval_vector` could only
 * narrow to the tenant and every query filtered all of the tenant's rows
 * (half a second for a tenant with 100,000 tickets). Marking `@@` leakproof
 * needs a superuser, which managed PostgreSQL does not give.
 *
 * `ticket_postings` is the inverted index as a plain table: one row per
 * (eligible ticket, lexeme) with the lexeme's BM25 term-frequency part
 * (`impact`, field-weighted and length-normalised when written). Read with
 * `tenant_id = … AND lexeme = …` (leakproof) in `impact DESC` order, a btree
 * gives each query word's best tickets without touching the others
 * (impact-ordered postings, as search engines keep them).
 *
 * Kept by the same trigger as the document frequencies, so every writer
 * (webhook, back-fill, import SQL, reindex) fills it. Rows written before
 * this migration get their postings from `npm run db:reindex` (batched,
 * resumable), which also recounts each tenant's statistics (rows resolved
 * by an update were missed before, see the trigger below); until then those
 * rows are found only by the trigram branch.
 */
export const RETRIEVAL_POSTINGS_TABLE = 'ticket_postings';

/** Field weights of a lexeme's positions: subject ×4, description ×1, resolution ×0.8. */
const FIELD_TF = `
  CREATE FUNCTION tep_field_tf(weights text[]) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT coalesce(sum(CASE w WHEN 'A' THEN 4.0 WHEN 'B' THEN 1.0 WHEN 'C' THEN 0.8 ELSE 1.0 END), 0)::float8
        FROM unnest(weights) AS w $$`;

/** BM25's saturated term frequency (k1 = 1.2, b = 0.5), the one definition the query shares. */
const BM25_TF = `
  CREATE FUNCTION tep_bm25_tf(tf float8, len float8, avglen float8) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT tf / (tf + 1.2 * (0.5 + 0.5 * len / greatest(avglen, 1))) $$`;

export class RetrievalPostings1764633600000 implements MigrationInterface {
  name = 'RetrievalPostings1764633600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(FIELD_TF);
    await q.query(BM25_TF);
    await q.query(`
      CREATE TABLE ticket_postings (
        ticket_row uuid NOT NULL,
        lexeme text NOT NULL,
        tenant_id uuid NOT NULL,
        impact real NOT NULL,
        PRIMARY KEY (ticket_row, lexeme))`);
    await q.query(`
      CREATE INDEX ticket_postings_impact_idx
        ON ticket_postings (tenant_id, lexeme, impact DESC) INCLUDE (ticket_row)`);
    await q.query(`ALTER TABLE ticket_postings ENABLE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE ticket_postings FORCE ROW LEVEL SECURITY`);
    await q.query(`
      CREATE POLICY ticket_postings_tenant_isolation ON ticket_postings FOR ALL
        USING (tenant_id = ${CURRENT_TENANT}) WITH CHECK (tenant_id = ${CURRENT_TENANT})`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ticket_postings TO tep_application`);

    // The statistics trigger of the retrieval migration, now also keeping the postings.
    await q.query(`
      CREATE OR REPLACE FUNCTION tep_ticket_term_stats() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE avglen float8;
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD.retrieval_eligible = NEW.retrieval_eligible
             AND OLD.retrieval_vector IS NOT DISTINCT FROM NEW.retrieval_vector THEN
            RETURN NULL;
          END IF;
          IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.retrieval_eligible THEN
            UPDATE ticket_term_stats s SET df = s.df - 1
              FROM unnest(tsvector_to_array(OLD.retrieval_vector)) AS l(lexeme)
             WHERE s.tenant_id = OLD.tenant_id AND s.lexeme = l.lexeme;
            UPDATE ticket_corpus_stats SET docs = docs - 1, total_len = total_len - coalesce(OLD.retrieval_len, 0)
             WHERE tenant_id = OLD.tenant_id;
            DELETE FROM ticket_postings WHERE ticket_row = OLD.id;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.retrieval_eligible THEN
            INSERT INTO ticket_term_stats (tenant_id, lexeme, df)
              SELECT NEW.tenant_id, l.lexeme, 1
                FROM unnest(tsvector_to_array(NEW.retrieval_vector)) AS l(lexeme)
                ORDER BY l.lexeme
              ON CONFLICT (tenant_id, lexeme) DO UPDATE SET df = ticket_term_stats.df + 1;
            INSERT INTO ticket_corpus_stats (tenant_id, docs, total_len)
              VALUES (NEW.tenant_id, 1, coalesce(NEW.retrieval_len, 0))
              ON CONFLICT (tenant_id) DO UPDATE
                SET docs = ticket_corpus_stats.docs + 1,
                    total_len = ticket_corpus_stats.total_len + EXCLUDED.total_len
              RETURNING total_len::float8 / greatest(docs, 1) INTO avglen;
            INSERT INTO ticket_postings (ticket_row, lexeme, tenant_id, impact)
              SELECT NEW.id, u.lexeme, NEW.tenant_id,
                     tep_bm25_tf(tep_field_tf(u.weights), coalesce(NEW.retrieval_len, 0), avglen)
                FROM unnest(NEW.retrieval_vector) AS u;
          END IF;
          RETURN NULL;
        END $$`);
    // "UPDATE OF retrieval_vector" never fired: the vector is set by the BEFORE
    // trigger, not named by the UPDATE, so a ticket resolved by a later update
    // was never counted. Now every update reaches the function, which returns
    // at once when neither the vector nor eligibility changed.
    // The postings replace it: under RLS it could only narrow to the tenant.
    await q.query(`DROP INDEX ticket_history_retrieval_idx`);
    await q.query(`DROP TRIGGER ticket_history_term_stats ON ticket_history`);
    await q.query(`
      CREATE TRIGGER ticket_history_term_stats
        AFTER INSERT OR UPDATE OR DELETE
        ON ticket_history FOR EACH ROW EXECUTE FUNCTION tep_ticket_term_stats()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER ticket_history_term_stats ON ticket_history`);
    await q.query(`
      CREATE TRIGGER ticket_history_term_stats
        AFTER INSERT OR UPDATE OF retrieval_vector, retrieval_eligible OR DELETE
        ON ticket_history FOR EACH ROW EXECUTE FUNCTION tep_ticket_term_stats()`);
    await q.query(TERM_STATS_FUNCTION);
    await q.query(
      `CREATE INDEX ticket_history_retrieval_idx ON ticket_history
         USING gin (tenant_id, retrieval_vector) WHERE retrieval_eligible`,
    );
    await q.query(`DROP TABLE IF EXISTS ticket_postings`);
    await q.query(`DROP FUNCTION IF EXISTS tep_bm25_tf, tep_field_tf`);
  }
}
