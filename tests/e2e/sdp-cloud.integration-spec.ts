/**
 * ServiceDesk Plus Cloud at real volume: the simulator in cloud mode enforces
 * Zoho's limit of ten access tokens per refresh token per ten minutes, and
 * two poster replicas share one token per tenant through NATS KV.
 */
import { Client } from 'pg';
import { startSdpSimulator, type SdpSimulator } from '@tep/sdp-simulator';
import {
  createTestDatabase,
  createTestNats,
  eventually,
  startServiceProcess,
  testEncryptionKey,
  type ServiceProcess,
  type TestDatabase,
  type TestNats,
} from '@tep/testing';

const ADMIN_TOKEN = 'e2e-cloud-admin-token-'.padEnd(40, 'x');
/** The figure: 50 tickets over two minutes. */
const TICKETS = 50;
const SPREAD_MS = Number(process.env.SDP_CLOUD_SPREAD_MS ?? 120_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SDP Cloud: one access token per tenant across poster replicas', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let sdp: SdpSimulator;
  let admin: Client;
  const services: ServiceProcess[] = [];
  let ingress: ServiceProcess;
  let tenant: { tenant_id: string; webhook_secret: string };

  const send = (ticketId: string, subject: string) =>
    sdp.control.sendWebhook({
      url: `${ingress.url}/webhook/servicedesk?tenant_id=${tenant.tenant_id}`,
      secret: tenant.webhook_secret,
      payload: { ticket_id: ticketId, subject, status: 'Open' },
    });
  /** The note lands just before the poster records it: wait for every record. */
  const postedStatuses = (expected: number) =>
    eventually(async () => {
      const { rows } = await admin.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM enhancement_history WHERE tenant_id = $1 GROUP BY status`,
        [tenant.tenant_id],
      );
      return rows.reduce((n, r) => n + r.n, 0) >= expected &&
        rows.every((r) => r.status === 'posted')
        ? rows
        : undefined;
    }, 30_000).catch(async () => {
      const { rows } = await admin.query(
        `SELECT status, count(*)::int AS n FROM enhancement_history WHERE tenant_id = $1 GROUP BY status`,
        [tenant.tenant_id],
      );
      return rows;
    });
  const notedTickets = () => new Set(sdp.control.notes().map((n) => n.request_display_id));

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await createTestNats();
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    const requests = Array.from({ length: TICKETS + 10 }, (_, i) => ({
      display_id: `CLD-${i + 1}`,
      subject: `Outlook keeps asking for the password on laptop ${i + 1}`,
    }));
    sdp = await startSdpSimulator({ mode: 'cloud', portals: ['itdesk'], seed: { requests } });
    const common = {
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: testEncryptionKey(),
      ALLOW_INSECURE_SERVICEDESK_URLS: 'true',
      DATABASE_URL: db.appUrl,
    };
    const registry = await startServiceProcess('tenant-registry', {
      ...common,
      DATABASE_URL: db.registryUrl,
      ADMIN_TOKENS: ADMIN_TOKEN,
    });
    services.push(registry);
    const rest = await Promise.all([
      startServiceProcess('webhook-ingress', common),
      startServiceProcess('context-gatherer', common),
      startServiceProcess('llm-synthesizer', common),
      // Two replicas on the shared durable consumer, each with its own process memory.
      ...[1, 2].map(() =>
        startServiceProcess('servicedesk-poster', {
          ...common,
          DATABASE_URL: db.posterUrl,
          SDP_TIMEOUT_MS: '3000',
        }),
      ),
    ]);
    services.push(...rest);
    ingress = rest[0];

    const oauth = sdp.credentials.oauth!;
    const created = await fetch(`${registry.url}/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'Cloud MSP',
        servicedesk_url: sdp.url,
        servicedesk_settings: {
          auth_kind: 'oauth',
          portal: 'itdesk',
          accounts_url: oauth.accountsUrl,
        },
        servicedesk_oauth: {
          client_id: oauth.clientId,
          client_secret: oauth.clientSecret,
          refresh_token: oauth.refreshToken,
        },
      }),
    });
    expect(created.status).toBe(201);
    tenant = (await created.json()) as typeof tenant;
    await eventually(async () => ((await send('CLD-0', '')).status === 422 ? true : undefined));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.kill()));
    await sdp?.close();
    await admin?.end();
    await nats?.cleanup();
    await db?.drop();
  });

  it(
    `posts all ${TICKETS} notes with at most two tokens minted, refreshing once when the token expires mid-run`,
    async () => {
      for (let i = 1; i <= TICKETS; i++) {
        const reply = await send(`CLD-${i}`, `Outlook keeps asking for the password (${i})`);
        expect(reply.status).toBe(202);
        // Halfway through, every issued token dies, as after an hour.
        if (i === TICKETS / 2) sdp.control.expireTokens();
        await sleep(SPREAD_MS / TICKETS);
      }
      await eventually(() => (notedTickets().size >= TICKETS ? true : undefined), 60_000).catch(
        (error: unknown) => {
          const noted = notedTickets();
          console.log('noted', noted.size, 'minted', sdp.control.tokensMinted());
          for (const s of services)
            console.log(
              s.name,
              s
                .output()
                .split('\n')
                .filter((l) => /"level":[45]0/.test(l))
                .slice(0, 8)
                .join('\n'),
            );
          throw error;
        },
      );
      expect(sdp.control.notes()).toHaveLength(TICKETS);
      expect(sdp.control.tokensMinted()).toBeGreaterThanOrEqual(1);
      expect(sdp.control.tokensMinted()).toBeLessThanOrEqual(2);
      expect(await postedStatuses(TICKETS)).toEqual([{ status: 'posted', n: TICKETS }]);
      // Both replicas did part of the work.
      const posters = services.filter((s) => s.name === 'servicedesk-poster');
      for (const poster of posters) expect(poster.output()).toContain('Enhancement posted');
    },
    SPREAD_MS + 120_000,
  );

  it('delays notes while Zoho answers "too many requests", loses none and never files it as bad credentials', async () => {
    const before = sdp.control.notes().length;
    sdp.control.expireTokens();
    sdp.control.throttleTokens(8_000);
    for (let i = TICKETS + 1; i <= TICKETS + 5; i++) {
      expect((await send(`CLD-${i}`, `VPN drops every hour (${i})`)).status).toBe(202);
    }
    await sleep(3_000);
    expect(sdp.control.notes()).toHaveLength(before);
    await eventually(() => (sdp.control.notes().length >= before + 5 ? true : undefined), 90_000);
    expect(sdp.control.notes()).toHaveLength(before + 5);
    expect(await postedStatuses(TICKETS + 5)).toEqual([{ status: 'posted', n: TICKETS + 5 }]);
    const posters = services.filter((s) => s.name === 'servicedesk-poster');
    for (const poster of posters) {
      expect(poster.output()).not.toContain('rejected the credentials');
      expect(poster.output()).not.toContain(sdp.credentials.oauth!.refreshToken);
    }
  }, 150_000);
});
