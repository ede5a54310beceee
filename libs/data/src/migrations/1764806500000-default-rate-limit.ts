import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every tenant has a rate limit by default (DEFAULT_REQUESTS_PER_MINUTE in
 * @tep/contracts). Tenants created before it carry an explicit
 * `"requests_per_minute": null`, the old default, meaning no limit: the
 * key is removed so they read the default like a new tenant. An operator
 * who wants no limit sets null again.
 */
export class DefaultRateLimit1764806500000 implements MigrationInterface {
  name = 'DefaultRateLimit1764806500000';

  async up(q: QueryRunner): Promise<void> {
    // Every tenant's row: the owner is under forced RLS too, so it is lifted for
    // this one statement, inside the migration's transaction (nobody sees it off).
    await q.query(`ALTER TABLE tenant_configs NO FORCE ROW LEVEL SECURITY`);
    await q.query(`
      UPDATE tenant_configs SET rate_limits = rate_limits - 'requests_per_minute'
       WHERE rate_limits -> 'requests_per_minute' = 'null'::jsonb`);
    await q.query(`ALTER TABLE tenant_configs FORCE ROW LEVEL SECURITY`);
  }

  async down(): Promise<void> {
    // Nothing to restore: which tenants had the old default is not recorded.
  }
}
