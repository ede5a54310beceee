import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The runbook's tables. Every table with a tenant_id gets row-level
 * security ENABLED and FORCED (so even the owner is filtered), one policy
 * that fails closed when no tenant is set, and an index leading with
 * tenant_id. Privileges go to group roles created by provisioning
 * (`tep_application`, `tep_registry_admin`), never to a table owner.
 */
export const TENANT_TABLES = [
  'tenant_configs',
  'enhancement_history',
  'ticket_history',
  'system_inventory',
  'kb_articles',
] as const;

/** NULLIF: after a SET LOCAL transaction ends the setting reads '' not NULL. */
export const CURRENT_TENANT = `(SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)`;

export const REGISTRY_ADMIN_SCOPE = `(SELECT current_setting('app.registry_admin', true) = 'on')`;

export class TenantSchema1732780800000 implements MigrationInterface {
  name = 'TenantSchema1732780800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant_configs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL UNIQUE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        servicedesk_url text NOT NULL,
        servicedesk_api_key_encrypted text NOT NULL,
        -- Non-secret connection settings: auth kind, portal, note wrapper key.
        servicedesk_settings jsonb NOT NULL DEFAULT '{}'::jsonb,
        webhook_signing_secret_encrypted text NOT NULL,
        enhancement_preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
        rate_limits jsonb NOT NULL DEFAULT '{}'::jsonb,
        tier text NOT NULL DEFAULT 'basic' CHECK (tier IN ('basic', 'premium')),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        admin_email text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE enhancement_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        job_id uuid NOT NULL,
        ticket_id text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'failed')),
        enhancement jsonb,
        note_id text,
        synthesizer text,
        model text,
        prompt_tokens integer,
        completion_tokens integer,
        error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        posted_at timestamptz,
        duration_ms integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, job_id)
      )`);
    await q.query(
      `CREATE INDEX enhancement_history_tenant_ticket_idx ON enhancement_history (tenant_id, ticket_id, created_at DESC)`,
    );

    await q.query(`
      CREATE TABLE ticket_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        ticket_id text NOT NULL,
        display_id text,
        subject text NOT NULL,
        description text NOT NULL DEFAULT '',
        priority text,
        status text,
        resolution text,
        requester_email text,
        source text NOT NULL DEFAULT 'webhook' CHECK (source IN ('webhook', 'backfill', 'import')),
        ticket_created_at timestamptz,
        resolved_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        search_vector tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector('english', coalesce(subject, '')), 'A') ||
          setweight(to_tsvector('english', coalesce(description, '')), 'B') ||
          setweight(to_tsvector('english', coalesce(resolution, '')), 'C')
        ) STORED,
        UNIQUE (tenant_id, ticket_id)
      )`);
    await q.query(
      `CREATE INDEX ticket_history_search_idx ON ticket_history USING gin (search_vector)`,
    );
    await q.query(
      `CREATE INDEX ticket_history_subject_trgm_idx ON ticket_history USING gin (subject gin_trgm_ops)`,
    );

    await q.query(`
      CREATE TABLE system_inventory (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        hostname text NOT NULL,
        ip_address inet,
        service_name text,
        status text NOT NULL DEFAULT 'unknown',
        description text,
        last_seen_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, hostname)
      )`);
    await q.query(
      `CREATE INDEX system_inventory_tenant_ip_idx ON system_inventory (tenant_id, ip_address)`,
    );

    await q.query(`
      CREATE TABLE kb_articles (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        article_id text NOT NULL,
        title text NOT NULL,
        content text NOT NULL DEFAULT '',
        keywords text,
        url text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        search_vector tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
          setweight(to_tsvector('english', coalesce(keywords, '')), 'A') ||
          setweight(to_tsvector('english', coalesce(content, '')), 'B')
        ) STORED,
        UNIQUE (tenant_id, article_id)
      )`);
    await q.query(`CREATE INDEX kb_articles_search_idx ON kb_articles USING gin (search_vector)`);

    for (const table of TENANT_TABLES) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`
        CREATE POLICY ${table}_tenant_isolation ON ${table}
          FOR ALL
          USING (tenant_id = ${CURRENT_TENANT})
          WITH CHECK (tenant_id = ${CURRENT_TENANT})`);
      await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO tep_application`);
    }
    // The registry's explicit admin path: only a tep_registry_admin member
    // that also opts in per transaction may see every tenant's config.
    await q.query(`
      CREATE POLICY tenant_configs_registry_admin ON tenant_configs
        FOR ALL TO tep_registry_admin
        USING (${REGISTRY_ADMIN_SCOPE}) WITH CHECK (${REGISTRY_ADMIN_SCOPE})`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...TENANT_TABLES].reverse()) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
