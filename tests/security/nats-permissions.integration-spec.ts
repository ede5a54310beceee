/**
 * The production NATS configuration (deploy/k8s/base/nats/auth.conf, TLS)
 * on a nats-server of its own: the whole pipeline works with each service
 * connected as its own user, and every out-of-role publish, subscribe,
 * stream and KV operation is refused — tried as a compromised ingress, a
 * compromised worker, the registry and an unauthenticated client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createTopology } from '@tep/contracts';
import {
  natsConnectionOptions,
  natsSettingsOf,
  renderNatsAuthorization,
  type NatsUser,
} from '@tep/pipeline';
import { startSdpSimulator, type SdpSimulator } from '@tep/sdp-simulator';
import {
  createTestDatabase,
  eventually,
  freePort,
  startTestPlatform,
  type TestDatabase,
  type TestPlatform,
} from '@tep/testing';
import {
  DEPLOY_AUTH_CONF,
  NATS_SERVER,
  writeSecureNatsConfig,
  type SecureNatsConfig,
} from './secure-nats';

const ADMIN_TOKEN = 'nats-permissions-admin-token-'.padEnd(40, 'x');
const topology = createTopology('');
const VICTIM = '00000000-0000-4000-8000-00000000beef';
const SERVICES = [
  'webhook-ingress',
  'tenant-registry',
  'context-gatherer',
  'llm-synthesizer',
  'servicedesk-poster',
] as const;

/** How a subscription ended within `ms` (the server closes a refused one with its error). */
const closedWithin = (closed: Promise<unknown>, ms: number) =>
  Promise.race([
    closed,
    new Promise((resolve) => setTimeout(() => resolve('still open'), ms).unref()),
  ]);

/** What a refused request looks like to the client. */
const REFUSED = /permission|authorization/i;

describe('NATS users and permissions (production configuration)', () => {
  let dir: string;
  let secure: SecureNatsConfig;
  let server: ChildProcess;
  let url: string;
  let db: TestDatabase;
  let sdp: SdpSimulator;
  let platform: TestPlatform;
  const connections = new Map<NatsUser, NatsConnection>();

  /** A user's connection settings, from the variables the services get. */
  const settingsOf = (user: NatsUser) => natsSettingsOf({ NATS_URL: url, ...secure.envFor(user) });
  const connectAs = async (user: NatsUser): Promise<NatsConnection> => {
    const nc = await connect({
      ...natsConnectionOptions(settingsOf(user), `attacker-as-${user}`),
      reconnect: false,
    });
    connections.set(user, nc);
    return nc;
  };
  const as = (user: NatsUser) => connections.get(user)!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tep-secure-nats-'));
    const port = await freePort();
    url = `tls://127.0.0.1:${port}`;
    secure = writeSecureNatsConfig(dir, port);
    const log = openSync(join(dir, 'nats-server.log'), 'a');
    server = spawn(NATS_SERVER, ['-c', secure.configFile], {
      env: { ...process.env, ...secure.serverEnv },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    await eventually(async () => {
      try {
        const nc = await connect({
          ...natsConnectionOptions(settingsOf('tep-admin'), 'probe'),
          reconnect: false,
        });
        await nc.close();
        return true;
      } catch {
        return undefined;
      }
    }, 15_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${readFileSync(join(dir, 'nats-server.log'), 'utf8')}`);
    });

    db = await createTestDatabase();
    sdp = await startSdpSimulator({
      apiKeys: ['secure-sdp-key'],
      seed: {
        requests: [{ display_id: 'SEC-1', subject: 'VPN drops every hour', status: 'Open' }],
      },
    });
    // Started together: the workers and the ingress wait for the registry's topology.
    platform = await startTestPlatform({
      db,
      env: { NATS_URL: url, NATS_NAMESPACE: '' },
      perService: Object.fromEntries(SERVICES.map((name) => [name, secure.envFor(name)])),
      adminToken: ADMIN_TOKEN,
    });
    for (const user of SERVICES) await connectAs(user);
  }, 180_000);

  afterAll(async () => {
    for (const nc of connections.values()) await nc.close().catch(() => undefined);
    await platform?.kill();
    await sdp?.close();
    await db?.drop();
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the committed deploy/ configuration is what natsPermissions renders (npm run nats:auth)', () => {
    expect(readFileSync(DEPLOY_AUTH_CONF, 'utf8')).toBe(renderNatsAuthorization(topology));
  });

  it('runs the whole pipeline with every service as its own user: webhook in, note out', async () => {
    const tenant = await platform.createTenant({
      name: 'Secure MSP',
      servicedesk_url: sdp.url,
      servicedesk_api_key: 'secure-sdp-key',
    });
    await platform.sendUntilAccepted((r) => sdp.control.sendWebhook(r), tenant, {
      ticket_id: 'SEC-1',
      subject: 'VPN drops every hour',
      status: 'Open',
    });
    const note = await eventually(
      () => sdp.control.notes().find((n) => n.request_display_id === 'SEC-1'),
      30_000,
    );
    expect(note.description).toContain('AI');
    // Nothing any service does on its own (heartbeats, queue depth, advisories) was refused either.
    for (const service of platform.all) {
      expect(readFileSync(service.logFile, 'utf8')).not.toMatch(/Permissions Violation/i);
    }
  }, 60_000);

  it('refuses a client with no user, a wrong password, or no TLS', async () => {
    await expect(
      connect({ servers: url, tls: { caFile: secure.caFile }, reconnect: false }),
    ).rejects.toThrow(REFUSED);
    await expect(
      connect({
        servers: url,
        user: 'webhook-ingress',
        pass: 'guessed',
        tls: { caFile: secure.caFile },
        reconnect: false,
      }),
    ).rejects.toThrow(REFUSED);
    // Without the CA the server's certificate is not trusted: no plaintext fallback.
    await expect(
      connect({
        servers: url.replace('tls://', 'nats://'),
        user: 'webhook-ingress',
        pass: secure.passwordOf('webhook-ingress'),
        reconnect: false,
        timeout: 3_000,
      }),
    ).rejects.toThrow();
  });

  /** A request the server must refuse (not merely leave unanswered). */
  async function expectPublishRefused(user: NatsUser, subject: string, body = '{}') {
    await expect(as(user).request(subject, body, { timeout: 3_000 })).rejects.toThrow(REFUSED);
  }

  async function expectSubscribeRefused(user: NatsUser, subject: string) {
    const sub = as(user).subscribe(subject);
    expect(String(await closedWithin(sub.closed, 3_000))).toMatch(REFUSED);
  }

  const publishAttacks: [NatsUser, string, string][] = [
    // A compromised ingress.
    [
      'webhook-ingress',
      'post text into a victim tenant’s ServiceDesk',
      `tickets.enhanced.${VICTIM}`,
    ],
    ['webhook-ingress', 'skip the gatherer', `tickets.contextualized.${VICTIM}`],
    ['webhook-ingress', 'rewrite the tenant directory', `$KV.tenant_directory.${VICTIM}`],
    [
      'webhook-ingress',
      'read the SDP token bucket',
      `$JS.API.DIRECT.GET.KV_sdp_oauth_tokens.$KV.sdp_oauth_tokens.>`,
    ],
    ['webhook-ingress', 'delete the tickets stream', '$JS.API.STREAM.DELETE.TICKETS'],
    ['webhook-ingress', 'purge the tickets stream', '$JS.API.STREAM.PURGE.TICKETS'],
    ['webhook-ingress', 'read any stored ticket', '$JS.API.STREAM.MSG.GET.TICKETS'],
    [
      'webhook-ingress',
      'create a consumer to read every ticket',
      '$JS.API.CONSUMER.CREATE.TICKETS.spy',
    ],
    [
      'webhook-ingress',
      'pull the gatherer’s messages',
      '$JS.API.CONSUMER.MSG.NEXT.TICKETS.context-gatherer',
    ],
    ['webhook-ingress', 'read the dead letters', '$JS.API.STREAM.MSG.GET.TICKETS_DLQ'],
    // A compromised gatherer.
    ['context-gatherer', 'publish a finished enhancement', `tickets.enhanced.${VICTIM}`],
    ['context-gatherer', 'inject a webhook job', `tickets.received.${VICTIM}`],
    [
      'context-gatherer',
      'pull the poster’s messages',
      '$JS.API.CONSUMER.MSG.NEXT.TICKETS.servicedesk-poster',
    ],
    ['context-gatherer', 'read the SDP token bucket', '$JS.API.DIRECT.GET.KV_sdp_oauth_tokens'],
    ['context-gatherer', 'write rate-limit counters', `$KV.webhook_rate_limits.${VICTIM}`],
    ['context-gatherer', 'rewrite the tenant directory', `$KV.tenant_directory.${VICTIM}`],
    ['context-gatherer', 'change a stream', '$JS.API.STREAM.UPDATE.TICKETS'],
    ['context-gatherer', 'delete a consumer', '$JS.API.CONSUMER.DELETE.TICKETS.servicedesk-poster'],
    // A compromised synthesizer.
    ['llm-synthesizer', 'post as the poster', `tickets.posted.${VICTIM}`],
    ['llm-synthesizer', 'read the SDP token bucket', '$JS.API.DIRECT.GET.KV_sdp_oauth_tokens'],
    [
      'llm-synthesizer',
      'pull the gatherer’s messages',
      '$JS.API.CONSUMER.MSG.NEXT.TICKETS.context-gatherer',
    ],
    // A compromised poster.
    ['servicedesk-poster', 'inject a webhook job', `tickets.received.${VICTIM}`],
    ['servicedesk-poster', 'rewrite the tenant directory', `$KV.tenant_directory.${VICTIM}`],
    ['servicedesk-poster', 'delete the dead-letter stream', '$JS.API.STREAM.DELETE.TICKETS_DLQ'],
    // The registry owns the topology and the directory, not the pipeline.
    ['tenant-registry', 'publish an enhancement', `tickets.enhanced.${VICTIM}`],
    [
      'tenant-registry',
      'pull the poster’s messages',
      '$JS.API.CONSUMER.MSG.NEXT.TICKETS.servicedesk-poster',
    ],
    ['tenant-registry', 'write rate-limit counters', `$KV.webhook_rate_limits.${VICTIM}`],
    ['tenant-registry', 'delete the tickets stream', '$JS.API.STREAM.DELETE.TICKETS'],
  ];

  it('the probes can tell: what a user may publish is not refused, and what it may read stays open', async () => {
    // The same request on a subject the user may use is answered: the probe is not blind.
    const info = await as('webhook-ingress').request(
      `$JS.API.STREAM.INFO.${topology.ticketsStream}`,
    );
    expect(info.json<{ config: { name: string } }>().config.name).toBe(topology.ticketsStream);
    const sub = as('context-gatherer').subscribe('_INBOX_context-gatherer.probe');
    expect(await closedWithin(sub.closed, 1_000)).toBe('still open');
    sub.unsubscribe();
  });

  it.each(publishAttacks)('%s may not %s (%s)', async (user, _what, subject) => {
    await expectPublishRefused(user, subject);
  });

  const subscribeAttacks: [NatsUser, string, string][] = [
    ['webhook-ingress', 'read every ticket as it is published', 'tickets.>'],
    ['webhook-ingress', 'read other services’ replies and deliveries', '_INBOX.>'],
    ['webhook-ingress', 'read the poster’s deliveries', '_INBOX_servicedesk-poster.>'],
    ['context-gatherer', 'read every subject', '>'],
    ['llm-synthesizer', 'read the gatherer’s deliveries', '_INBOX_context-gatherer.>'],
    ['servicedesk-poster', 'read the tenant directory changes', '$KV.tenant_directory.>'],
    ['tenant-registry', 'read enhancements', 'tickets.enhanced.*'],
  ];

  it.each(subscribeAttacks)('%s may not %s (subscribe %s)', async (user, _what, subject) => {
    await expectSubscribeRefused(user, subject);
  });
});
