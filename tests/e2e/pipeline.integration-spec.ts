import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
/**
 * The whole pipeline as real processes — ingress, registry, gatherer,
 * synthesizer, poster — over real NATS and Postgres, with the SDP simulator
 * and a chat-completions server standing in for the outside services.
 */
import { Client } from 'pg';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { DeadLetterSchema } from '@tep/contracts';
import { SecretCipher } from '@tep/encryption';
import {
  startFakeChatCompletionsServer,
  type FakeChatCompletionsServer,
  type FakeChatRequestBody,
} from '@tep/enhancement-synthesis';
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
import { RUNBOOK_TEST_PAYLOAD } from '@tep/demo';

const ADMIN_TOKEN = 'e2e-admin-token-'.padEnd(40, 'x');

interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  attributes: Record<string, string>;
}
interface OtlpReceiver {
  url: string;
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

/** A minimal OTLP/HTTP JSON trace receiver, as a collector would be. */
async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  type Attr = { key: string; value: { stringValue?: string; intValue?: string } };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const doc = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: Attr[] };
          scopeSpans: { spans: { name: string; traceId: string; attributes?: Attr[] }[] }[];
        }[];
      };
      for (const rs of doc.resourceSpans) {
        const service =
          rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const ss of rs.scopeSpans) {
          for (const span of ss.spans) {
            const attributes = Object.fromEntries(
              (span.attributes ?? []).map((a) => [
                a.key,
                a.value.stringValue ?? a.value.intValue ?? '',
              ]),
            );
            received.push({ service, name: span.name, traceId: span.traceId, attributes });
          }
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Tenant {
  tenant_id: string;
  webhook_secret: string;
  sdp: SdpSimulator;
}

/** The poster's environment holds no webhook-secret key. */
function withoutWebhookKey<T extends { TENANT_ENCRYPTION_KEY: string }>(
  env: T,
): Omit<T, 'TENANT_ENCRYPTION_KEY'> {
  const rest: Partial<T> = { ...env };
  delete rest.TENANT_ENCRYPTION_KEY;
  return rest as Omit<T, 'TENANT_ENCRYPTION_KEY'>;
}

/** A model that answers from the data it is given, so the note shows what context each tenant got. */
function echoModel(body: FakeChatRequestBody) {
  const user = body.messages?.find((m) => m.role === 'user')?.content ?? '';
  const data = JSON.parse(user.slice(user.indexOf('{'), user.lastIndexOf('}') + 1)) as {
    ticket: { subject: string };
    similar_tickets: { id: string; resolution: string | null }[];
  };
  if (data.ticket.subject.includes('LLM-DOWN'))
    return { kind: 'error' as const, status: 500, message: 'upstream exploded' };
  // Time for a spec to change something while the job is on its way.
  const delayMs = data.ticket.subject.includes('SLOW-LLM') ? 1_500 : 0;
  const best = data.similar_tickets[0];
  return {
    kind: 'completion' as const,
    delayMs,
    content: {
      likely_cause: best?.resolution ?? 'No history matched',
      suggested_actions: data.similar_tickets
        .map((t) => `Apply the fix from ${t.id}`)
        .concat('Confirm with the requester'),
      related_tickets: data.similar_tickets.map((t) => t.id),
      confidence: 0.85,
    },
  };
}

describe('ticket enhancement pipeline, end to end', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let webhookKey: string;
  let credentialKey: string;
  let llm: FakeChatCompletionsServer;
  let otlp: OtlpReceiver;
  let admin: Client;
  const services: ServiceProcess[] = [];
  let ingress: ServiceProcess;
  let registry: ServiceProcess;
  let acme: Tenant;
  let globex: Tenant;

  async function createTenant(name: string, sdp: SdpSimulator): Promise<Tenant> {
    const res = await fetch(`${registry.url}/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name,
        servicedesk_url: sdp.url,
        servicedesk_api_key: sdp.credentials.apiKeys[0],
        tier: 'basic',
      }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { tenant_id: string; webhook_secret: string };
    return { ...created, sdp };
  }

  async function history(tenant: Tenant, rows: [string, string, string][]): Promise<void> {
    for (const [ticketId, subject, resolution] of rows) {
      await admin.query(
        `INSERT INTO ticket_history (tenant_id, ticket_id, display_id, subject, resolution, status, resolved_at)
         VALUES ($1, $2, $2, $3, $4, 'Resolved', now())`,
        [tenant.tenant_id, ticketId, subject, resolution],
      );
    }
  }

  /** What a configured SDP sends: the payload signed over the exact bytes it posts. */
  async function sendWebhook(tenant: Tenant, payload: string | object) {
    return tenant.sdp.control.sendWebhook({
      url: `${ingress.url}/webhook/servicedesk?tenant_id=${tenant.tenant_id}`,
      secret: tenant.webhook_secret,
      payload,
    });
  }

  const notesOn = (tenant: Tenant, displayId: string) =>
    tenant.sdp.control.notes().filter((n) => n.request_display_id === displayId);

  async function jobRow(tenant: Tenant, jobId: string, status: string) {
    let last: Record<string, unknown> | undefined;
    return eventually(async () => {
      const { rows } = await admin.query(
        `SELECT * FROM enhancement_history WHERE tenant_id = $1 AND job_id = $2`,
        [tenant.tenant_id, jobId],
      );
      last = rows[0] as Record<string, unknown> | undefined;
      return last?.status === status ? last : undefined;
    }, 30_000).catch((error: Error) => {
      throw new Error(
        `job ${jobId} not ${status}: ${error.message}; last seen ${JSON.stringify(last)}`,
      );
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await createTestNats();
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    llm = await startFakeChatCompletionsServer(echoModel);
    otlp = await startOtlpReceiver();
    webhookKey = testEncryptionKey();
    // SDP credentials under a key of their own, as in production: only the
    // registry and the poster hold it; the poster has no webhook-secret key.
    credentialKey = testEncryptionKey();
    const common = {
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: webhookKey,
      ALLOW_INSECURE_SERVICEDESK_URLS: 'true',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.appUrl,
      // Standard OTEL_* variables: every service exports its spans to the test's receiver.
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    registry = await startServiceProcess('tenant-registry', {
      ...common,
      DATABASE_URL: db.registryUrl,
      ADMIN_TOKENS: ADMIN_TOKEN,
      SERVICEDESK_CREDENTIAL_KEY: credentialKey,
    });
    services.push(registry);
    const rest = await Promise.all([
      startServiceProcess('webhook-ingress', common),
      startServiceProcess('context-gatherer', common),
      startServiceProcess('llm-synthesizer', {
        ...common,
        LLM_BASE_URL: llm.baseUrl,
        LLM_API_KEY: 'test-key',
        LLM_TIMEOUT_MS: '2000',
      }),
      startServiceProcess('servicedesk-poster', {
        ...withoutWebhookKey(common),
        DATABASE_URL: db.posterUrl,
        SERVICEDESK_CREDENTIAL_KEY: credentialKey,
        SDP_TIMEOUT_MS: '2000',
      }),
    ]);
    services.push(...rest);
    ingress = rest[0];

    const ticket = {
      display_id: 'TKT-12345',
      subject: 'Database connection timeout error',
      status: 'Open',
    };
    const [acmeSdp, globexSdp] = await Promise.all([
      startSdpSimulator({
        apiKeys: ['acme-sdp-key'],
        seed: {
          requests: [
            ticket,
            { display_id: 'TKT-777', subject: 'LLM-DOWN printer' },
            ...[
              'TKT-888',
              'TKT-500',
              'TKT-501',
              'TKT-600',
              'TKT-601',
              'TKT-602',
              'TKT-603',
              'TKT-604',
              'TKT-610',
            ].map((display_id) => ({ display_id, subject: 'Seeded ticket', status: 'Open' })),
          ],
        },
      }),
      startSdpSimulator({
        apiKeys: ['globex-sdp-key'],
        seed: { requests: [ticket, { display_id: 'TKT-900', subject: 'Seeded', status: 'Open' }] },
      }),
    ]);
    acme = await createTenant('Acme Corp MSP', acmeSdp);
    globex = await createTenant('Globex MSP', globexSdp);
    // Same ticket ids in both tenants, different histories.
    await history(acme, [
      [
        'TKT-10203',
        'Intermittent database connection timeout from billing app',
        'ACME: connection pool exhausted, raised max pool size to 50',
      ],
      [
        'TKT-11405',
        'PostgreSQL connection pool exhausted after deploy',
        'ACME: added the missing index and restarted the app',
      ],
      ['TKT-9877', 'Printer on 3rd floor offline', 'ACME: reserved the printer DHCP address'],
    ]);
    await history(globex, [
      [
        'TKT-10203',
        'Database connection timeout on ERP',
        'GLOBEX: firewall dropped idle database connections',
      ],
    ]);
    // Wait until the ingress sees both tenants.
    await eventually(async () =>
      (await sendWebhook(globex, { ticket_id: 'TKT-0', subject: '' })).status === 422
        ? true
        : undefined,
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.kill()));
    await Promise.all([acme?.sdp.close(), globex?.sdp.close(), llm?.close(), otlp?.close()]);
    await admin?.end();
    await nats?.cleanup();
    await db?.drop();
  });

  it("turns the runbook's test webhook into exactly one technicians-only note built from the tenant's history", async () => {
    const reply = await sendWebhook(acme, RUNBOOK_TEST_PAYLOAD);
    expect(reply.status).toBe(202);
    const jobId = (JSON.parse(reply.body) as { job_id: string }).job_id;

    const row = await jobRow(acme, jobId, 'posted');
    const notes = notesOn(acme, 'TKT-12345');
    expect(notes).toHaveLength(1);
    const note = notes[0];
    expect(note.note_id).toBe(row['note_id']);
    expect(note.show_to_requester).toBe(false);
    expect(note.description).toContain('🤖 AI-Generated Enhancement');
    // SDP shows notes as HTML: the default markdown arrives rendered, no literal asterisks.
    expect(note.description).not.toContain('**');
    expect(note.description).toContain('<strong>Likely Cause:</strong> ACME: ');
    expect(note.description).toContain('<strong>Suggested Actions:</strong>');
    expect(note.description).toMatch(/<ol>\s*<li>/);
    expect(note.description).toMatch(/<strong>Related Tickets:<\/strong> .*TKT-10203/);
    expect(note.description).toContain('TKT-11405');
    expect(note.description).toContain('<strong>Confidence:</strong> 85%');
    expect(note.description).not.toContain('GLOBEX');
    expect(row).toMatchObject({ synthesizer: 'llm', ticket_id: 'TKT-12345' });
    expect(Number(row['completion_tokens'])).toBeGreaterThan(0);

    // The ticket went into the tenant's history too.
    const { rows } = await admin.query(
      `SELECT subject FROM ticket_history WHERE tenant_id = $1 AND ticket_id = 'TKT-12345'`,
      [acme.tenant_id],
    );
    expect(rows).toEqual([{ subject: 'Database connection timeout error' }]);

    // One ticket is one trace across the services, with the runbook's spans tagged by tenant.
    const spans = await eventually(() => {
      const all = otlp.spans().filter((sp) => sp.attributes['job_id'] === jobId);
      const traceId = all.find((sp) => sp.name === 'job_queued')?.traceId;
      const inTrace = otlp.spans().filter((sp) => sp.traceId === traceId);
      return inTrace.some((sp) => sp.name === 'enhancement_posted') ? inTrace : undefined;
    }, 15_000);
    const names = new Set(spans.map((sp) => sp.name));
    for (const name of [
      'webhook_received',
      'signature_validation',
      'job_queued',
      'context_gathered',
      'ticket_enhanced',
      'enhancement_posted',
    ]) {
      expect(names).toContain(name);
    }
    expect(new Set(spans.map((sp) => sp.service))).toEqual(
      new Set(['webhook-ingress', 'context-gatherer', 'llm-synthesizer', 'servicedesk-poster']),
    );
    for (const sp of spans.filter((x) => names.has(x.name) && x.name !== 'webhook_received')) {
      expect([sp.name, sp.attributes['tenant_id']]).toEqual([sp.name, acme.tenant_id]);
    }

    // The runbook's metrics, labelled by tenant.
    const poster = services.find((sv) => sv.name === 'servicedesk-poster')!;
    const posterMetrics = await (await fetch(`${poster.url}/metrics`)).text();
    expect(posterMetrics).toContain(
      `enhancement_outcomes_total{tenant_id="${acme.tenant_id}",outcome="posted"} 1`,
    );
    expect(posterMetrics).toMatch(
      new RegExp(`enhancement_request_duration_seconds_count\\{tenant_id="${acme.tenant_id}"\\} 1`),
    );
    expect(posterMetrics).toMatch(
      /sdp_api_calls_total\{operation="POST \/requests\/\{id\}\/notes",outcome="ok"\} 1/,
    );
    expect(posterMetrics).toMatch(/enhancement_queue_depth\{stage="servicedesk-poster"\} \d+/);
    const ingressMetrics = await (await fetch(`${ingress.url}/metrics`)).text();
    expect(ingressMetrics).toContain(
      `enhancement_requests_total{tenant_id="${acme.tenant_id}",duplicate="false"}`,
    );
    const synthMetrics = await (
      await fetch(`${services.find((sv) => sv.name === 'llm-synthesizer')!.url}/metrics`)
    ).text();
    expect(synthMetrics).toContain(
      `llm_tokens_total{tenant_id="${acme.tenant_id}",kind="completion"} 60`,
    );

    // The runbook's log lines, and no secret in any log.
    expect(ingress.output()).toContain(`Webhook received from tenant_id=${acme.tenant_id}`);
    expect(ingress.output()).toContain(`Webhook signature valid for tenant_id=${acme.tenant_id}`);
    // What `grep "webhook_received"`, `"signature_valid"` and `"task_processing"` find (steps 4.4, 5.3).
    const lines = (service: ServiceProcess, event: string) =>
      service
        .output()
        .split('\n')
        .filter((line) => line.includes(`"event":"${event}"`) && line.includes(acme.tenant_id));
    expect(lines(ingress, 'webhook_received').length).toBeGreaterThan(0);
    expect(lines(ingress, 'signature_valid').length).toBeGreaterThan(0);
    const worker = (name: string) => services.find((sv) => sv.name === name)!;
    const steps = ['context-gatherer', 'llm-synthesizer', 'servicedesk-poster'].flatMap((name) =>
      lines(worker(name), 'task_processing').filter((line) => line.includes(jobId)),
    );
    for (const message of [
      'Gathering context for ticket_id=TKT-12345',
      'Synthesizing enhancement with LLM (model: openai/gpt-4o-mini)',
      'Enhancement generated:',
      'Posting enhancement to ServiceDesk Plus',
      'Enhancement posted: ticket_id=TKT-12345, duration=',
    ]) {
      expect(steps.some((line) => line.includes(message))).toBe(true);
    }
    // The job's trace id on every one of its lines, from the async context.
    const traceId = spans[0].traceId;
    expect(steps.every((line) => line.includes(`"trace_id":"${traceId}"`))).toBe(true);
    for (const service of services) {
      expect(service.output()).not.toContain(acme.webhook_secret);
      expect(service.output()).not.toContain('acme-sdp-key');
    }
  }, 60_000);

  it("stores SDP credentials under the credential key, which the ingress's key cannot open", async () => {
    const { rows } = await admin.query<{ servicedesk_api_key_encrypted: string }>(
      `SELECT servicedesk_api_key_encrypted FROM tenant_configs WHERE tenant_id = $1`,
      [acme.tenant_id],
    );
    const stored = rows[0].servicedesk_api_key_encrypted;
    expect(SecretCipher.fromEnv(credentialKey).decrypt(stored)).toBe(
      acme.sdp.credentials.apiKeys[0],
    );
    expect(() => SecretCipher.fromEnv(webhookKey).decrypt(stored)).toThrow();
  });

  it('never lets a tenant see another tenant’s history, even with overlapping ticket ids', async () => {
    const reply = await sendWebhook(globex, RUNBOOK_TEST_PAYLOAD);
    expect(reply.status).toBe(202);
    await jobRow(globex, (JSON.parse(reply.body) as { job_id: string }).job_id, 'posted');
    const [note] = notesOn(globex, 'TKT-12345');
    expect(note.description).toContain('GLOBEX: firewall dropped idle database connections');
    expect(note.description).not.toContain('ACME');
    expect(note.description).not.toContain('TKT-11405');
    expect(notesOn(globex, 'TKT-12345')).toHaveLength(1);
  }, 60_000);

  it('falls back to the offline synthesizer when the model fails, and the note says so', async () => {
    const reply = await sendWebhook(acme, {
      ticket_id: 'TKT-777',
      subject: 'LLM-DOWN printer on 3rd floor offline',
    });
    expect(reply.status).toBe(202);
    const row = await jobRow(acme, (JSON.parse(reply.body) as { job_id: string }).job_id, 'posted');
    expect(row['synthesizer']).toBe('offline');
    const [note] = notesOn(acme, 'TKT-777');
    expect(note.description).toContain('Based on retrieved context only, without the AI model (');
    expect(note.description).toContain('TKT-9877');
  }, 60_000);

  it('retries a ServiceDesk outage and still posts exactly one note', async () => {
    acme.sdp.control.fail({ mode: '500', count: 3 });
    const payload = {
      ticket_id: 'TKT-888',
      subject: 'Database connection timeout error',
      priority: 'Urgent',
    };
    const reply = await sendWebhook(acme, payload);
    const jobId = (JSON.parse(reply.body) as { job_id: string }).job_id;
    await jobRow(acme, jobId, 'posted');
    const forJob = notesOn(acme, 'TKT-888').filter((n) => n.description.includes(jobId));
    expect(forJob).toHaveLength(1);
  }, 60_000);

  const jobOf = (reply: { body: string }) => (JSON.parse(reply.body) as { job_id: string }).job_id;
  const setPreferences = async (tenant: Tenant, preferences: Record<string, unknown>) => {
    const res = await fetch(`${registry.url}/tenants/${tenant.tenant_id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ enhancement_preferences: preferences }),
    });
    expect(res.status).toBe(200);
  };

  it('gives a ticket one note: created, priority raised, In Progress, Resolved are four webhooks and one note', async () => {
    const base = {
      ticket_id: 'TKT-500',
      subject: 'Teams calls drop after 30 seconds',
      status: 'Open',
    };
    const created = await sendWebhook(acme, { ...base, description: 'Every Teams call drops.' });
    const posted = await jobRow(acme, jobOf(created), 'posted');
    const updates = [
      { ...base, event: 'updated', priority: 'High', description: 'Every Teams call drops.' },
      { ...base, event: 'updated', status: 'In Progress', description: 'Every Teams call drops.' },
      {
        ...base,
        event: 'updated',
        status: 'Resolved',
        description: 'Every Teams call drops.',
        resolution: 'Opened UDP 3478-3481 on the branch firewall for Teams media.',
      },
    ];
    const skipped = [];
    for (const update of updates) {
      skipped.push(await jobRow(acme, jobOf(await sendWebhook(acme, update)), 'skipped'));
    }
    expect(notesOn(acme, 'TKT-500')).toHaveLength(1);
    expect(notesOn(acme, 'TKT-500')[0].note_id).toBe(posted['note_id']);
    expect(skipped.map((r) => r['skip_reason'])).toEqual([
      expect.stringContaining('on_update is none'),
      expect.stringContaining('on_update is none'),
      'the ticket is Resolved: its resolution is kept as history',
    ]);
    // The resolution became history a later ticket is found by.
    const { rows } = await admin.query(
      `SELECT status, resolution, retrieval_eligible FROM ticket_history WHERE tenant_id = $1 AND ticket_id = 'TKT-500'`,
      [acme.tenant_id],
    );
    expect(rows).toEqual([
      {
        status: 'Resolved',
        resolution: 'Opened UDP 3478-3481 on the branch firewall for Teams media.',
        retrieval_eligible: true,
      },
    ]);
  }, 90_000);

  it("a replay after JetStream's duplicate window is the same job: no second note, no older state stored", async () => {
    const jsm = await jetstreamManager(nats.nc);
    const stream = nats.topology.ticketsStream;
    const original = {
      ticket_id: 'TKT-600',
      subject: 'Printer on floor 2 jams on every job',
      status: 'Open',
      description: 'Paper jams in tray 2.',
    };
    const first = await sendWebhook(acme, original);
    expect(first.status).toBe(202);
    // The job as JetStream stored it: what a replay days later is queued as again.
    const stored = await jsm.streams.getMessage(stream, {
      last_by_subj: nats.topology.subjects.received(acme.tenant_id),
    });
    await jobRow(acme, jobOf(first), 'posted');
    const update = await sendWebhook(acme, {
      ...original,
      event: 'updated',
      status: 'In Progress',
    });
    expect(update.status).toBe(202);
    await eventually(async () => {
      const { rows } = await admin.query(
        `SELECT status FROM ticket_history WHERE tenant_id = $1 AND ticket_id = 'TKT-600'`,
        [acme.tenant_id],
      );
      return rows[0]?.status === 'In Progress' ? true : undefined;
    }, 30_000);
    // After JetStream's 2-minute window the same delivery is stored again (same job id);
    // published here under a fresh Nats-Msg-Id, as the window's end would let it through.
    const replayed = await jetstream(nats.nc).publish(stored!.subject, stored!.data, {
      headers: stored!.header,
      msgID: `replayed-days-later:${jobOf(first)}`,
    });
    expect(replayed.duplicate).toBe(false);
    // The context-gatherer drops it: the job already ended.
    await eventually(async () => {
      const gatherer = await jsm.consumers.info(
        stream,
        nats.topology.consumers['context-gatherer'].durable,
      );
      return gatherer.delivered.stream_seq >= replayed.seq &&
        gatherer.num_pending === 0 &&
        gatherer.num_ack_pending === 0
        ? true
        : undefined;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(notesOn(acme, 'TKT-600')).toHaveLength(1);
    const { rows } = await admin.query(
      `SELECT h.status AS job_status, t.status AS ticket_status
         FROM enhancement_history h JOIN ticket_history t USING (tenant_id, ticket_id)
        WHERE h.tenant_id = $1 AND h.job_id = $2`,
      [acme.tenant_id, jobOf(first)],
    );
    expect(rows).toEqual([{ job_status: 'posted', ticket_status: 'In Progress' }]);
  }, 90_000);

  it('on_update refresh edits the note in place when the text changed; new_note adds a follow-up', async () => {
    await setPreferences(acme, { on_update: 'refresh' });
    const base = { ticket_id: 'TKT-501', subject: 'Outlook keeps asking for the password' };
    const first = await jobRow(
      acme,
      jobOf(await sendWebhook(acme, { ...base, description: 'Outlook prompts for credentials.' })),
      'posted',
    );
    // Nearly the same text: nothing.
    await jobRow(
      acme,
      jobOf(
        await sendWebhook(acme, {
          ...base,
          event: 'updated',
          description: 'Outlook prompts for credentials!',
        }),
      ),
      'skipped',
    );
    const changed = {
      ...base,
      event: 'updated',
      description:
        'Update from the user: the prompt appeared after the Entra ID MFA rollout; error AADSTS50076 in the sign-in log, only on the old Office 2016 client.',
    };
    const refreshId = jobOf(await sendWebhook(acme, changed));
    const refreshed = await jobRow(acme, refreshId, 'posted');
    expect(refreshed['note_id']).toBe(first['note_id']);
    const notes = notesOn(acme, 'TKT-501');
    expect(notes).toHaveLength(1);
    expect(notes[0].description).toContain(`Enhancement ref: ${refreshId}`);

    await setPreferences(acme, { on_update: 'new_note' });
    const followId = jobOf(
      await sendWebhook(acme, {
        ...base,
        event: 'updated',
        description:
          'Now the whole sales team sees it on Outlook for Mac too; Office 365 web is fine.',
      }),
    );
    const follow = await jobRow(acme, followId, 'posted');
    expect(follow['note_id']).not.toBe(first['note_id']);
    expect(notesOn(acme, 'TKT-501')).toHaveLength(2);
    await setPreferences(acme, {});
  }, 90_000);

  it('records a low-confidence job as skipped with no note when the tenant says skip', async () => {
    await setPreferences(globex, { min_confidence: 0.9, low_confidence_action: 'skip' });
    const row = await jobRow(
      globex,
      jobOf(await sendWebhook(globex, { ticket_id: 'TKT-900', subject: 'ERP database timeout' })),
      'skipped',
    );
    expect(row['skip_reason']).toBe('confidence 0.85 is below min_confidence 0.9');
    expect(notesOn(globex, 'TKT-900')).toHaveLength(0);
    await setPreferences(globex, {});
  }, 60_000);

  it('opens the note with a possible outage when three similar open tickets arrived within the hour', async () => {
    const outage = (n: number) => ({
      ticket_id: `TKT-60${n}`,
      subject: 'Citrix Workspace cannot launch the ERP desktop',
      description: `User ${n}: Citrix Workspace shows "Cannot start desktop ERP-Prod" since 10:05.`,
      status: 'Open',
    });
    const earlier = [];
    for (const n of [1, 2, 3])
      earlier.push(await jobRow(acme, jobOf(await sendWebhook(acme, outage(n))), 'posted'));
    expect(notesOn(acme, 'TKT-601')[0].description).not.toContain('Possible outage');
    await jobRow(acme, jobOf(await sendWebhook(acme, outage(4))), 'posted');
    const [note] = notesOn(acme, 'TKT-604');
    expect(note.description).toMatch(
      /Possible outage:<\/strong> 3 similar open tickets in the last hour/,
    );
    for (const id of ['TKT-601', 'TKT-602', 'TKT-603']) expect(note.description).toContain(id);
    // Globex's tickets never count for Acme (and it has none like these).
    const metrics = await fetch(`${services[2].url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(
      new RegExp(`enhancement_possible_outages_total\\{tenant_id="${acme.tenant_id}"\\} 1`),
    );
  }, 90_000);

  it('ends a webhook for a ticket SDP does not have as failed in history and a dead letter, with no note', async () => {
    const reply = await sendWebhook(acme, {
      ticket_id: 'TKT-404',
      subject: 'Ticket that SDP never had',
    });
    expect(reply.status).toBe(202);
    const jobId = (JSON.parse(reply.body) as { job_id: string }).job_id;
    const row = await jobRow(acme, jobId, 'failed');
    expect(String(row['error'])).toMatch(
      /servicedesk-poster: ServiceDesk Plus has no such request/,
    );
    const jsm = await jetstreamManager(nats.nc);
    const dead = await jsm.streams.getMessage(nats.topology.deadLetterStream, {
      last_by_subj: nats.topology.subjects.deadLetter('servicedesk-poster', acme.tenant_id),
    });
    expect(DeadLetterSchema.parse(dead!.json())).toMatchObject({
      job_id: jobId,
      error_code: 'ticket_not_found',
      stage: 'servicedesk-poster',
    });
    expect(notesOn(acme, 'TKT-404')).toHaveLength(0);
  }, 60_000);

  it('dead-letters a job whose tenant was disabled on its way, and posts nothing', async () => {
    const registryCall = (path: string) =>
      fetch(`${registry.url}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
    const reply = await sendWebhook(acme, { ticket_id: 'TKT-610', subject: 'SLOW-LLM VPN drops' });
    expect(reply.status).toBe(202);
    // The model takes 1.5 s: the tenant is disabled while the job waits for it.
    expect((await registryCall(`/tenants/${acme.tenant_id}/disable`)).status).toBe(200);
    try {
      const row = await jobRow(acme, jobOf(reply), 'failed');
      expect(String(row['error'])).toMatch(/disabled; nothing posted/);
      const jsm = await jetstreamManager(nats.nc);
      const dead = await jsm.streams.getMessage(nats.topology.deadLetterStream, {
        last_by_subj: nats.topology.subjects.deadLetter('servicedesk-poster', acme.tenant_id),
      });
      expect(DeadLetterSchema.parse(dead!.json())).toMatchObject({
        job_id: jobOf(reply),
        error_code: 'tenant_disabled',
      });
      expect(notesOn(acme, 'TKT-610')).toHaveLength(0);
    } finally {
      expect((await registryCall(`/tenants/${acme.tenant_id}/enable`)).status).toBe(200);
      // Active at the ingress again: a payload without ticket_id is then 422, not 403.
      await eventually(async () =>
        (await sendWebhook(acme, {})).status === 422 ? true : undefined,
      );
    }
  }, 60_000);

  const promtool = spawnSync('promtool', ['--version']).status === 0;
  if (!promtool)
    console.warn(
      'SKIPPED promtool check metrics: promtool (Debian package prometheus) is not installed',
    );
  (promtool ? it : it.skip)(
    'serves /metrics that pass `promtool check metrics` on every service',
    async () => {
      for (const service of services) {
        const text = await (await fetch(`${service.url}/metrics`)).text();
        const result = spawnSync('promtool', ['check', 'metrics'], { input: text });
        expect([
          service.name,
          result.status,
          result.stdout.toString() + result.stderr.toString(),
        ]).toEqual([service.name, 0, '']);
      }
    },
  );

  describe('registry changes reach the ingress within a second', () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${registry.url}${path}`, {
        method,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as Record<string, unknown>,
      }));
    const signed = (secret: string, n: number) => {
      const body = JSON.stringify({
        ticket_id: `PROP-${n}`,
        subject: 'Propagation check',
        status: 'Open',
      });
      return fetch(`${ingress.url}/webhook/servicedesk?tenant_id=${globex.tenant_id}`, {
        method: 'POST',
        body,
        headers: {
          'Content-Type': 'application/json',
          'X-ServiceDesk-Signature': createHmac('sha256', secret).update(body).digest('hex'),
        },
      }).then((res) => res.status);
    };
    let n = 0;
    const within = (ms: number, check: () => Promise<boolean>) =>
      eventually(async () => ((await check()) ? true : undefined), ms);

    it('secret rotation: the new secret works at once, the old one until its grace ends', async () => {
      const rotated = await admin('POST', `/tenants/${globex.tenant_id}/webhook-secret/rotate`, {
        grace_seconds: 2,
      });
      const fresh = rotated.body['webhook_secret'] as string;
      await within(1_000, async () => (await signed(fresh, n++)) === 202);
      expect(await signed(globex.webhook_secret, n++)).toBe(202);
      await within(3_500, async () => (await signed(globex.webhook_secret, n++)) === 403);
      globex.webhook_secret = fresh;
    }, 20_000);

    it('disable and enable', async () => {
      await admin('POST', `/tenants/${globex.tenant_id}/disable`);
      await within(1_000, async () => (await signed(globex.webhook_secret, n++)) === 403);
      await admin('POST', `/tenants/${globex.tenant_id}/enable`);
      await within(1_000, async () => (await signed(globex.webhook_secret, n++)) === 202);
    }, 20_000);

    it('rate limits', async () => {
      await admin('PATCH', `/tenants/${globex.tenant_id}`, {
        rate_limits: { requests_per_minute: 1 },
      });
      await within(1_000, async () => (await signed(globex.webhook_secret, n++)) === 429);
      await admin('PATCH', `/tenants/${globex.tenant_id}`, {
        rate_limits: { requests_per_minute: null },
      });
      await within(1_000, async () => (await signed(globex.webhook_secret, n++)) === 202);
    }, 20_000);
  });
});
