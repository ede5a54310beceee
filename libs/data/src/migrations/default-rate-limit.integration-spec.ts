import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { DEFAULT_REQUESTS_PER_MINUTE, RateLimitsSchema } from '@tep/contracts';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import { MIGRATIONS } from './index';

/** Tenants created before the default existed carry an explicit null: the migration gives them the default. */
describe('migration DefaultRateLimit', () => {
  let db: TestDatabase;
  let owner: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    owner = new DataSource({
      type: 'postgres',
      url: db.ownerUrl,
      migrations: MIGRATIONS,
      migrationsTableName: 'typeorm_migrations',
      migrationsTransactionMode: 'each',
    });
    await owner.initialize();
  });
  afterAll(async () => {
    await owner?.destroy();
    await db?.drop();
  });

  it('turns the old explicit null into the default, and leaves chosen limits alone', async () => {
    const index = MIGRATIONS.findIndex((m) => m.name === 'DefaultRateLimit1764806500000');
    for (let i = MIGRATIONS.length - 1; i >= index; i--) await owner.undoLastMigration();
    const admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    try {
      const [old, chosen] = [randomUUID(), randomUUID()];
      for (const [id, limits] of [
        [old, { requests_per_minute: null }],
        [chosen, { requests_per_minute: 30 }],
      ] as const) {
        await admin.query(
          `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted, webhook_signing_secret_encrypted, rate_limits)
           VALUES ($1, 'Before', 'https://sdp.example.org', 'k', 's', $2)`,
          [id, JSON.stringify(limits)],
        );
      }
      await owner.runMigrations();
      const { rows } = await admin.query<{ tenant_id: string; rate_limits: object }>(
        `SELECT tenant_id, rate_limits FROM tenant_configs WHERE tenant_id = ANY($1)`,
        [[old, chosen]],
      );
      const byId = Object.fromEntries(rows.map((r) => [r.tenant_id, r.rate_limits]));
      expect(byId[old]).toEqual({});
      expect(RateLimitsSchema.parse(byId[old]).requests_per_minute).toBe(
        DEFAULT_REQUESTS_PER_MINUTE,
      );
      expect(byId[chosen]).toEqual({ requests_per_minute: 30 });
    } finally {
      await admin.end();
    }
  });
});
