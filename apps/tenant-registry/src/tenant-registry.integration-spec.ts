/**
 * The registry's admin API against real Postgres (as the registry role) and
 * real NATS KV: authentication, validation, encryption at rest, and the
 * directory entry the ingress reads.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Kvm, type KV } from '@nats-io/kv';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { TenantDirectoryEntrySchema } from '@tep/contracts';
import { SecretCipher } from '@tep/encryption';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import { testEncryptionKey } from '@tep/testing';
import { createTestNats, type TestNats } from '@tep/testing';
import { AppModule } from './app.module';
import { loadRegistryConfig } from './config/registry.config';

const TOKEN = 'x'.repeat(40);
const PRESEEDED_TENANT = '550e8400-e29b-41d4-a716-446655440000';

describe('tenant registry', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let app: INestApplication;
  let baseUrl: string;
  let kv: KV;
  let admin: Client;
  const key = testEncryptionKey();
  const cipher = SecretCipher.fromEnv(key);

  const createTenant = (body: unknown, token = TOKEN) =>
    fetch(`${baseUrl}/tenants`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });

  const validBody = {
    name: 'Acme Corp MSP',
    servicedesk_url: 'https://93.184.215.14/',
    servicedesk_api_key: 'SDPAPI_ABC123XYZ456',
    tier: 'premium',
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await createTestNats();
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    // A tenant that exists before the registry starts must reach the directory.
    await admin.query(
      `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted, webhook_signing_secret_encrypted)
       VALUES ($1, 'Pre-existing', 'https://sdp.example.com', $2, $3)`,
      [PRESEEDED_TENANT, cipher.encrypt('key'), cipher.encrypt('secret')],
    );
    const config = loadRegistryConfig({
      DATABASE_URL: db.registryUrl,
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: key,
      ADMIN_TOKENS: `other-token-${'y'.repeat(30)},${TOKEN}`,
      NODE_ENV: 'test',
      ALLOW_INSECURE_SERVICEDESK_URLS: 'false',
      PUBLIC_WEBHOOK_BASE_URL: 'https://api.ai-agents.production',
      LOG_LEVEL: 'error',
    });
    app = await NestFactory.create(AppModule.register(config), { logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
    kv = await new Kvm(nats.nc).open(nats.topology.tenantDirectoryBucket);
  });

  afterAll(async () => {
    await app?.close();
    await admin?.end();
    await nats?.cleanup();
    await db?.drop();
  });

  it('publishes tenants that existed before it started', async () => {
    const entry = await kv.get(PRESEEDED_TENANT);
    expect(TenantDirectoryEntrySchema.parse(entry!.json())).toMatchObject({
      tenant_id: PRESEEDED_TENANT,
      status: 'active',
    });
  });

  it('refuses requests without a valid bearer token', async () => {
    expect((await createTenant(validBody, '')).status).toBe(401);
    expect((await createTenant(validBody, 'wrong-token')).status).toBe(401);
    expect((await createTenant(validBody, TOKEN.slice(1))).status).toBe(401);
  });

  it('creates a tenant: secret shown once, credentials encrypted at rest, directory updated', async () => {
    const res = await createTenant(validBody);
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, string>;
    expect(created).toMatchObject({
      name: 'Acme Corp MSP',
      tier: 'premium',
      signature_header: 'X-ServiceDesk-Signature',
      webhook_url: `https://api.ai-agents.production/webhook/servicedesk?tenant_id=${created['tenant_id']}`,
    });
    expect(created['webhook_secret']).toMatch(/^[0-9a-f]{64}$/);

    const { rows } = await admin.query(`SELECT * FROM tenant_configs WHERE tenant_id = $1`, [
      created['tenant_id'],
    ]);
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row.servicedesk_api_key_encrypted).toMatch(/^gAAAAA/);
    expect(row.servicedesk_api_key_encrypted).not.toContain('SDPAPI');
    expect(cipher.decrypt(row.servicedesk_api_key_encrypted)).toBe('SDPAPI_ABC123XYZ456');
    expect(cipher.decrypt(row.webhook_signing_secret_encrypted)).toBe(created['webhook_secret']);
    expect(row.enhancement_preferences).toMatchObject({
      output_format: 'markdown',
      note_visibility: 'technicians',
    });

    const entry = TenantDirectoryEntrySchema.parse((await kv.get(created['tenant_id']))!.json());
    expect(entry.status).toBe('active');
    expect(cipher.decrypt(entry.webhook_secrets[0].encrypted)).toBe(created['webhook_secret']);
  });

  it.each([
    ['a privileged field', { ...validBody, tenant_id: PRESEEDED_TENANT }, 'tenant_id'],
    [
      'an encrypted column',
      { ...validBody, servicedesk_api_key_encrypted: 'x' },
      'servicedesk_api_key_encrypted',
    ],
    [
      'invalid preferences',
      { ...validBody, enhancement_preferences: { output_format: 'pdf' } },
      'enhancement_preferences.output_format',
    ],
    [
      'unknown preference',
      { ...validBody, enhancement_preferences: { colour: 'blue' } },
      'enhancement_preferences.colour',
    ],
    ['a missing name', { ...validBody, name: undefined }, 'name'],
    [
      'http without the development setting',
      { ...validBody, servicedesk_url: 'http://sdp.example.com' },
      'servicedesk_url',
    ],
    [
      'a loopback URL',
      { ...validBody, servicedesk_url: 'https://127.0.0.1:8080' },
      'servicedesk_url',
    ],
    [
      'a metadata URL',
      { ...validBody, servicedesk_url: 'https://169.254.169.254' },
      'servicedesk_url',
    ],
  ])('refuses %s with 422 naming the field', async (_name, body, field) => {
    const res = await createTenant(body);
    expect(res.status).toBe(422);
    const reply = (await res.json()) as { fields: { field: string }[] };
    expect(reply.fields.map((f) => f.field)).toContain(field);
  });

  it('reports 503 naming Postgres when the database is gone', async () => {
    expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
    const dataSource = app.get(DataSource);
    await dataSource.destroy();
    const res = await fetch(`${baseUrl}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unhealthy',
      failing: { postgres: expect.any(String) },
    });
    await dataSource.initialize();
  });
});
