import { randomUUID } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import { createTestNats, type TestNats } from '@tep/testing';
import { TenantRateLimiter } from './rate-limiter';

/** Two ingress replicas' limiters over one real NATS KV counter. */
describe('TenantRateLimiter (NATS KV)', () => {
  let nats: TestNats;
  let replicas: TenantRateLimiter[];

  beforeAll(async () => {
    nats = await createTestNats();
    replicas = [
      new TenantRateLimiter(nats.nc, nats.topology),
      new TenantRateLimiter(nats.nc, nats.topology),
    ];
    for (const replica of replicas) await replica.onModuleInit();
  });
  afterAll(() => nats?.cleanup());

  const counter = async (tenantId: string, now: number) => {
    const kv = await new Kvm(nats.nc).open(`${nats.namespace}_webhook_rate_limits`);
    const entry = await kv.get(`${tenantId}.${Math.floor(now / 60_000)}`);
    return entry ? Number(entry.string()) : 0;
  };

  it('never admits more than the limit across replicas, and at most a block per replica less', async () => {
    const tenantId = randomUUID();
    const now = Date.now();
    // 400 a minute: blocks of 20, so the two replicas lose at most 2 × 19.
    const decisions = await Promise.all(
      Array.from({ length: 600 }, (_, i) => replicas[i % 2].take(tenantId, 400, now)),
    );
    const allowed = decisions.filter((d) => d.allowed).length;
    expect(allowed).toBeLessThanOrEqual(400);
    expect(allowed).toBeGreaterThanOrEqual(400 - 2 * 19);
    expect(await counter(tenantId, now)).toBeLessThanOrEqual(400);
    const denied = decisions.find((d) => !d.allowed);
    expect(denied).toMatchObject({ allowed: false });
    expect((denied as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('takes small limits one request at a time: exact across replicas', async () => {
    const tenantId = randomUUID();
    const now = Date.now();
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => replicas[i % 2].take(tenantId, 6, now)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(6);
    expect(await counter(tenantId, now)).toBe(6);
  });

  it('applies a lowered limit at once, not after the block taken under the old one', async () => {
    const tenantId = randomUUID();
    const now = Date.now();
    expect((await replicas[0].take(tenantId, 600, now)).allowed).toBe(true);
    // 30 taken from the counter under 600; the new limit of 1 is already used up.
    expect((await replicas[0].take(tenantId, 1, now)).allowed).toBe(false);
  });

  it('starts afresh in the next minute', async () => {
    const tenantId = randomUUID();
    const now = Date.now();
    for (let i = 0; i < 3; i++) await replicas[0].take(tenantId, 2, now);
    expect((await replicas[0].take(tenantId, 2, now)).allowed).toBe(false);
    expect((await replicas[0].take(tenantId, 2, now + 60_000)).allowed).toBe(true);
  });
});
