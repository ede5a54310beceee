import { Kvm } from '@nats-io/kv';
import { SecretCipher } from '@tep/encryption';
import { createTestNats, testEncryptionKey, type TestNats } from '@tep/testing';
import { openAccessTokenStore } from './token-store';

describe('KvAccessTokenStore (real NATS KV)', () => {
  let nats: TestNats;
  const cipher = SecretCipher.fromEnv(testEncryptionKey());

  beforeAll(async () => {
    nats = await createTestNats();
  });
  afterAll(async () => {
    await nats.cleanup();
  });

  it('keeps tokens encrypted at rest and shares them between processes', async () => {
    const a = await openAccessTokenStore(nats.nc, nats.topology.oauthTokenBucket, cipher);
    const b = await openAccessTokenStore(nats.nc, nats.topology.oauthTokenBucket, cipher);
    await a.write('k1', { token: '1000.secret-access-token', refreshAt: Date.now() + 60_000 });

    expect(await b.read('k1')).toMatchObject({ token: '1000.secret-access-token' });
    const raw = await (await new Kvm(nats.nc).open(nats.topology.oauthTokenBucket)).get('token.k1');
    expect(raw?.string()).not.toContain('secret-access-token');

    // A reader without the key sees nothing usable (and mints afresh).
    const other = await openAccessTokenStore(
      nats.nc,
      nats.topology.oauthTokenBucket,
      SecretCipher.fromEnv(testEncryptionKey()),
    );
    expect(await other.read('k1')).toBeUndefined();
  });

  it('forgets a token only while it is still the stored one', async () => {
    const store = await openAccessTokenStore(nats.nc, nats.topology.oauthTokenBucket, cipher);
    await store.write('k2', { token: 'new', refreshAt: Date.now() + 60_000 });
    await store.forget('k2', 'old');
    expect(await store.read('k2')).toMatchObject({ token: 'new' });
    await store.forget('k2', 'new');
    expect(await store.read('k2')).toBeUndefined();
  });

  it('grants the mint lease to one process at a time and lets a dead holder’s lease run out', async () => {
    const store = await openAccessTokenStore(nats.nc, nats.topology.oauthTokenBucket, cipher);
    const leases = await Promise.all([1, 2, 3, 4].map(() => store.lease('k3', 60_000)));
    expect(leases.filter(Boolean)).toHaveLength(1);
    await leases.find(Boolean)!();
    const next = await store.lease('k3', 200);
    expect(next).toBeDefined();
    expect(await store.lease('k3', 200)).toBeUndefined();
    // The holder never releases (it died): once its lease ran out, another takes over.
    await new Promise((r) => setTimeout(r, 300));
    expect(await store.lease('k3', 200)).toBeDefined();
  });
});
