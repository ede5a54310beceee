import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Columns of tenant_configs that hold secrets: no service reads them but its own. */
export const WEBHOOK_SECRET_COLUMNS = [
  'webhook_signing_secret_encrypted',
  'webhook_signing_secret_previous_encrypted',
] as const;
export const CREDENTIAL_COLUMN = 'servicedesk_api_key_encrypted';

/**
 * Least privilege on tenant_configs, by column (RLS still filters rows):
 *
 * - only the registry's role writes it (tep_registry_admin);
 * - the application role (gatherer, synthesizer) reads every column but the
 *   secrets — no SDP credential, no webhook secret;
 * - the poster (tep_credential_reader on top of the application role) also
 *   reads the SDP credential column, and can still change nothing.
 *
 * The group roles are created by `db:migrate` before the migrations run.
 * Columns added later are granted to no one until a migration says so.
 */
export class TenantConfigGrants1764806600000 implements MigrationInterface {
  name = 'TenantConfigGrants1764806600000';

  async up(q: QueryRunner): Promise<void> {
    const rows = (await q.query(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'tenant_configs'`,
    )) as { column_name: string }[];
    const secret = new Set<string>([...WEBHOOK_SECRET_COLUMNS, CREDENTIAL_COLUMN]);
    const readable = rows.map((r) => r.column_name).filter((c) => !secret.has(c));
    await q.query(`REVOKE ALL ON tenant_configs FROM tep_application`);
    await q.query(
      `GRANT SELECT (${readable.map((c) => `"${c}"`).join(', ')}) ON tenant_configs TO tep_application`,
    );
    await q.query(`GRANT SELECT (${CREDENTIAL_COLUMN}) ON tenant_configs TO tep_credential_reader`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_configs TO tep_registry_admin`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON tenant_configs FROM tep_credential_reader, tep_registry_admin`);
    await q.query(`REVOKE ALL ON tenant_configs FROM tep_application`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_configs TO tep_application`);
  }
}
