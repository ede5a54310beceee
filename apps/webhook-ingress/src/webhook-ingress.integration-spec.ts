/**
 * The webhook contract end to end inside the ingress: a real HTTP server and
 * real NATS (JetStream + KV); no database (the ingress reads no table, so it
 * is given no DATABASE_URL). Tenants are arranged by writing the directory
 * entries the registry would publish.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { TicketReceivedSchema } from '@tep/contracts';
import { TenantDatabase } from '@tep/data';
import { SecretCipher } from '@tep/encryption';
import { signStandardWebhook, standardWebhookSecretFor } from '@tep/webhook-signature';
import { testEncryptionKey } from '@tep/testing';
import { createTestNats, eventually, type TestNats } from '@tep/testing';
import { AppModule } from './app.module';
import { loadIngressConfig } from './config/ingress.config';
import { directoryEntry } from './tenant-directory/directory-entry.spec-helper';
import { TenantDirectory } from './tenant-directory/tenant-directory';

const RUNBOOK_PAYLOAD = `{
  "ticket_id": "TKT-12345",
  "subject": "Database connection timeout error",
  "description": "Application reports 'Connection timeout' when querying PostgreSQL database. Error started at 10:30 AM. All other services operational.",
  "priority": "High",
  "status": "Open",
  "requester_email": "user@acmecorp.com",
  "created_at": "2025-11-03T10:30:00Z"
}
`;

const sign = (secret: string, body: string | Buffer) =>
  createHmac('sha256', secret).update(body).digest('hex');

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

describe('webhook ingress', () => {
  let nats: TestNats;
  let app: INestApplication;
  let baseUrl: string;
  let kv: KV;
  let cipher: SecretCipher;
  const key = testEncryptionKey();
  const active = { id: randomUUID(), secret: 'a'.repeat(64) };
  const rotating = {
    id: randomUUID(),
    oldSecret: 'old-secret-value',
    newSecret: 'new-secret-value',
  };
  const disabled = { id: randomUUID(), secret: 'd'.repeat(64) };

  const entry = (
    tenantId: string,
    secrets: string[],
    status?: 'active' | 'disabled',
    extra?: Parameters<typeof directoryEntry>[4],
  ) => directoryEntry(cipher, tenantId, secrets, status, extra);

  async function post(
    path: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const res = await fetch(`${baseUrl}${path}`, { method: 'POST', body, headers });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      headers: Object.fromEntries(res.headers.entries()),
    };
  }

  const webhook = (
    tenantId: string,
    body: string | Buffer,
    signature?: string,
    contentType = 'application/json',
  ) =>
    post(`/webhook/servicedesk?tenant_id=${tenantId}`, body, {
      'Content-Type': contentType,
      ...(signature === undefined ? {} : { 'X-ServiceDesk-Signature': signature }),
    });

  beforeAll(async () => {
    nats = await createTestNats();
    cipher = SecretCipher.fromEnv(key);
    const config = loadIngressConfig({
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: key,
      WEBHOOK_MAX_BODY_BYTES: '4096',
      LOG_LEVEL: 'error',
    });
    kv = await new Kvm(nats.nc).create(nats.topology.tenantDirectoryBucket, { history: 1 });
    await kv.put(active.id, entry(active.id, [active.secret]));
    await kv.put(rotating.id, entry(rotating.id, [rotating.newSecret, rotating.oldSecret]));
    await kv.put(disabled.id, entry(disabled.id, [disabled.secret], 'disabled'));
    app = await NestFactory.create(AppModule.register(config), {
      bodyParser: false,
      logger: false,
      // app.get() of a missing provider throws (instead of exiting) for the no-database check.
      abortOnError: false,
    });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
    const directory = app.get(TenantDirectory);
    await eventually(() => (directory.get(disabled.id) ? true : undefined));
  });

  afterAll(async () => {
    await app?.close();
    await nats?.cleanup();
  });

  async function storedJobs(tenantId: string) {
    const jsm = await jetstreamManager(nats.nc);
    const info = await jsm.streams.info(nats.topology.ticketsStream, {
      subjects_filter: nats.topology.subjects.received(tenantId),
    });
    return info.state.subjects?.[nats.topology.subjects.received(tenantId)] ?? 0;
  }

  it('serves /health as healthy when NATS is up and the directory loaded (no database)', async () => {
    const res = await fetch(`${baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'healthy' });
  });

  it('serves /livez and /readyz, readiness checking only what the ingress uses', async () => {
    const live = await fetch(`${baseUrl}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive', uptime_seconds: expect.any(Number) });
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checked: ['jetstream', 'nats', 'tenant_directory'],
    });
  });

  it('has no DataSource nor TenantDatabase to inject', () => {
    expect(() => app.get(DataSource)).toThrow();
    expect(() => app.get(TenantDatabase)).toThrow();
  });

  it('accepts the runbook payload signed over its exact bytes, after JetStream stored it', async () => {
    const reply = await webhook(active.id, RUNBOOK_PAYLOAD, sign(active.secret, RUNBOOK_PAYLOAD));
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({
      status: 'accepted',
      job_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(await storedJobs(active.id)).toBe(1);

    const jsm = await jetstreamManager(nats.nc);
    const stored = await jsm.streams.getMessage(nats.topology.ticketsStream, {
      last_by_subj: nats.topology.subjects.received(active.id),
    });
    const message = TicketReceivedSchema.parse(stored!.json());
    expect(message).toMatchObject({
      job_id: reply.body['job_id'],
      tenant_id: active.id,
      ticket: {
        ticket_id: 'TKT-12345',
        subject: 'Database connection timeout error',
        priority: 'High',
        event: 'created',
      },
    });
    expect(stored!.header?.get('Tep-Tenant-Id')).toBe(active.id);
    expect(stored!.header?.get('Nats-Msg-Id')).toBe(`received:${String(reply.body['job_id'])}`);
  });

  it('accepts the sha256= prefix and uppercase hex', async () => {
    const body = JSON.stringify({ ticket_id: 'TKT-2', subject: 'Prefix form' });
    const prefixed = await webhook(active.id, body, `sha256=${sign(active.secret, body)}`);
    expect(prefixed.status).toBe(202);
    const upper = await webhook(active.id, body, sign(active.secret, body).toUpperCase());
    expect(upper.status).toBe(202);
    expect(upper.body['job_id']).toBe(prefixed.body['job_id']);
  });

  it('turns the same webhook delivered twice into one job with one job_id', async () => {
    const body = JSON.stringify({ ticket_id: 'TKT-DUP', subject: 'Duplicate delivery' });
    const before = await storedJobs(active.id);
    const first = await webhook(active.id, body, sign(active.secret, body));
    const second = await webhook(active.id, body, sign(active.secret, body));
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body['job_id']).toBe(first.body['job_id']);
    expect(await storedJobs(active.id)).toBe(before + 1);
  });

  it("refuses the runbook's `curl -d @file` body (newlines stripped) with 403, not 5xx", async () => {
    // The runbook signs the file's bytes, but curl -d strips the newlines.
    const signature = sign(active.secret, RUNBOOK_PAYLOAD);
    const curlDashD = RUNBOOK_PAYLOAD.replace(/\r?\n/g, '');
    const reply = await webhook(active.id, curlDashD, signature);
    expect(reply.status).toBe(403);
    expect(reply.body).toEqual({
      status: 'rejected',
      error: 'forbidden',
      message: 'Invalid webhook signature',
    });
  });

  it('accepts both secrets during a rotation', async () => {
    const body = JSON.stringify({ ticket_id: 7, subject: 'Rotation' });
    expect((await webhook(rotating.id, body, sign(rotating.oldSecret, body))).status).toBe(202);
    expect((await webhook(rotating.id, body, sign(rotating.newSecret, body))).status).toBe(202);
    expect((await webhook(rotating.id, body, sign('neither', body))).status).toBe(403);
  });

  it('answers wrong signature, unknown tenant and disabled tenant with one indistinguishable 403', async () => {
    const body = JSON.stringify({ ticket_id: 'TKT-3', subject: 'Forbidden' });
    const wrong = await webhook(active.id, body, sign('wrong-secret', body));
    const unknown = await webhook(randomUUID(), body, sign(active.secret, body));
    const off = await webhook(disabled.id, body, sign(disabled.secret, body));
    const wrongLength = await webhook(active.id, body, 'abc123');
    for (const reply of [wrong, unknown, off, wrongLength]) {
      expect(reply.status).toBe(403);
      expect(reply.body).toEqual(wrong.body);
    }
  });

  it('sees a tenant disabled in the directory within a second', async () => {
    const tenant = { id: randomUUID(), secret: 's'.repeat(40) };
    const body = JSON.stringify({ ticket_id: 'TKT-4', subject: 'Soon disabled' });
    await kv.put(tenant.id, entry(tenant.id, [tenant.secret]));
    await eventually(
      async () =>
        (await webhook(tenant.id, body, sign(tenant.secret, body))).status === 202
          ? true
          : undefined,
      1_000,
    );
    await kv.put(tenant.id, entry(tenant.id, [tenant.secret], 'disabled'));
    await eventually(
      async () =>
        (await webhook(tenant.id, body, sign(tenant.secret, body))).status === 403
          ? true
          : undefined,
      1_000,
    );
  });

  it.each([
    [
      'missing signature',
      401,
      'signature_missing',
      () => webhook(active.id, '{"ticket_id":"1","subject":"x"}'),
    ],
    [
      'missing tenant_id',
      400,
      'tenant_id_missing',
      () => post('/webhook/servicedesk', '{}', { 'Content-Type': 'application/json' }),
    ],
    ['malformed tenant_id', 400, 'tenant_id_malformed', () => webhook('not-a-uuid', '{}', 'ab')],
    [
      'repeated tenant_id',
      400,
      'tenant_id_malformed',
      () =>
        post(`/webhook/servicedesk?tenant_id=${active.id}&tenant_id=${active.id}`, '{}', {
          'Content-Type': 'application/json',
        }),
    ],
    [
      'wrong content type',
      415,
      'unsupported_media_type',
      () => webhook(active.id, 'ticket=1', 'ab', 'application/x-www-form-urlencoded'),
    ],
    [
      'no content type',
      415,
      'unsupported_media_type',
      () => post(`/webhook/servicedesk?tenant_id=${active.id}`, '{}'),
    ],
  ])('%s → %i %s', async (_name, status, error, send) => {
    const reply = await send();
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ status: 'rejected', error });
  });

  it('answers malformed JSON with 400', async () => {
    const body = '{"ticket_id": "TKT-5", "subject": ';
    const reply = await webhook(active.id, body, sign(active.secret, body));
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: 'malformed_json' });
  });

  it('answers schema violations with 422 naming the fields', async () => {
    const body = JSON.stringify({ ticket_id: '', priority: 5, requester_email: 'not-an-email' });
    const reply = await webhook(active.id, body, sign(active.secret, body));
    expect(reply.status).toBe(422);
    const fields = (reply.body['fields'] as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual(['priority', 'requester_email', 'subject', 'ticket_id']);
  });

  it('accepts SDP-style variations: numeric id, lookups, HTML, epoch ms, extra fields', async () => {
    const body = JSON.stringify({
      ticket_id: 98765,
      subject: 'VPN drops',
      description: '<div>VPN <b>drops</b> every hour<br>on host vpn01</div>',
      priority: { id: '3', name: 'Medium' },
      status: { name: 'Open' },
      requester_email: '',
      created_at: '1762165800000',
      event: 'Ticket Updated',
      udf_fields: { udf_sline_1: 'x' },
    });
    const reply = await webhook(active.id, body, sign(active.secret, body));
    expect(reply.status).toBe(202);
    const jsm = await jetstreamManager(nats.nc);
    const stored = await jsm.streams.getMessage(nats.topology.ticketsStream, {
      last_by_subj: nats.topology.subjects.received(active.id),
    });
    expect(TicketReceivedSchema.parse(stored!.json()).ticket).toEqual({
      ticket_id: '98765',
      subject: 'VPN drops',
      description_html: '<div>VPN <b>drops</b> every hour<br>on host vpn01</div>',
      description_text: 'VPN drops every hour\non host vpn01',
      resolution_text: null,
      priority: 'Medium',
      status: 'Open',
      requester_email: null,
      created_at: '2025-11-03T10:30:00.000Z',
      updated_at: null,
      event: 'updated',
    });
  });

  it('answers a body over the documented limit with 413 without reading it all', async () => {
    const big = JSON.stringify({
      ticket_id: 'TKT-6',
      subject: 'x',
      description: 'y'.repeat(10_000),
    });
    const reply = await webhook(active.id, big, sign(active.secret, big));
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ error: 'body_too_large' });
  });

  it('answers 413 for an oversized chunked body too', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${baseUrl}/webhook/servicedesk?tenant_id=${active.id}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-ServiceDesk-Signature': 'ab' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('answers 503 and acknowledges nothing when JetStream cannot store the job', async () => {
    const jsm = await jetstreamManager(nats.nc);
    const config = (await jsm.streams.info(nats.topology.ticketsStream)).config;
    await jsm.streams.delete(nats.topology.ticketsStream);
    try {
      const body = JSON.stringify({ ticket_id: 'TKT-7', subject: 'No stream' });
      const reply = await webhook(active.id, body, sign(active.secret, body));
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ error: 'queue_unavailable' });
    } finally {
      await jsm.streams.add(config);
    }
  });

  describe('delivery guarantees at the door', () => {
    const swHeaders = (
      secret: string,
      id: string,
      body: string,
      timestamp = Math.floor(Date.now() / 1000),
    ) => ({
      'Content-Type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook({
        secret: standardWebhookSecretFor(secret),
        id,
        timestamp,
        body,
      }),
    });
    const path = (tenantId: string) => `/webhook/servicedesk?tenant_id=${tenantId}`;

    it('verifies Standard Webhooks and uses webhook-id as the idempotency key', async () => {
      const before = await storedJobs(active.id);
      const first = JSON.stringify({ ticket_id: 'SW-1', subject: 'Standard webhook' });
      const retried = JSON.stringify({ ticket_id: 'SW-1', subject: 'Standard webhook', retry: 2 });
      const a = await post(path(active.id), first, swHeaders(active.secret, 'msg_abc', first));
      const b = await post(path(active.id), retried, swHeaders(active.secret, 'msg_abc', retried));
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(b.body['job_id']).toBe(a.body['job_id']);
      expect(await storedJobs(active.id)).toBe(before + 1);
    });

    it('refuses Standard Webhooks timestamps more than 300 s old or ahead with the reply an unknown tenant gets', async () => {
      const body = JSON.stringify({ ticket_id: 'SW-2', subject: 'Old' });
      // Read the clock for each request, with seconds to spare: with one reading and
      // 301, a loaded machine crossing into the next second made "ahead" fall inside.
      const now = () => Math.floor(Date.now() / 1000);
      const stale = await post(
        path(active.id),
        body,
        swHeaders(active.secret, 'msg_old', body, now() - 310),
      );
      const future = await post(
        path(active.id),
        body,
        swHeaders(active.secret, 'msg_new', body, now() + 310),
      );
      const unknown = await post(
        path(randomUUID()),
        body,
        swHeaders(active.secret, 'msg_unknown', body, now()),
      );
      // No oracle: stale, future and unknown tenant are indistinguishable to the sender.
      expect([stale.status, future.status, unknown.status]).toEqual([403, 403, 403]);
      expect(stale.body).toEqual(unknown.body);
      expect(future.body).toEqual(unknown.body);
    });

    it("gives a replay outside JetStream's duplicate window the same job id", async () => {
      // Queued again: the context-gatherer drops a job that already ended (tests/e2e).
      const jsm = await jetstreamManager(nats.nc);
      const info = await jsm.streams.info(nats.topology.ticketsStream);
      await jsm.streams.update(nats.topology.ticketsStream, {
        ...info.config,
        duplicate_window: 100_000_000,
      });
      try {
        const body = JSON.stringify({ ticket_id: 'LATE-1', subject: 'Replayed days later' });
        const first = await webhook(active.id, body, sign(active.secret, body));
        await new Promise((r) => setTimeout(r, 300));
        const replay = await webhook(active.id, body, sign(active.secret, body));
        expect([first.status, replay.status]).toEqual([202, 202]);
        expect(replay.body['job_id']).toBe(first.body['job_id']);
      } finally {
        await jsm.streams.update(nats.topology.ticketsStream, info.config);
      }
    });

    it('accepts the static header only for a tenant explicitly switched to it', async () => {
      const weak = { id: randomUUID(), secret: 'w'.repeat(40) };
      await kv.put(
        weak.id,
        entry(weak.id, [weak.secret], 'active', { auth_scheme: 'static_header' }),
      );
      const body = JSON.stringify({ ticket_id: 'ST-1', subject: 'Cannot sign' });
      const headers = { 'Content-Type': 'application/json', 'X-ServiceDesk-Token': weak.secret };
      await eventually(
        async () => ((await post(path(weak.id), body, headers)).status === 202 ? true : undefined),
        2_000,
      );
      expect(
        (await post(path(weak.id), body, { ...headers, 'X-ServiceDesk-Token': 'guess' })).status,
      ).toBe(403);
      // A signing tenant never accepts the static header.
      const signed = await post(path(active.id), body, {
        'Content-Type': 'application/json',
        'X-ServiceDesk-Token': active.secret,
      });
      expect(signed.status).toBe(403);
    });

    it('enforces requests_per_minute across two ingress replicas with 429 and Retry-After', async () => {
      const limited = { id: randomUUID(), secret: 'l'.repeat(40) };
      await kv.put(
        limited.id,
        entry(limited.id, [limited.secret], 'active', { requests_per_minute: 6 }),
      );
      const second = await NestFactory.create(
        AppModule.register(
          loadIngressConfig({
            NATS_NAMESPACE: nats.namespace,
            TENANT_ENCRYPTION_KEY: key,
            LOG_LEVEL: 'error',
          }),
        ),
        { bodyParser: false, logger: false },
      );
      await second.listen(0, '127.0.0.1');
      const secondUrl = `http://127.0.0.1:${((second.getHttpServer() as Server).address() as AddressInfo).port}`;
      try {
        await eventually(() =>
          second.get(TenantDirectory).get(limited.id) && app.get(TenantDirectory).get(limited.id)
            ? true
            : undefined,
        );
        // Fixed one-minute windows: do not straddle a boundary.
        const intoMinute = Date.now() % 60_000;
        if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
        const statuses: number[] = [];
        let retryAfter: string | null = null;
        for (let i = 0; i < 10; i++) {
          const body = JSON.stringify({ ticket_id: `RL-${i}`, subject: 'Flood' });
          const res = await fetch(`${i % 2 ? secondUrl : baseUrl}${path(limited.id)}`, {
            method: 'POST',
            body,
            headers: {
              'Content-Type': 'application/json',
              'X-ServiceDesk-Signature': sign(limited.secret, body),
            },
          });
          statuses.push(res.status);
          if (res.status === 429) retryAfter = res.headers.get('retry-after');
        }
        expect(statuses.filter((s) => s === 202)).toHaveLength(6);
        expect(statuses.filter((s) => s === 429)).toHaveLength(4);
        expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
        expect(Number(retryAfter)).toBeLessThanOrEqual(60);
        // Other tenants are not affected.
        const body = JSON.stringify({ ticket_id: 'RL-OTHER', subject: 'Unaffected' });
        expect((await webhook(active.id, body, sign(active.secret, body))).status).toBe(202);
      } finally {
        await second.close();
      }
    });

    it('takes the tenant only from the verified route, never from the body or headers', async () => {
      const body = JSON.stringify({ ticket_id: 'X-1', subject: 'Spoof', tenant_id: rotating.id });
      const res = await post(path(active.id), body, {
        'Content-Type': 'application/json',
        'X-ServiceDesk-Signature': sign(active.secret, body),
        'Tep-Tenant-Id': rotating.id,
      });
      expect(res.status).toBe(202);
      const jsm = await jetstreamManager(nats.nc);
      const stored = await jsm.streams.getMessage(nats.topology.ticketsStream, {
        last_by_subj: nats.topology.subjects.received(active.id),
      });
      expect(TicketReceivedSchema.parse(stored!.json())).toMatchObject({
        tenant_id: active.id,
        ticket: { ticket_id: 'X-1' },
      });
      expect(stored!.header?.get('Tep-Tenant-Id')).toBe(active.id);
    });
  });
});
