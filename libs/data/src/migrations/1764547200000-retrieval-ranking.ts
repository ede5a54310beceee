import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CURRENT_TENANT } from './1732780800000-tenant-schema';

/**
 * Similar-ticket ranking worth trusting (docs/retrieval-quality.md):
 *
 * - `language` (detected by the application) picks the text-search
 *   configuration; unknown ('und') uses the language-neutral 'simple'.
 * - `clean_description` is the description without quoted replies,
 *   signatures, disclaimers and greetings (cleaned by the application; NULL
 *   until then, when the raw description is indexed).
 * - `retrieval_vector` / `retrieval_len` / `retrieval_eligible` are kept by a
 *   trigger from those columns, so every writer (webhook, back-fill, import
 *   SQL) indexes the same way; eligible = resolved with a resolution that
 *   says something ("fixed", "done", "duplicate" do not).
 * - Per-tenant document frequencies (`ticket_term_stats`) and corpus size
 *   (`ticket_corpus_stats`) make BM25 possible: a word is weighed by how
 *   rare it is in the tenant's own history. Both under forced RLS.
 *
 * Nothing here rewrites the table: existing rows are indexed afterwards,
 * batched and resumable (`npm run db:reindex`), so the migration is online.
 */
/** Per-tenant ranking statistics: tenant data too (forced RLS, purged on offboarding). */
export const RETRIEVAL_STATS_TABLES = ['ticket_term_stats', 'ticket_corpus_stats'] as const;

/** The statistics trigger's function as this migration made it (the postings migration extends it). */
export const TERM_STATS_FUNCTION = `
      CREATE OR REPLACE FUNCTION tep_ticket_term_stats() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.retrieval_eligible THEN
            UPDATE ticket_term_stats s SET df = s.df - 1
              FROM unnest(tsvector_to_array(OLD.retrieval_vector)) AS l(lexeme)
             WHERE s.tenant_id = OLD.tenant_id AND s.lexeme = l.lexeme;
            UPDATE ticket_corpus_stats SET docs = docs - 1, total_len = total_len - coalesce(OLD.retrieval_len, 0)
             WHERE tenant_id = OLD.tenant_id;
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
                    total_len = ticket_corpus_stats.total_len + EXCLUDED.total_len;
          END IF;
          RETURN NULL;
        END $$`;

export class RetrievalRanking1764547200000 implements MigrationInterface {
  name = 'RetrievalRanking1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE ticket_history
        ADD COLUMN language text CHECK (language IN ('en', 'de', 'fr', 'es', 'nl', 'und')),
        ADD COLUMN clean_description text,
        ADD COLUMN retrieval_vector tsvector,
        ADD COLUMN retrieval_len integer,
        ADD COLUMN retrieval_eligible boolean NOT NULL DEFAULT false`);

    await q.query(`
      CREATE FUNCTION tep_search_config(language text) RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT (CASE language
                    WHEN 'en' THEN 'english' WHEN 'de' THEN 'german' WHEN 'fr' THEN 'french'
                    WHEN 'es' THEN 'spanish' WHEN 'nl' THEN 'dutch' WHEN 'und' THEN 'simple'
                    ELSE 'english' END)::regconfig $$`);

    // A resolution a technician cannot act on, in the five languages we detect.
    await q.query(`
      CREATE FUNCTION tep_informative_resolution(resolution text) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT resolution IS NOT NULL
             AND length(btrim(resolution)) > 0
             AND lower(btrim(resolution)) !~ ('^(\\W*(ticket|issue|problem|request)?\\s*'
               || '(is\\s+|was\\s+|has been\\s+)?'
               || '(fixed|done|resolved|solved|closed|completed|ok|okay|sorted|n/?a|no action( needed)?|'
               || 'closed by (the )?user|user (says|said|confirmed|reports) (it )?(works|working|ok|fine)( now)?|'
               || 'works now|working now|duplicate( of .{0,40})?|dup|erledigt|gelöst|behoben|erl\\.?|'
               || 'résolu|resolu|réglé|fait|terminé|solucionado|resuelto|hecho|cerrado|opgelost|klaar|gedaan)'
               || '\\W*(now|thanks|thank you|danke|merci|gracias|bedankt)?\\W*)$') $$`);

    await q.query(`
      CREATE FUNCTION tep_ticket_history_index() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE cfg regconfig := tep_search_config(NEW.language);
        BEGIN
          NEW.retrieval_vector :=
            setweight(to_tsvector(cfg, coalesce(NEW.subject, '')), 'A') ||
            setweight(to_tsvector(cfg, left(coalesce(NEW.clean_description, NEW.description, ''), 20000)), 'B') ||
            setweight(to_tsvector(cfg, left(coalesce(NEW.resolution, ''), 20000)), 'C');
          NEW.retrieval_len := length(NEW.retrieval_vector);
          NEW.retrieval_eligible := tep_informative_resolution(NEW.resolution)
            AND lower(coalesce(NEW.status, '')) IN ('resolved', 'closed', 'completed');
          RETURN NEW;
        END $$`);
    await q.query(`
      CREATE TRIGGER ticket_history_index
        BEFORE INSERT OR UPDATE OF subject, description, clean_description, resolution, status, language
        ON ticket_history FOR EACH ROW EXECUTE FUNCTION tep_ticket_history_index()`);

    for (const ddl of [
      `CREATE TABLE ticket_term_stats (
         tenant_id uuid NOT NULL,
         lexeme text NOT NULL,
         df integer NOT NULL,
         PRIMARY KEY (tenant_id, lexeme))`,
      `CREATE TABLE ticket_corpus_stats (
         tenant_id uuid PRIMARY KEY,
         docs integer NOT NULL,
         total_len bigint NOT NULL)`,
    ]) {
      await q.query(ddl);
    }
    for (const table of RETRIEVAL_STATS_TABLES) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`
        CREATE POLICY ${table}_tenant_isolation ON ${table} FOR ALL
          USING (tenant_id = ${CURRENT_TENANT}) WITH CHECK (tenant_id = ${CURRENT_TENANT})`);
      await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO tep_application`);
    }

    // Only eligible rows count: they are the corpus a query searches.
    await q.query(TERM_STATS_FUNCTION);
    await q.query(`
      CREATE TRIGGER ticket_history_term_stats
        AFTER INSERT OR UPDATE OF retrieval_vector, retrieval_eligible OR DELETE
        ON ticket_history FOR EACH ROW EXECUTE FUNCTION tep_ticket_term_stats()`);

    // Tenant first: a query reads only its tenant's postings (btree_gin).
    await q.query(
      `CREATE INDEX ticket_history_retrieval_idx ON ticket_history
         USING gin (tenant_id, retrieval_vector) WHERE retrieval_eligible`,
    );
    await q.query(
      `CREATE INDEX ticket_history_eligible_subject_trgm_idx ON ticket_history
         USING gin (tenant_id, subject gin_trgm_ops) WHERE retrieval_eligible`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS ticket_history_term_stats ON ticket_history`);
    await q.query(`DROP TRIGGER IF EXISTS ticket_history_index ON ticket_history`);
    await q.query(`DROP TABLE IF EXISTS ticket_term_stats, ticket_corpus_stats`);
    await q.query(`DROP FUNCTION IF EXISTS tep_ticket_term_stats, tep_ticket_history_index,
                     tep_informative_resolution, tep_search_config`);
    await q.query(`ALTER TABLE ticket_history
      DROP COLUMN language, DROP COLUMN clean_description, DROP COLUMN retrieval_vector,
      DROP COLUMN retrieval_len, DROP COLUMN retrieval_eligible`);
  }
}
