import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CURRENT_TENANT, REGISTRY_ADMIN_SCOPE } from './1732780800000-tenant-schema';

/**
 * What the registry's admin operations need: a second webhook secret during
 * rotation (with the instant it stops working), the tenant's webhook
 * authentication scheme, the onboarding record, and an append-only audit
 * log that neither the services nor the owner can rewrite.
 */
export class RegistryOperations1732867200000 implements MigrationInterface {
  name = 'RegistryOperations1732867200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenant_configs
        ADD COLUMN webhook_signing_secret_previous_encrypted text,
        ADD COLUMN webhook_signing_secret_previous_expires_at timestamptz,
        -- 'static_header' is the weaker fallback for SDPs that cannot sign; never a default.
        ADD COLUMN webhook_auth_scheme text NOT NULL DEFAULT 'hmac'
          CHECK (webhook_auth_scheme IN ('hmac', 'static_header')),
        ADD COLUMN onboarding_record jsonb`);

    await q.query(`
      CREATE TABLE audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        tenant_id uuid,
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, occurred_at DESC)`);
    await q.query(`ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE audit_log FORCE ROW LEVEL SECURITY`);
    await q.query(`
      CREATE POLICY audit_log_tenant_isolation ON audit_log FOR SELECT
        USING (tenant_id = ${CURRENT_TENANT})`);
    await q.query(`
      CREATE POLICY audit_log_registry_admin ON audit_log FOR ALL TO tep_registry_admin
        USING (${REGISTRY_ADMIN_SCOPE}) WITH CHECK (${REGISTRY_ADMIN_SCOPE})`);
    // Append-only: no UPDATE or DELETE privilege for anyone but the owner,
    // and a trigger stops the owner too.
    await q.query(`GRANT SELECT ON audit_log TO tep_application`);
    await q.query(`GRANT SELECT, INSERT ON audit_log TO tep_registry_admin`);
    await q.query(`
      CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_log`);
    await q.query(`DROP FUNCTION IF EXISTS audit_log_is_append_only()`);
    await q.query(`
      ALTER TABLE tenant_configs
        DROP COLUMN webhook_signing_secret_previous_encrypted,
        DROP COLUMN webhook_signing_secret_previous_expires_at,
        DROP COLUMN webhook_auth_scheme,
        DROP COLUMN onboarding_record`);
  }
}
