import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@tep/testing';

/**
 * What each service's database role may do with tenant_configs, connected
 * as that role under the tenant's own RLS context: a compromised gatherer or
 * synthesizer reads no secret, a compromised poster reads the SDP credential
 * but can point it nowhere, and only the registry writes.
 */
describe('database grants per service role', () => {
  let db: TestDatabase;
  const tenantId = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase();
    const admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    await admin.query(
      `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted, webhook_signing_secret_encrypted)
       VALUES ($1, 'Grants', 'https://sdp.example.org', 'gAAAA-credential', 'gAAAA-webhook-secret')`,
      [tenantId],
    );
    await admin.end();
  });
  afterAll(() => db?.drop());

  /** Runs one statement as the role, in the tenant's context: 'ok' or the error's SQLSTATE. */
  async function as(url: string, sql: string, registryAdmin = false): Promise<string> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.current_tenant_id', $1, true)`, [tenantId]);
      if (registryAdmin) await client.query(`SELECT set_config('app.registry_admin', 'on', true)`);
      const result = await client.query(sql);
      await client.query('ROLLBACK');
      return result.rowCount === 0 && /^(UPDATE|DELETE)/.test(sql) ? 'no rows' : 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    } finally {
      await client.end();
    }
  }

  const DENIED = '42501'; // insufficient_privilege
  const readPreferences = `SELECT enhancement_preferences, servicedesk_url, status FROM tenant_configs`;
  const readCredential = `SELECT servicedesk_api_key_encrypted FROM tenant_configs`;
  const readWebhookSecret = `SELECT webhook_signing_secret_encrypted FROM tenant_configs`;
  const moveUrl = `UPDATE tenant_configs SET servicedesk_url = 'https://attacker.example'`;
  const insert = `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted, webhook_signing_secret_encrypted)
                  VALUES (current_setting('app.current_tenant_id')::uuid, 'x', 'https://x', 'k', 's')`;

  it('the application role (gatherer, synthesizer) reads preferences, no secret, and writes nothing', async () => {
    expect(await as(db.appUrl, readPreferences)).toBe('ok');
    expect(await as(db.appUrl, readCredential)).toBe(DENIED);
    expect(await as(db.appUrl, readWebhookSecret)).toBe(DENIED);
    expect(await as(db.appUrl, `SELECT * FROM tenant_configs`)).toBe(DENIED);
    expect(await as(db.appUrl, moveUrl)).toBe(DENIED);
    expect(await as(db.appUrl, insert)).toBe(DENIED);
    expect(await as(db.appUrl, `DELETE FROM tenant_configs`)).toBe(DENIED);
  });

  it('the poster reads the SDP credential but no webhook secret, and cannot change the URL', async () => {
    expect(await as(db.posterUrl, `${readCredential}, ${readPreferences.slice(7)}`)).not.toBe(
      DENIED,
    );
    expect(await as(db.posterUrl, readCredential)).toBe('ok');
    expect(await as(db.posterUrl, readWebhookSecret)).toBe(DENIED);
    expect(await as(db.posterUrl, moveUrl)).toBe(DENIED);
    expect(await as(db.posterUrl, insert)).toBe(DENIED);
    // Its own work: job records.
    expect(
      await as(
        db.posterUrl,
        `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id) VALUES (current_setting('app.current_tenant_id')::uuid, gen_random_uuid(), 'T-1')`,
      ),
    ).toBe('ok');
  });

  it('only the registry writes tenant_configs', async () => {
    expect(await as(db.registryUrl, moveUrl, true)).toBe('ok');
    expect(await as(db.registryUrl, readWebhookSecret, true)).toBe('ok');
  });

  it('keeps audit_log append-only for every role', async () => {
    for (const url of [db.appUrl, db.posterUrl, db.registryUrl]) {
      expect(await as(url, `UPDATE audit_log SET action = 'x'`, true)).toBe(DENIED);
      expect(await as(url, `DELETE FROM audit_log`, true)).toBe(DENIED);
    }
  });
});
