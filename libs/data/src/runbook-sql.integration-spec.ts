/**
 * The runbook's own SQL, run as written (as the admin the runbook says it
 * needs): step 2.2's INSERT, step 2.3's verification, prerequisite 5 and
 * troubleshooting issue 3.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@tep/testing';

const RUNBOOK_TENANT = '550e8400-e29b-41d4-a716-446655440000';
const sql = (name: string) => readFileSync(join(__dirname, 'runbook-sql', name), 'utf8');

describe('runbook SQL', () => {
  let db: TestDatabase;
  let admin: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('step 2.2 inserts the tenant and step 2.3 reads it back', async () => {
    await admin.query(sql('step-2.2-tenant-insert.sql'));
    const { rows } = await admin.query(sql('step-2.3-verify.sql'));
    expect(rows).toEqual([
      expect.objectContaining({
        tenant_id: RUNBOOK_TENANT,
        name: 'Acme Corp MSP',
        servicedesk_url: 'https://servicedesk.acmecorp.com',
        llm_model: 'openai/gpt-4o-mini',
      }),
    ]);
  });

  it('prerequisite 5 finds 3+ policies on current_setting(app.current_tenant_id)', async () => {
    const { rows } = await admin.query<{ tablename: string; policyname: string }>(
      sql('prerequisite-5-policies.sql'),
    );
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(new Set(rows.map((r) => r.tablename))).toEqual(
      new Set(['tenant_configs', 'enhancement_history', 'ticket_history', 'system_inventory']),
    );
    const quals = await admin.query<{ tablename: string; policyname: string; qual: string }>(
      sql('troubleshooting-3-policies.sql'),
    );
    const isolation = quals.rows.filter((r) => r.policyname.endsWith('_tenant_isolation'));
    expect(isolation).toHaveLength(4);
    for (const r of isolation) expect(r.qual).toContain("current_setting('app.current_tenant_id'");
    // The only other policy is the registry's opt-in admin path.
    expect(quals.rows.filter((r) => !r.policyname.endsWith('_tenant_isolation'))).toEqual([
      expect.objectContaining({
        policyname: 'tenant_configs_registry_admin',
        qual: expect.stringContaining("current_setting('app.registry_admin'"),
      }),
    ]);
  });

  it('troubleshooting 3 shows rowsecurity = true for all four tables', async () => {
    const { rows } = await admin.query<{ tablename: string; rowsecurity: boolean }>(
      sql('troubleshooting-3-rowsecurity.sql'),
    );
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.rowsecurity)).toBe(true);
  });

  it('troubleshooting 3 manual test returns 0 rows for another tenant as the app role', async () => {
    const app = new Client({ connectionString: db.appUrl });
    await app.connect();
    try {
      await admin.query(
        `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id) VALUES (gen_random_uuid(), gen_random_uuid(), 'X')`,
      );
      const results = (await app.query(sql('troubleshooting-3-manual.sql'))) as unknown as {
        rows: unknown[];
      }[];
      expect(results[1].rows).toHaveLength(0);
    } finally {
      await app.end();
    }
  });
});
