/**
 * The technicians' feedback loop through the real processes: a posted note
 * carries Helpful / Not helpful links; opening one records nothing; the
 * form's POST is queued by the ingress (no database) and recorded by the
 * context-gatherer in enhancement_feedback; the latest answer counts; bad
 * links and bad input get 4xx pages and record nothing.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Client } from 'pg';
import { DEVELOPMENT_FEEDBACK_TOKEN_KEY } from '@tep/config';
import { FeedbackTokens } from '@tep/feedback-token';
import { startSdpSimulator, type SdpSimulator } from '@tep/sdp-simulator';
import {
  createTestDatabase,
  createTestNats,
  eventually,
  freePort,
  startTestPlatform,
  type ServiceProcess,
  type TestPlatform,
  type TestDatabase,
  type TestNats,
} from '@tep/testing';

const ADMIN_TOKEN = 'feedback-admin-token-'.padEnd(40, 'x');
const FEEDBACK_KEY = 'feedback-spec-key-'.padEnd(40, 'k');
const PROTO = join(
  __dirname,
  '..',
  '..',
  'apps',
  'tenant-registry',
  'src',
  'grpc',
  'tenant_admin.proto',
);

describe('feedback from the note (end to end)', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let sdp: SdpSimulator;
  let admin: Client;
  let registry: ServiceProcess;
  let ingress: ServiceProcess;
  let gatherer: ServiceProcess;
  let platform: TestPlatform;
  let tenantId: string;
  let helpfulUrl: string;
  let notHelpfulUrl: string;
  let jobId: string;
  let grpcPort: number;

  const feedbackRows = async () =>
    (
      await admin.query(
        `SELECT * FROM enhancement_feedback WHERE tenant_id = $1 ORDER BY submitted_at`,
        [tenantId],
      )
    ).rows as Record<string, unknown>[];

  const postForm = (
    url: string,
    fields: Record<string, string>,
    type = 'application/x-www-form-urlencoded',
  ) =>
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': type },
      body: new URLSearchParams(fields).toString(),
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await createTestNats();
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    sdp = await startSdpSimulator({
      apiKeys: ['feedback-sdp-key'],
      seed: { requests: [{ display_id: 'FB-1', subject: 'VPN keeps dropping', status: 'Open' }] },
    });
    grpcPort = await freePort();
    platform = await startTestPlatform({
      db,
      env: { NATS_NAMESPACE: nats.namespace, FEEDBACK_TOKEN_KEY: FEEDBACK_KEY },
      perService: { 'tenant-registry': { GRPC_PORT: String(grpcPort) } },
      adminToken: ADMIN_TOKEN,
    });
    ({ registry, ingress, gatherer } = platform);
    const tenant = await platform.createTenant({
      name: 'Feedback MSP',
      servicedesk_url: sdp.url,
      servicedesk_api_key: 'feedback-sdp-key',
    });
    tenantId = tenant.tenant_id;
    await platform.sendUntilAccepted((r) => sdp.control.sendWebhook(r), tenant, {
      ticket_id: 'FB-1',
      subject: 'VPN keeps dropping',
      status: 'Open',
    });
    const note = await eventually(
      () => sdp.control.notes().find((n) => n.request_display_id === 'FB-1'),
      30_000,
    );
    const links = [...note.description.matchAll(/href="([^"]+)"/g)].map((m) =>
      m[1].replace(/&amp;/g, '&'),
    );
    helpfulUrl = links.find((l) => l.endsWith('?rating=helpful'))!;
    notHelpfulUrl = links.find((l) => l.endsWith('?rating=not_helpful'))!;
    jobId = (/Enhancement ref: ([0-9a-f-]{36})/.exec(note.description) ?? [])[1]!;
  }, 180_000);

  afterAll(async () => {
    await platform?.kill();
    await sdp?.close();
    await admin?.end();
    await nats?.cleanup();
    await db?.drop();
  });

  it('puts Helpful and Not helpful links to the public /feedback/ page in the note', () => {
    expect(helpfulUrl.startsWith(`${ingress.url}/feedback/`)).toBe(true);
    expect(notHelpfulUrl.split('?')[0]).toBe(helpfulUrl.split('?')[0]);
    const token = decodeURIComponent(
      helpfulUrl.slice(helpfulUrl.lastIndexOf('/') + 1).split('?')[0],
    );
    expect(new FeedbackTokens([FEEDBACK_KEY]).verify(token)).toMatchObject({ tenantId, jobId });
  });

  it('opening a link shows the form with that rating chosen, and records nothing', async () => {
    const res = await fetch(notHelpfulUrl);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/value="not_helpful" checked/);
    expect(html).toContain('name="quality"');
    expect(html).toContain('name="reason"');
    await new Promise((r) => setTimeout(r, 500));
    expect(await feedbackRows()).toHaveLength(0);
  });

  it('records a submitted answer; a changed answer replaces it (the latest counts)', async () => {
    const url = helpfulUrl.split('?')[0];
    const first = await postForm(url, {
      rating: 'not_helpful',
      relevant: 'no',
      helped: 'no',
      quality: '2',
      accuracy: '1',
      reason: 'Wrong VPN gateway',
    });
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('Thank you');
    const row = await eventually(async () => (await feedbackRows())[0], 15_000);
    expect(row).toMatchObject({
      job_id: jobId,
      rating: 'not_helpful',
      quality: 2,
      reason: 'Wrong VPN gateway',
    });

    const second = await postForm(url, {
      rating: 'helpful',
      relevant: 'yes',
      quality: '5',
      accuracy: '4',
    });
    expect(second.status).toBe(200);
    const latest = await eventually(async () => {
      const rows = await feedbackRows();
      return rows[0]?.rating === 'helpful' ? rows : undefined;
    }, 15_000);
    expect(latest).toHaveLength(1);
    expect(latest[0]).toMatchObject({
      rating: 'helpful',
      relevant: 'yes',
      quality: 5,
      reason: null,
      submissions: 2,
    });
    const metrics = await (await fetch(`${gatherer.url}/metrics`)).text();
    expect(metrics).toContain(
      `enhancement_feedback_total{tenant_id="${tenantId}",rating="helpful"} 1`,
    );
    expect(metrics).toContain(
      `enhancement_feedback_total{tenant_id="${tenantId}",rating="not_helpful"} 1`,
    );
  });

  it('lists the feedback and its summary through the admin API, HTTP and gRPC', async () => {
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const list = (await (
      await fetch(`${registry.url}/tenants/${tenantId}/feedback`, { headers: auth })
    ).json()) as {
      feedback: Record<string, unknown>[];
    };
    expect(list.feedback).toEqual([
      expect.objectContaining({
        job_id: jobId,
        ticket_id: 'FB-1',
        rating: 'helpful',
        quality: 5,
        submissions: 2,
      }),
    ]);
    const summary = (await (
      await fetch(`${registry.url}/tenants/${tenantId}/feedback/summary`, { headers: auth })
    ).json()) as Record<string, unknown>;
    expect(summary).toMatchObject({
      ratings: 1,
      helpful: 1,
      helpful_rate: 1,
      relevance_yes_rate: 1,
      average_quality: 5,
      average_accuracy: 4,
      targets: { relevance_yes_rate: 0.8, average_quality: 4, average_accuracy: 4 },
    });
    const unauthenticated = await fetch(`${registry.url}/tenants/${tenantId}/feedback`);
    expect(unauthenticated.status).toBe(401);
    const badQuery = await fetch(`${registry.url}/tenants/${tenantId}/feedback?limit=0`, {
      headers: auth,
    });
    expect(badQuery.status).toBe(422);

    const definition = grpc.loadPackageDefinition(
      loadSync(PROTO, { keepCase: true, defaults: true }),
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
    );
    const call = <T>(method: string, req: object) =>
      new Promise<T>((resolve, reject) => {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${ADMIN_TOKEN}`);
        (
          client as unknown as Record<
            string,
            (r: object, m: grpc.Metadata, cb: (e: Error | null, v: T) => void) => void
          >
        )[method](req, md, (error, value) => (error ? reject(error) : resolve(value)));
      });
    try {
      const viaGrpc = await call<{ feedback: { job_id: string; rating: string }[] }>(
        'ListFeedback',
        { tenant_id: tenantId },
      );
      expect(viaGrpc.feedback.map((f) => [f.job_id, f.rating])).toEqual([[jobId, 'helpful']]);
      const viaGrpcSummary = await call<{ summary_json: string }>('GetFeedbackSummary', {
        tenant_id: tenantId,
      });
      expect(JSON.parse(viaGrpcSummary.summary_json)).toEqual(summary);
    } finally {
      client.close();
    }
  });

  it('answers forged, altered and expired links with 403/410 pages, bad input with 4xx, and records nothing', async () => {
    const before = await feedbackRows();
    const url = helpfulUrl.split('?')[0];
    const token = url.slice(url.lastIndexOf('/') + 1);
    const [t, j, e, s] = token.split('.') as [string, string, string, string];
    const altered = `${ingress.url}/feedback/${t}.${j}.${e}.${s.slice(0, -2)}xx`;
    const otherKey = new FeedbackTokens([DEVELOPMENT_FEEDBACK_TOKEN_KEY]).sign(tenantId, jobId);
    const expired = new FeedbackTokens([FEEDBACK_KEY]).sign(
      tenantId,
      jobId,
      Date.now() - 31 * 86_400_000,
    );
    for (const [link, status] of [
      [altered, 403],
      [`${ingress.url}/feedback/${otherKey}`, 403],
      [`${ingress.url}/feedback/garbage`, 403],
      [`${ingress.url}/feedback/${expired}`, 410],
    ] as const) {
      expect([link, (await fetch(link)).status]).toEqual([link, status]);
      const posted = await postForm(link, { rating: 'helpful' });
      expect([link, posted.status]).toEqual([link, status]);
      expect(posted.headers.get('content-type')).toMatch(/text\/html/);
    }
    for (const [fields, status, type] of [
      [{ rating: 'maybe' }, 400, undefined],
      [{ rating: 'helpful', quality: '9' }, 400, undefined],
      [{ rating: 'helpful', extra: 'x' }, 400, undefined],
      [{ rating: 'helpful', reason: 'x'.repeat(2001) }, 400, undefined],
      [{ rating: 'helpful', reason: 'x'.repeat(20_000) }, 413, undefined],
      [{ rating: 'helpful' }, 415, 'application/json'],
    ] as const) {
      const res = await postForm(url, fields, type);
      expect([fields, res.status]).toEqual([fields, status]);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(await feedbackRows()).toEqual(before);
  });

  it('rate-limits a link: a script replaying answers gets 429 with Retry-After', async () => {
    const url = notHelpfulUrl.split('?')[0];
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await postForm(url, { rating: 'maybe' })).status);
    // The earlier tests spent part of this link's ten a minute; the rest are refused.
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 400 || s === 429)).toBe(true);
    const refused = await postForm(url, { rating: 'helpful' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
  });
});
