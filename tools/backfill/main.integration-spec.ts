/**
 * `npm run backfill` as the operator runs it, for an SDP Cloud tenant: the
 * Zoho access token comes from the platform's shared store in NATS KV, and
 * without NATS the back-fill still runs, with a warning, on a token of its own.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { SecretCipher } from '@tep/encryption';
import { startSdpSimulator, type SdpSimulator } from '@tep/sdp-simulator';
import {
  TEST_NATS_URL,
  createTestDatabase,
  createTestNats,
  freePort,
  testEncryptionKey,
  type TestDatabase,
  type TestNats,
} from '@tep/testing';

const ROOT = join(__dirname, '..', '..');
const TENANT = randomUUID();

describe('npm run backfill for an SDP Cloud tenant', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let sdp: SdpSimulator;
  const key = testEncryptionKey();

  const run = (env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      let output = '';
      const child = spawn(
        process.execPath,
        ['-r', './tools/register.js', 'tools/backfill/main.ts', '--tenant', TENANT],
        {
          cwd: ROOT,
          env: {
            PATH: process.env['PATH'],
            NODE_ENV: 'test',
            DATABASE_URL: db.posterUrl,
            TENANT_ENCRYPTION_KEY: key,
            ALLOW_INSECURE_SERVICEDESK_URLS: 'true',
            NATS_URL: TEST_NATS_URL,
            NATS_NAMESPACE: nats.namespace,
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, output }));
    });

  beforeAll(async () => {
    [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
    sdp = await startSdpSimulator({
      mode: 'cloud',
      portals: ['itdesk'],
      seed: {
        requests: Array.from({ length: 3 }, (_, i) => ({
          display_id: `CLD-${i}`,
          subject: `Mailbox full on laptop ${i}`,
          status: 'Resolved',
          created_time: Date.parse('2025-01-01T00:00:00Z') + i * 60_000,
          resolved_time: Date.parse('2025-02-01T00:00:00Z'),
          resolution: `<p>Archived old mail (${i})</p>`,
        })),
      },
    });
    const oauth = sdp.credentials.oauth!;
    const cipher = SecretCipher.fromEnv(key);
    const admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    try {
      await admin.query(
        `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted,
           servicedesk_settings, webhook_signing_secret_encrypted)
         VALUES ($1, 'Cloud MSP', $2, $3, $4, $5)`,
        [
          TENANT,
          sdp.url,
          cipher.encrypt(
            JSON.stringify({
              client_id: oauth.clientId,
              client_secret: oauth.clientSecret,
              refresh_token: oauth.refreshToken,
            }),
          ),
          JSON.stringify({ auth_kind: 'oauth', portal: 'itdesk', accounts_url: oauth.accountsUrl }),
          cipher.encrypt('webhook-secret'),
        ],
      );
    } finally {
      await admin.end();
    }
  }, 60_000);

  afterAll(async () => {
    await sdp?.close();
    await nats?.cleanup();
    await db?.drop();
  });

  it('shares one access token between runs through NATS KV, and runs on a private one without NATS', async () => {
    const first = await run({});
    expect({ code: first.code, output: first.output }).toEqual({
      code: 0,
      output: expect.stringContaining('done: 3 tickets'),
    });
    expect(first.output).toContain(
      `Zoho access tokens: shared store ${nats.topology.oauthTokenBucket} (NATS KV)`,
    );
    expect(sdp.control.tokensMinted()).toBe(1);

    // Another process finds the token the first one minted.
    const second = await run({});
    expect(second.code).toBe(0);
    expect(sdp.control.tokensMinted()).toBe(1);

    const offline = await run({ NATS_URL: `nats://127.0.0.1:${await freePort()}` });
    expect(offline.code).toBe(0);
    expect(offline.output).toContain(
      `[backfill] warning: the shared Zoho token store ${nats.topology.oauthTokenBucket} is unavailable`,
    );
    expect(offline.output).toContain('[backfill] done');
    expect(sdp.control.tokensMinted()).toBe(2);

    for (const { output } of [first, second, offline]) {
      expect(output).not.toContain(sdp.credentials.oauth!.refreshToken);
      expect(output).not.toContain(sdp.credentials.oauth!.clientSecret);
    }
  }, 90_000);
});
