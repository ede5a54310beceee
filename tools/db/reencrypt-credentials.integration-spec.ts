import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { SecretCipher } from '@tep/encryption';
import { createTestDatabase, testEncryptionKey, type TestDatabase } from '@tep/testing';
import { reencryptCredentials } from './reencrypt-credentials';

describe('db:reencrypt-credentials', () => {
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

  it('moves credentials stored under the webhook-secret key to the credential key, once', async () => {
    const webhookKey = testEncryptionKey();
    const credentialKey = testEncryptionKey();
    const tenantId = randomUUID();
    await admin.query(
      `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted, webhook_signing_secret_encrypted)
       VALUES ($1, 'Before the split', 'https://sdp.example.org', $2, $3)`,
      [
        tenantId,
        SecretCipher.fromEnv(webhookKey).encrypt('SDPAPI_OLD'),
        SecretCipher.fromEnv(webhookKey).encrypt('s'),
      ],
    );
    const env = {
      DATABASE_REGISTRY_URL: db.registryUrl,
      SERVICEDESK_CREDENTIAL_KEY: credentialKey,
      TENANT_ENCRYPTION_KEY: webhookKey,
    };
    expect(await reencryptCredentials(env, () => undefined)).toEqual({
      tenants: 1,
      reencrypted: 1,
    });
    const { rows } = await admin.query<{ c: string }>(
      `SELECT servicedesk_api_key_encrypted AS c FROM tenant_configs WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(SecretCipher.fromEnv(credentialKey).decrypt(rows[0].c)).toBe('SDPAPI_OLD');
    expect(() => SecretCipher.fromEnv(webhookKey).decrypt(rows[0].c)).toThrow();
    const audit = await admin.query(
      `SELECT actor FROM audit_log WHERE tenant_id = $1 AND action = 'tenant.servicedesk_credential_reencrypted'`,
      [tenantId],
    );
    expect(audit.rows).toEqual([{ actor: 'db:reencrypt-credentials' }]);
    // Again: nothing left to do.
    expect(await reencryptCredentials(env, () => undefined)).toEqual({
      tenants: 1,
      reencrypted: 0,
    });
  });
});
