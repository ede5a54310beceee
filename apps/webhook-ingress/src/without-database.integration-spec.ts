/**
 * The ingress has no database dependency: started as `npm start` starts it
 * (apps/webhook-ingress/src/main.ts), with DATABASE_URL pointing at a port
 * nothing listens on, it starts, reports live, ready and healthy, and accepts
 * a signed webhook with 202 — PostgreSQL is never contacted. It says once
 * that the variable is ignored.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import { SecretCipher } from '@tep/encryption';
import {
  TEST_NATS_URL,
  createTestNats,
  freePort,
  startServiceProcess,
  testEncryptionKey,
  type ServiceProcess,
  type TestNats,
} from '@tep/testing';
import { directoryEntry } from './tenant-directory/directory-entry.spec-helper';

describe('webhook ingress with PostgreSQL unreachable', () => {
  let nats: TestNats;
  let ingress: ServiceProcess;
  const key = testEncryptionKey();
  const tenant = { id: randomUUID(), secret: 's'.repeat(64) };

  beforeAll(async () => {
    nats = await createTestNats();
    const cipher = SecretCipher.fromEnv(key);
    const kv = await new Kvm(nats.nc).create(nats.topology.tenantDirectoryBucket, { history: 1 });
    await kv.put(tenant.id, directoryEntry(cipher, tenant.id, [tenant.secret]));
    // Free a moment ago, so nothing listens there: any connection attempt would be refused.
    const closedPort = await freePort();
    ingress = await startServiceProcess('webhook-ingress', {
      DATABASE_URL: `postgres://tep_app:tep_app@127.0.0.1:${closedPort}/ai_agents`,
      DATABASE_POOL_SIZE: 'not a number',
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: key,
      LOG_LEVEL: 'info',
    });
  }, 90_000);

  afterAll(async () => {
    await ingress?.kill();
    await nats?.cleanup();
  });

  it('answers /livez, /readyz and /health with 200, none of them about Postgres', async () => {
    const live = await fetch(`${ingress.url}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'alive' });

    const ready = await fetch(`${ingress.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checked: ['jetstream', 'nats', 'tenant_directory'],
    });

    const health = await fetch(`${ingress.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'healthy' });
  });

  it('accepts a signed webhook with 202', async () => {
    const body = JSON.stringify({ ticket_id: 'NO-DB-1', subject: 'Postgres is down' });
    const res = await fetch(`${ingress.url}/webhook/servicedesk?tenant_id=${tenant.id}`, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'X-ServiceDesk-Signature': createHmac('sha256', tenant.secret).update(body).digest('hex'),
      },
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'accepted' });
  });

  it('warns once that DATABASE_URL is ignored, and never mentions PostgreSQL otherwise', () => {
    const lines = ingress.output().split('\n');
    const warnings = lines.filter((l) => l.includes('DATABASE_URL'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0])).toMatchObject({
      level: 40,
      msg: 'DATABASE_URL is set but webhook-ingress does not use it: ignored',
    });
    expect(ingress.output()).not.toMatch(/postgres/i);
  });
});
