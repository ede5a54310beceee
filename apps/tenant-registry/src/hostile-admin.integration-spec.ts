/**
 * The admin API under generated abuse, like the ingress's hostile-input
 * spec: 16,000 HTTP and 4,000 gRPC requests built from the API's own routes
 * and fields — wrong types, missing and extra fields, huge values, bad ids,
 * bad and missing tokens. Never a 5xx (or gRPC INTERNAL/UNKNOWN), and every
 * request is one that must be refused, so nothing may change: tenant_configs
 * and audit_log (apart from the refused-login entries) are compared before
 * and after.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import fc from 'fast-check';
import { Client } from 'pg';
import {
  createTestDatabase,
  createTestNats,
  freePort,
  testEncryptionKey,
  type TestDatabase,
  type TestNats,
} from '@tep/testing';
import { AppModule } from './app.module';
import { loadRegistryConfig } from './config/registry.config';
import { attachGrpc, TENANT_ADMIN_PROTO } from './grpc/grpc-transport';
import { OPENAPI_DOCUMENT } from './http/openapi';

const HTTP_REQUESTS = 16_000;
const GRPC_REQUESTS = 4_000;
const CONCURRENCY = 16;
const TOKEN = `fuzz-token-${'f'.repeat(40)}`;

/** Every field name any request body of the API knows (from the OpenAPI document). */
function knownFields(): string[] {
  const names = new Set<string>();
  const walk = (schema: unknown) => {
    if (!schema || typeof schema !== 'object') return;
    const properties = (schema as { properties?: Record<string, unknown> }).properties;
    for (const [name, sub] of Object.entries(properties ?? {})) {
      names.add(name);
      walk(sub);
    }
  };
  for (const item of Object.values(OPENAPI_DOCUMENT.paths)) {
    for (const operation of Object.values(item as Record<string, { requestBody?: unknown }>)) {
      const body = operation.requestBody as
        { content: { 'application/json': { schema: unknown } } } | undefined;
      walk(body?.content['application/json'].schema);
    }
  }
  return [...names];
}

describe('admin API under generated hostile requests (HTTP and gRPC)', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let admin: Client;
  let app: INestApplication;
  let baseUrl: string;
  let grpcPort: number;
  let tenantId: string;

  let httpSamples: (typeof httpRequest extends fc.Arbitrary<infer T> ? T : never)[];

  beforeAll(async () => {
    // Generated first: fast-check holds the event loop for seconds, and an HTTP
    // keep-alive connection left idle that long is closed by the server just as
    // the client reuses it (ECONNRESET), a race of the test, not of the API.
    httpSamples = fc.sample(httpRequest, { numRuns: HTTP_REQUESTS, seed: 12 });
    db = await createTestDatabase();
    nats = await createTestNats();
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    const config = loadRegistryConfig({
      DATABASE_URL: db.registryUrl,
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: testEncryptionKey(),
      ADMIN_TOKENS: TOKEN,
      NODE_ENV: 'test',
      ALLOW_INSECURE_SERVICEDESK_URLS: 'false',
      LOG_LEVEL: 'fatal',
    });
    app = await NestFactory.create(AppModule.register(config), { logger: false });
    grpcPort = await freePort();
    await attachGrpc(app, '127.0.0.1', grpcPort);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
    const created = await fetch(`${baseUrl}/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'Fuzz target',
        servicedesk_url: 'https://93.184.215.14',
        servicedesk_api_key: 'SDPAPI_FUZZ',
      }),
    });
    expect(created.status).toBe(201);
    tenantId = ((await created.json()) as { tenant_id: string }).tenant_id;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await admin?.end();
    await nats?.cleanup();
    await db?.drop();
  });

  /** What a refused request must leave as it was. */
  const snapshot = async () => ({
    tenants: (await admin.query(`SELECT * FROM tenant_configs ORDER BY tenant_id`)).rows,
    audit: (
      await admin.query(
        `SELECT actor, action, tenant_id, details FROM audit_log
          WHERE action <> 'admin.auth_failed' ORDER BY id`,
      )
    ).rows,
  });

  const fields = knownFields();
  const hugeString = fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n));
  const wrongValue = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
    fc.string({ maxLength: 40 }),
    hugeString,
  );
  /** Known fields with any values, always plus a field no schema has: every body is invalid. */
  const hostileBody = fc
    .tuple(
      fc.dictionary(fc.constantFrom(...fields), wrongValue, { maxKeys: 6 }),
      fc.string({ minLength: 1, maxLength: 12 }),
    )
    .map(([known, extra]) => ({ ...known, [`__fuzz_${extra}`]: true }));
  const tenantRef = fc.oneof(
    fc.constant(randomUUID()),
    fc.constant('not-a-uuid'),
    fc.string({ maxLength: 60 }).map((s) => encodeURIComponent(s) || 'x'),
    fc.integer({ min: 1, max: 5_000 }).map((n) => '9'.repeat(n)),
    fc.constant('TENANT'), // replaced by the real tenant's id
  );
  const token = fc.oneof(
    fc.constant(TOKEN),
    fc.constant(TOKEN),
    fc.constant(undefined),
    fc.constant(''),
    fc.constant(TOKEN.slice(0, -1)),
    fc.string({ maxLength: 80 }),
  );
  const routes: [string, string][] = [
    ['POST', '/tenants'],
    ['PATCH', '/tenants/{id}'],
    ['DELETE', '/tenants/{id}?purge=maybe'],
    ['POST', '/tenants/{id}/disable'],
    ['POST', '/tenants/{id}/enable'],
    ['POST', '/tenants/{id}/webhook-secret/rotate'],
    ['POST', '/tenants/{id}/servicedesk-key/rotate'],
    ['PUT', '/tenants/{id}/webhook-auth-scheme'],
    ['PUT', '/tenants/{id}/onboarding-record'],
    ['GET', '/tenants?limit=-5&after=zz'],
    ['GET', '/tenants/{id}'],
    ['GET', '/audit?limit=100000&before=%00'],
  ];
  const httpRequest = fc.record({
    route: fc.constantFrom(...routes),
    tenant: tenantRef,
    token,
    hostile: hostileBody.map((b) => JSON.stringify(b)),
    body: fc.oneof(
      hostileBody.map((b) => JSON.stringify(b)),
      fc.string({ maxLength: 200 }), // not JSON
      fc.constant(''),
      fc.constant('{"name":'),
    ),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
    ),
  });

  it('answers 16,000 generated HTTP requests without a 5xx, and refused requests change nothing', async () => {
    const before = await snapshot();
    const samples = httpSamples;
    const statuses: Record<number, number> = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < samples.length) {
          const r = samples[next++];
          const [method, template] = r.route;
          // Against the real tenant, a change is refused only by its body: routes
          // without one get a malformed id, the others a JSON body no schema accepts
          // (a non-JSON body would read as {}, which some optional-only bodies allow).
          const real = r.tenant === 'TENANT';
          const bodiless = method === 'DELETE' || /\/(disable|enable)$/.test(template);
          const id = real ? (bodiless ? 'not-a-uuid' : tenantId) : r.tenant;
          const path = template.replace('{id}', id);
          const body = real ? r.hostile : r.body;
          const headers: Record<string, string> = {
            'Content-Type': real ? 'application/json' : r.contentType,
          };
          if (r.token !== undefined) headers['Authorization'] = `Bearer ${r.token}`;
          const res = await fetch(`${baseUrl}${path}`, {
            method,
            headers,
            body: method === 'GET' ? undefined : body,
          });
          await res.arrayBuffer();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status >= 500) throw new Error(`${method} ${path} answered ${res.status}`);
          if (method !== 'GET' && res.status < 400) {
            throw new Error(
              `${method} ${path} with ${body.slice(0, 200)} was accepted (${res.status})`,
            );
          }
        }
      }),
    );
    console.log(
      `hostile admin HTTP: ${samples.length} requests, statuses ${JSON.stringify(statuses)}`,
    );
    expect(Object.keys(statuses).every((s) => Number(s) < 500)).toBe(true);
    expect(await snapshot()).toEqual(before);
  }, 300_000);

  it('answers 4,000 generated gRPC calls without INTERNAL or UNKNOWN, and changes nothing', async () => {
    type Unary = (
      req: object,
      md: grpc.Metadata,
      cb: (err: grpc.ServiceError | null) => void,
    ) => void;
    const definition = grpc.loadPackageDefinition(
      loadSync(TENANT_ADMIN_PROTO, { keepCase: true, defaults: true }),
    ) as unknown as {
      tep: {
        registry: {
          v1: { TenantAdmin: new (a: string, c: grpc.ChannelCredentials) => grpc.Client };
        };
      };
    };
    const client = new definition.tep.registry.v1.TenantAdmin(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as grpc.Client & Record<string, Unary>;
    const before = await snapshot();
    const call = fc.record({
      method: fc.constantFrom(
        'CreateTenant',
        'UpdateTenant',
        'DisableTenant',
        'EnableTenant',
        'RotateWebhookSecret',
        'RotateServiceDeskKey',
        'OffboardTenant',
        'GetTenant',
      ),
      tenant: tenantRef,
      token,
      patch: hostileBody.map((b) => JSON.stringify(b)),
      text: fc.oneof(fc.string({ maxLength: 50 }), hugeString),
    });
    const samples = fc.sample(call, { numRuns: GRPC_REQUESTS, seed: 21 });
    const codes: Record<string, number> = {};
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < samples.length) {
            const c = samples[next++];
            const id = c.tenant === 'TENANT' ? tenantId : c.tenant;
            // Bodies that cannot be valid: an invalid patch, an unknown name field, a bad id.
            const request: Record<string, object> = {
              CreateTenant: { name: c.text, servicedesk_url: c.text, servicedesk_api_key: '' },
              UpdateTenant: { tenant_id: id, patch_json: c.patch },
              DisableTenant: { tenant_id: c.tenant === 'TENANT' ? 'not-a-uuid' : id },
              EnableTenant: { tenant_id: c.tenant === 'TENANT' ? 'not-a-uuid' : id },
              RotateWebhookSecret: { tenant_id: 'not-a-uuid', grace_seconds: -1 },
              RotateServiceDeskKey: { tenant_id: id, servicedesk_api_key: '' },
              OffboardTenant: { tenant_id: 'not-a-uuid', purge: true },
              GetTenant: { tenant_id: id },
            };
            const md = new grpc.Metadata();
            if (c.token !== undefined) md.set('authorization', `Bearer ${c.token}`);
            const code = await new Promise<grpc.status>((resolve) =>
              client[c.method].call(client, request[c.method], md, (err) =>
                resolve(err ? err.code : grpc.status.OK),
              ),
            );
            const name = grpc.status[code] ?? String(code);
            codes[name] = (codes[name] ?? 0) + 1;
            if (code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN) {
              throw new Error(`${c.method} answered ${name}`);
            }
            if (code === grpc.status.OK && c.method !== 'GetTenant') {
              throw new Error(
                `${c.method} ${JSON.stringify(request[c.method]).slice(0, 200)} was accepted`,
              );
            }
          }
        }),
      );
    } finally {
      client.close();
    }
    console.log(`hostile admin gRPC: ${samples.length} calls, codes ${JSON.stringify(codes)}`);
    expect(await snapshot()).toEqual(before);
  }, 300_000);
});
