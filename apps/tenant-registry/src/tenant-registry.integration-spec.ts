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
import { DEFAULT_REQUESTS_PER_MINUTE, TenantDirectoryEntrySchema } from '@tep/contracts';
import { SecretCipher } from '@tep/encryption';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import { testEncryptionKey } from '@tep/testing';
import { createTestNats, freePort, type TestNats } from '@tep/testing';
import { AppModule } from './app.module';
import { loadRegistryConfig } from './config/registry.config';
import { attachGrpc, TENANT_ADMIN_PROTO } from './grpc/grpc-transport';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const TOKEN = 'x'.repeat(40);
const PRESEEDED_TENANT = '550e8400-e29b-41d4-a716-446655440000';

describe('tenant registry', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let app: INestApplication;
  let baseUrl: string;
  let kv: KV;
  let admin: Client;
  let grpcPort: number;
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
    grpcPort = await freePort();
    await attachGrpc(app, '127.0.0.1', grpcPort);
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
    ...(
      [
        ['note_language', 'pt'],
        ['on_update', 'always'],
        ['min_confidence', 1.5],
        ['low_confidence_action', 'hide'],
        ['instructions', 'x'.repeat(2001)],
        ['redact', ['email', 'passport']],
        ['outage_threshold', 1],
        ['outage_window_minutes', 0],
      ] as const
    ).map(([key, value]): [string, Record<string, unknown>, string] => [
      `a bad ${key}`,
      { ...validBody, enhancement_preferences: { [key]: value } },
      `enhancement_preferences.${key}${key === 'redact' ? '.1' : ''}`,
    ]),
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

  describe('admin operations', () => {
    const call = async (method: string, path: string, body?: unknown, token = TOKEN) => {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const created = async (name: string) =>
      (await call('POST', '/tenants', { ...validBody, name })).body;

    it('audits refused admin logins, one entry per source and minute with the count', async () => {
      const refused = async () =>
        (
          await admin.query(
            `SELECT details FROM audit_log WHERE action = 'admin.auth_failed' ORDER BY id`,
          )
        ).rows as { details: Record<string, unknown> }[];
      for (let i = 0; i < 5; i++) {
        expect((await call('GET', '/tenants', undefined, `guess-${i}`)).status).toBe(401);
      }
      const entries = await refused();
      // At least these 5 refusals (and the earlier spec's 3), far fewer entries.
      expect(entries.length).toBeGreaterThanOrEqual(1);
      expect(entries.length).toBeLessThan(5);
      expect(entries[0].details).toMatchObject({
        transport: 'http',
        source: expect.stringMatching(/127\.0\.0\.1/),
      });
      expect(JSON.stringify(entries)).not.toMatch(/guess-|wrong-token/);
    });

    it('authenticates every admin route, including the OpenAPI document', async () => {
      for (const [method, path] of [
        ['GET', '/tenants'],
        ['GET', `/tenants/${PRESEEDED_TENANT}`],
        ['PATCH', `/tenants/${PRESEEDED_TENANT}`],
        ['POST', `/tenants/${PRESEEDED_TENANT}/disable`],
        ['POST', `/tenants/${PRESEEDED_TENANT}/webhook-secret/rotate`],
        ['DELETE', `/tenants/${PRESEEDED_TENANT}`],
        ['GET', '/audit'],
        ['GET', '/openapi.json'],
      ] as const) {
        expect([method, path, (await call(method, path, undefined, 'nope')).status]).toEqual([
          method,
          path,
          401,
        ]);
      }
      expect((await fetch(`${baseUrl}/metrics`)).status).toBe(200);
      const doc = await call('GET', '/openapi.json');
      expect(doc.body['openapi']).toBe('3.1.0');
      expect(Object.keys(doc.body['paths'])).toEqual(
        expect.arrayContaining(['/tenants', '/tenants/{tenantId}', '/audit']),
      );
    });

    it('lists tenants in pages and never shows a secret', async () => {
      await created('Paged A');
      await created('Paged B');
      const first = await call('GET', '/tenants?limit=2');
      expect(first.body['tenants']).toHaveLength(2);
      expect(first.body['next_cursor']).toEqual(expect.any(String));
      const second = await call('GET', `/tenants?limit=200&after=${first.body['next_cursor']}`);
      const ids = [...first.body['tenants'], ...second.body['tenants']].map(
        (t: { tenant_id: string }) => t.tenant_id,
      );
      expect(new Set(ids).size).toBe(ids.length);
      const text = JSON.stringify([first.body, second.body]);
      expect(text).not.toMatch(/gAAAAA|webhook_secret"|api_key/);
    });

    it('moves a credential to a new ServiceDesk URL only with the credential again in the same request', async () => {
      const t = await created('Moves');
      const stored = async () =>
        (
          await admin.query(
            `SELECT servicedesk_url, servicedesk_api_key_encrypted FROM tenant_configs WHERE tenant_id = $1`,
            [t['tenant_id']],
          )
        ).rows[0] as { servicedesk_url: string; servicedesk_api_key_encrypted: string };
      const before = await stored();
      const moved = await call('PATCH', `/tenants/${t['tenant_id']}`, {
        servicedesk_url: 'https://93.184.215.15/',
      });
      expect(moved.status).toBe(422);
      expect(moved.body['fields']).toEqual([
        expect.objectContaining({ field: 'servicedesk_api_key' }),
      ]);
      expect(await stored()).toEqual(before);
      // Unchanged URL (trailing slash aside): no credential needed.
      expect(
        (
          await call('PATCH', `/tenants/${t['tenant_id']}`, {
            servicedesk_url: validBody.servicedesk_url,
          })
        ).status,
      ).toBe(200);
      const ok = await call('PATCH', `/tenants/${t['tenant_id']}`, {
        servicedesk_url: 'https://93.184.215.15/',
        servicedesk_api_key: 'SDPAPI_NEW_KEY_FOR_NEW_HOST',
      });
      expect(ok.status).toBe(200);
      const after = await stored();
      expect(after.servicedesk_url).toBe('https://93.184.215.15');
      expect(cipher.decrypt(after.servicedesk_api_key_encrypted)).toBe(
        'SDPAPI_NEW_KEY_FOR_NEW_HOST',
      );
      // Switching to OAuth or changing its accounts server needs the OAuth credential.
      const oauth = await call('PATCH', `/tenants/${t['tenant_id']}`, {
        servicedesk_settings: { auth_kind: 'oauth', data_centre: 'eu' },
      });
      expect(oauth.status).toBe(422);
      expect(oauth.body['fields']).toEqual([
        expect.objectContaining({ field: 'servicedesk_oauth' }),
      ]);
    });

    it('gives a tenant created without rate limits the default one, at the ingress too', async () => {
      const t = await created('Default limit');
      expect(t['rate_limits']).toEqual({ requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE });
      const entry = TenantDirectoryEntrySchema.parse((await kv.get(t['tenant_id']))!.json());
      expect(entry.rate_limits.requests_per_minute).toBe(DEFAULT_REQUESTS_PER_MINUTE);
    });

    it('updates preferences and rate limits, naming invalid fields, and publishes them', async () => {
      const t = await created('Prefs');
      const bad = await call('PATCH', `/tenants/${t['tenant_id']}`, {
        enhancement_preferences: { max_tokens: 5 },
      });
      expect(bad.status).toBe(422);
      expect(bad.body['fields'][0].field).toBe('enhancement_preferences.max_tokens');
      const ok = await call('PATCH', `/tenants/${t['tenant_id']}`, {
        enhancement_preferences: { output_format: 'html', llm_model: 'openai/gpt-4o' },
        rate_limits: { requests_per_minute: 100 },
      });
      expect(ok.status).toBe(200);
      expect(ok.body['enhancement_preferences']).toMatchObject({
        output_format: 'html',
        llm_model: 'openai/gpt-4o',
        max_tokens: 500,
      });
      const entry = TenantDirectoryEntrySchema.parse((await kv.get(t['tenant_id']))!.json());
      expect(entry.rate_limits.requests_per_minute).toBe(100);
      expect(
        (await call('PATCH', `/tenants/${t['tenant_id']}`, { tenant_id: PRESEEDED_TENANT })).status,
      ).toBe(422);
    });

    it('disables and enables, publishing the status', async () => {
      const t = await created('Toggle');
      expect((await call('POST', `/tenants/${t['tenant_id']}/disable`)).body['status']).toBe(
        'disabled',
      );
      expect(TenantDirectoryEntrySchema.parse((await kv.get(t['tenant_id']))!.json()).status).toBe(
        'disabled',
      );
      expect((await call('POST', `/tenants/${t['tenant_id']}/enable`)).body['status']).toBe(
        'active',
      );
    });

    it('rotates the webhook secret keeping the old one for the grace period', async () => {
      const t = await created('Rotate');
      const rotated = await call('POST', `/tenants/${t['tenant_id']}/webhook-secret/rotate`, {
        grace_seconds: 3600,
      });
      expect(rotated.body['webhook_secret']).toMatch(/^[0-9a-f]{64}$/);
      expect(rotated.body['webhook_secret']).not.toBe(t['webhook_secret']);
      const entry = TenantDirectoryEntrySchema.parse((await kv.get(t['tenant_id']))!.json());
      expect(entry.webhook_secrets.map((s) => cipher.decrypt(s.encrypted))).toEqual([
        rotated.body['webhook_secret'],
        t['webhook_secret'],
      ]);
      expect(Date.parse(entry.webhook_secrets[1].expires_at!)).toBeGreaterThan(
        Date.now() + 3500_000,
      );
      const immediate = await call('POST', `/tenants/${t['tenant_id']}/webhook-secret/rotate`, {
        grace_seconds: 0,
      });
      const after = TenantDirectoryEntrySchema.parse((await kv.get(t['tenant_id']))!.json());
      expect(after.webhook_secrets.map((s) => cipher.decrypt(s.encrypted))).toEqual([
        immediate.body['webhook_secret'],
      ]);
    });

    it('rotates the SDP API key, stored encrypted', async () => {
      const t = await created('Key');
      expect(
        (
          await call('POST', `/tenants/${t['tenant_id']}/servicedesk-key/rotate`, {
            servicedesk_api_key: 'SDPAPI_NEW',
          })
        ).status,
      ).toBe(200);
      const { rows } = await admin.query(
        `SELECT servicedesk_api_key_encrypted FROM tenant_configs WHERE tenant_id = $1`,
        [t['tenant_id']],
      );
      expect(cipher.decrypt(rows[0].servicedesk_api_key_encrypted)).toBe('SDPAPI_NEW');
    });

    it('switches to the static header only when the weaker security is acknowledged, and flags it', async () => {
      const t = await created('Weak');
      const refused = await call('PUT', `/tenants/${t['tenant_id']}/webhook-auth-scheme`, {
        scheme: 'static_header',
      });
      expect(refused.status).toBe(422);
      const ok = await call('PUT', `/tenants/${t['tenant_id']}/webhook-auth-scheme`, {
        scheme: 'static_header',
        acknowledge_weaker_security: true,
      });
      expect(ok.body).toMatchObject({
        webhook_auth_scheme: 'static_header',
        webhook_auth_weaker: true,
      });
      expect(
        TenantDirectoryEntrySchema.parse((await kv.get(t['tenant_id']))!.json()).auth_scheme,
      ).toBe('static_header');
    });

    it('offboards with purge, reporting counts, and audits everything without secrets', async () => {
      const t = await created('Leaving');
      const id = t['tenant_id'] as string;
      await admin.query(
        `INSERT INTO ticket_history (tenant_id, ticket_id, subject) VALUES ($1, 'A', 'a'), ($1, 'B', 'b')`,
        [id],
      );
      await admin.query(
        `INSERT INTO kb_articles (tenant_id, article_id, title) VALUES ($1, 'K', 'k')`,
        [id],
      );
      await admin.query(
        `INSERT INTO ticket_history (tenant_id, ticket_id, subject) VALUES ($1, 'A', 'kept')`,
        [PRESEEDED_TENANT],
      );
      const res = await call('DELETE', `/tenants/${id}?purge=true`);
      expect(res.status).toBe(200);
      expect(res.body['deleted']).toEqual({
        enhancement_feedback: 0,
        ticket_feedback: 0,
        enhancement_history: 0,
        ticket_history: 2,
        system_inventory: 0,
        kb_articles: 1,
        tenant_configs: 1,
      });
      expect((await kv.get(id))?.operation).toBe('PURGE');
      expect((await call('GET', `/tenants/${id}`)).status).toBe(404);
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM ticket_history WHERE tenant_id = $1`,
        [PRESEEDED_TENANT],
      );
      expect(rows[0].n).toBe(1);
      const audit = await call('GET', `/audit?tenant_id=${id}`);
      expect(audit.body['entries'].map((e: { action: string }) => e.action)).toEqual([
        'tenant.offboarded',
        'tenant.created',
      ]);
      expect(audit.body['entries'][0].actor).toBe('admin-token-2');
      const everything = JSON.stringify((await call('GET', '/audit?limit=500')).body);
      expect(everything).not.toMatch(/SDPAPI|[0-9a-f]{64}|gAAAAA/);
    });
  });

  describe('gRPC transport', () => {
    type Unary = (
      req: object,
      md: grpc.Metadata,
      cb: (err: grpc.ServiceError | null, res: any) => void,
    ) => void;
    let client: Record<string, Unary> & grpc.Client;
    const rpc = (method: string, req: object, token = TOKEN) =>
      new Promise<any>((resolve, reject) => {
        const md = new grpc.Metadata();
        if (token) md.set('authorization', `Bearer ${token}`);
        client[method].call(client, req, md, (err, res) => (err ? reject(err) : resolve(res)));
      });

    beforeAll(() => {
      const definition = grpc.loadPackageDefinition(
        loadSync(TENANT_ADMIN_PROTO, { keepCase: true, defaults: true }),
      ) as any;
      client = new definition.tep.registry.v1.TenantAdmin(
        `127.0.0.1:${grpcPort}`,
        grpc.credentials.createInsecure(),
      );
    });
    afterAll(() => client.close());

    it('runs the same use cases with the same auth and validation', async () => {
      await expect(
        rpc('GetTenant', { tenant_id: PRESEEDED_TENANT }, 'wrong'),
      ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      const created = await rpc('CreateTenant', {
        name: 'Via gRPC',
        servicedesk_url: 'https://93.184.215.14',
        servicedesk_api_key: 'k',
        tier: 'premium',
      });
      expect(created.webhook_secret).toMatch(/^[0-9a-f]{64}$/);
      expect(created.tenant).toMatchObject({ name: 'Via gRPC', tier: 'premium', status: 'active' });
      const got = await rpc('GetTenant', { tenant_id: created.tenant.tenant_id });
      expect(JSON.parse(got.enhancement_preferences_json)).toMatchObject({
        output_format: 'markdown',
      });
      await expect(
        rpc('GetTenant', { tenant_id: '00000000-0000-4000-8000-000000000000' }),
      ).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
      await expect(
        rpc('CreateTenant', {
          name: 'Bad',
          servicedesk_url: 'https://127.0.0.1',
          servicedesk_api_key: 'k',
        }),
      ).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('servicedesk_url'),
      });
      const disabled = await rpc('DisableTenant', { tenant_id: created.tenant.tenant_id });
      expect(disabled.status).toBe('disabled');
      const off = await rpc('OffboardTenant', { tenant_id: created.tenant.tenant_id, purge: true });
      expect(off.deleted).toMatchObject({ tenant_configs: 1 });
    });
  });
});
