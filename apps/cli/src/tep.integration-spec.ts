/**
 * `tep` against the real platform: registry, ingress, gatherer, synthesizer
 * (offline: no LLM configured) and poster as processes, over a fresh
 * database and NATS namespace, with the SDP simulator as the client's
 * ServiceDesk Plus (on-premises as its own process; SDP Cloud, with its
 * Zoho accounts server, in-process). Commands run in-process through their
 * functions or through runCli, exactly as `npm run tep` parses them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TENANT_TABLES } from '@tep/data';
import { startSdpSimulator, type SdpSimulator } from '@tep/sdp-simulator';
import {
  TEST_NATS_URL,
  createTestDatabase,
  createTestNats,
  eventually,
  freePort,
  startServiceProcess,
  testEncryptionKey,
  type ServiceProcess,
  type TestDatabase,
  type TestNats,
} from '@tep/testing';
import { onboardCommand } from './commands/onboard';
import { resolveConfig } from './config';
import type { CommandContext } from './context';
import { runIsolationCheck } from './isolation';
import { runCli } from './main';
import { Reporter, memoryIo } from './output';

const ADMIN_TOKEN = 'cli-spec-admin-token-'.padEnd(40, 'x');
const SDP_KEY = 'acme-sdp-key-0123456789';
const ROOT = join(__dirname, '..', '..', '..');

interface SimulatedNote {
  request_id: string;
  request_display_id: string;
  note_id: string;
  description: string;
  show_to_requester: boolean;
}

/**
 * The client's ServiceDesk Plus: the simulator as its own process (as
 * `npm start` runs it), driven through its HTTP control endpoints.
 */
async function startSimulatorProcess(apiKey: string) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', './tools/register.js', 'tools/sdp-simulator/src/main.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        SDP_SIMULATOR_PORT: String(port),
        SDP_SIMULATOR_API_KEYS: apiKey,
        SDP_SIMULATOR_SEED: 'empty',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const control = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/_sim/${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`simulator ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`SDP simulator exited:\n${output}`);
    return control('GET', 'notes').catch(() => undefined);
  }, 30_000);
  const api = async (path: string) =>
    fetch(`${url}/api/v3${path}`, {
      headers: { authtoken: apiKey, Accept: 'application/vnd.manageengine.sdp.v3+json' },
    });
  return {
    url,
    notes: async () => (await control<{ notes: SimulatedNote[] }>('GET', 'notes')).notes,
    seed: (input: object) => control('POST', 'seed', input),
    calls: () => control<{ byRoute: Record<string, Record<string, number>> }>('GET', 'calls'),
    sendWebhook: (input: { url: string; secret: string; payload: unknown }) =>
      control<{ status: number; body: string }>('POST', 'webhooks', input),
    request: async (id: string) => {
      const res = await api(`/requests/${id}`);
      return res.ok
        ? ((await res.json()) as { request: Record<string, unknown> }).request
        : undefined;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
type Simulator = Awaited<ReturnType<typeof startSimulatorProcess>>;

describe('tep against the running platform', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let admin: Client;
  let sdp: Simulator;
  /** SDP Cloud: the API under /app/itdesk/api/v3 and Zoho's token endpoint. */
  let cloud: SdpSimulator;
  let workDir: string;
  const services: ServiceProcess[] = [];
  let env: NodeJS.ProcessEnv;
  let ctx: (json?: boolean) => CommandContext & { io: ReturnType<typeof memoryIo> };
  /** The Basic tenant onboarded in the first test, reused by the later ones. */
  let acme: { tenantId: string; secret: string };

  const rowsOf = async (tenantId: string) => {
    const counts: Record<string, number> = {};
    for (const table of TENANT_TABLES) {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`,
        [tenantId],
      );
      counts[table] = rows[0].n;
    }
    return counts;
  };

  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const io = memoryIo();
    const code = await runCli(args, io, { ...env, ...extraEnv }, workDir);
    return {
      code,
      io,
      doc: args.includes('--json') ? (JSON.parse(io.out()) as Record<string, any>) : undefined,
    };
  };

  beforeAll(async () => {
    [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    workDir = await mkdtemp(join(tmpdir(), 'tep-cli-'));
    const key = testEncryptionKey();
    const common = {
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: key,
      ALLOW_INSECURE_SERVICEDESK_URLS: 'true',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.appUrl,
    };
    const started = await Promise.all([
      startServiceProcess('tenant-registry', {
        ...common,
        DATABASE_URL: db.registryUrl,
        ADMIN_TOKENS: ADMIN_TOKEN,
      }),
      startServiceProcess('webhook-ingress', common),
      startServiceProcess('context-gatherer', common),
      // No LLM_BASE_URL: the offline synthesizer.
      startServiceProcess('llm-synthesizer', common),
      startServiceProcess('servicedesk-poster', {
        ...common,
        DATABASE_URL: db.posterUrl,
        SDP_TIMEOUT_MS: '2000',
      }),
      startSimulatorProcess(SDP_KEY),
    ]);
    sdp = started.pop() as Simulator;
    cloud = await startSdpSimulator({
      mode: 'cloud',
      portals: ['itdesk'],
      seed: { requests: [{ display_id: 'CLD-1', subject: 'Outlook asks for the password' }] },
    });
    services.push(...(started as ServiceProcess[]));
    const [registry, ingress, gatherer, synthesizer, poster] = services;
    env = {
      NODE_ENV: 'test',
      PATH: process.env['PATH'],
      USER: 'spec-operator',
      TEP_REGISTRY_URL: registry.url,
      TEP_ADMIN_TOKEN: ADMIN_TOKEN,
      TEP_INGRESS_URL: ingress.url,
      TEP_SERVICE_URLS: `context-gatherer=${gatherer.url},llm-synthesizer=${synthesizer.url},servicedesk-poster=${poster.url}`,
      DATABASE_URL: db.appUrl,
      DATABASE_REGISTRY_URL: db.registryUrl,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: key,
    };
    ctx = (json = false) => {
      const io = memoryIo();
      return { config: resolveConfig({}, env), out: new Reporter(io, json), env, cwd: workDir, io };
    };
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.kill()));
    await sdp?.close();
    await cloud?.close();
    await admin?.end();
    await nats?.cleanup();
    await db?.drop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('(a) onboards a Basic tenant end to end: every automatic check passes, one note, the record written', async () => {
    const c = ctx();
    const outcome = await onboardCommand(
      {
        name: 'Acme Corp MSP',
        servicedeskUrl: sdp.url,
        servicedeskApiKey: SDP_KEY,
        adminEmail: 'admin@acmecorp.com',
        tier: 'basic',
        preferences: '{"output_format":"markdown","max_tokens":400}',
        rateLimit: '100',
        validationTimeout: 30,
      },
      c,
    );
    const doc = outcome.json as Record<string, any>;
    expect({ exitCode: outcome.exitCode, error: doc['error'] }).toEqual({
      exitCode: 0,
      error: undefined,
    });
    const tenantId = doc['tenant'].tenant_id as string;
    const secret = doc['webhook_secret'] as string;
    acme = { tenantId, secret };

    // Every item a program can check passed; the rest are manual, none failed.
    const checklist = doc['checklist'] as { status: string; item: string }[];
    expect(checklist.filter((i) => i.status === 'failed')).toEqual([]);
    expect(doc['summary']).toEqual({ passed: 15, failed: 0, manual: 8, weaker: 0 });

    // Exactly one note, on the validation request, carrying the job's marker.
    const { ticket_id: ticketId, job_id: jobId, note_id: noteId } = doc['validation'];
    expect(await sdp.request(ticketId)).toMatchObject({ subject: 'TEP onboarding validation' });
    const notes = (await sdp.notes()).filter((n) => n.request_id === ticketId);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ note_id: noteId, show_to_requester: false });
    expect(notes[0].description).toContain(`Enhancement ref: ${jobId}`);

    // The registry has the onboarding record.
    const res = await fetch(`${env['TEP_REGISTRY_URL']}/tenants/${tenantId}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const tenant = (await res.json()) as {
      onboarding_record: Record<string, any>;
      rate_limits: unknown;
    };
    expect(tenant.rate_limits).toEqual({ requests_per_minute: 100 });
    expect(tenant.onboarding_record).toMatchObject({ operator: 'spec-operator' });
    expect(tenant.onboarding_record['checklist']).toHaveLength(checklist.length);
    expect(tenant.onboarding_record['checklist']).toContainEqual(
      expect.objectContaining({
        item: 'Enhancement posted to ServiceDesk Plus ticket',
        passed: true,
      }),
    );

    // The secret is shown once (in the SDP settings) and never logged by any service.
    const printed = c.io.out() + c.io.err();
    expect(printed.split(secret)).toHaveLength(2);
    expect(printed).toContain('| Signing Secret ');
    expect(printed).toContain('zoho.encryption.hmacsha256(webhookSecret, body, "hex")');
    expect(printed).not.toContain(SDP_KEY);
    for (const service of services) {
      expect(service.output()).not.toContain(secret);
      expect(service.output()).not.toContain(SDP_KEY);
    }
  }, 60_000);

  it('(b) fails validation with a wrong SDP API key, rolls back and leaves no trace', async () => {
    const created = async () => (await sdp.calls()).byRoute['POST /requests']?.['200'] ?? 0;
    const createdBefore = await created();
    const { code, doc } = await cli(
      [
        'onboard',
        '--json',
        '--name',
        'Wrong Key MSP',
        '--servicedesk-url',
        sdp.url,
        '--rollback-on-failure',
      ],
      { TEP_SERVICEDESK_API_KEY: 'not-the-key' },
    );
    expect(code).toBe(1);
    expect(doc!['error']).toMatch(/ServiceDesk Plus rejected the API key/);
    expect(doc!['webhook_secret']).toBeNull();
    const actions = doc!['rollback'].actions as { action: string; status: string }[];
    expect(doc!['rollback'].performed).toBe(true);
    expect(actions).toContainEqual(
      expect.objectContaining({
        action: 'Registry record deleted with purge (DELETE /tenants/:id?purge=true)',
        status: 'done',
      }),
    );
    expect(actions).toContainEqual(
      expect.objectContaining({ action: 'Verified: no trace left', status: 'done' }),
    );

    const tenantId = doc!['tenant'].tenant_id as string;
    const res = await fetch(`${env['TEP_REGISTRY_URL']}/tenants/${tenantId}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(404);
    // As superuser (RLS bypassed): nothing of that tenant in any tenant table.
    expect(Object.values(await rowsOf(tenantId))).toEqual(TENANT_TABLES.map(() => 0));
    // The wrong key was refused (401) before SDP created anything.
    expect(await created()).toBe(createdBefore);
    expect((await sdp.calls()).byRoute['POST /requests']?.['401']).toBe(1);
  }, 60_000);

  it('(b2) Premium with --static-header and --apply writes the manifests, warns, and rolls everything back', async () => {
    // A stand-in kubectl that records what it was asked to do.
    const bin = join(workDir, 'bin');
    await rm(bin, { recursive: true, force: true });
    await writeFile(join(workDir, 'kubectl.log'), '');
    await mkdir(bin);
    await writeFile(
      join(bin, 'kubectl'),
      `#!/bin/sh\necho "$1 $2 $3" >> "${join(workDir, 'kubectl.log')}"\necho "ok"\n`,
    );
    await chmod(join(bin, 'kubectl'), 0o755);
    const manifests = join(workDir, 'premium-manifests');

    const { code, doc, io } = await cli(
      [
        'onboard',
        '--json',
        '--name',
        'Globex Premium',
        '--servicedesk-url',
        sdp.url,
        '--servicedesk-api-key',
        SDP_KEY,
        '--tier',
        'premium',
        '--static-header',
        '--apply',
        '--manifests-dir',
        manifests,
        '--test-ticket-id',
        '999999',
        '--rollback-on-failure',
      ],
      { PATH: `${bin}:${env['PATH']}` },
    );
    expect(code).toBe(1);
    expect(doc!['error']).toMatch(/ServiceDesk Plus API/);
    expect(doc!['manifests']).toMatchObject({ dir: manifests, applied: true });
    expect(doc!['sdp']).toMatchObject({
      auth_scheme: 'static_header',
      webhook_auth_weaker: true,
      deluge_function: null,
    });
    expect(io.err()).toContain('WEAKER SECURITY: STATIC-HEADER WEBHOOK AUTHENTICATION');
    const weaker = (doc!['checklist'] as { item: string; weaker?: boolean }[]).filter(
      (i) => i.weaker,
    );
    expect(weaker.map((i) => i.item)).toContain('HMAC-SHA256 signing secret configured');
    // Applied in order, then deleted in reverse on rollback; the directory is gone.
    expect((await readFile(join(workDir, 'kubectl.log'), 'utf8')).trim().split('\n')).toEqual([
      `apply -f ${join(manifests, 'tenant-namespace.yaml')}`,
      `get -f ${join(manifests, 'tenant-namespace.yaml')}`,
      `delete --ignore-not-found -f`,
    ]);
    expect(await readdir(workDir)).not.toContain('premium-manifests');
    expect(Object.values(await rowsOf(doc!['tenant'].tenant_id))).toEqual(
      TENANT_TABLES.map(() => 0),
    );
  }, 60_000);

  it('(c) validate-isolation passes, leaves no rows behind, and catches a table without RLS', async () => {
    const totals = async () =>
      (
        await admin.query<{ n: number }>(
          TENANT_TABLES.map((t) => `SELECT count(*)::int AS n FROM ${t}`).join(' UNION ALL '),
        )
      ).rows.map((r) => r.n);
    const before = await totals();
    const { code, doc, io } = await cli(['validate-isolation', '--json']);
    expect(code).toBe(0);
    expect(doc).toMatchObject({ ok: true, leftover_rows: 0 });
    expect(io.err()).toContain('✅ Tenant A query returned 13 records (all tenant_id = A)');
    expect(io.err()).toContain('✅ RLS isolation verified successfully');
    for (const tenant of [doc!['tenants'].a, doc!['tenants'].b]) {
      expect(Object.values(await rowsOf(tenant))).toEqual(TENANT_TABLES.map(() => 0));
    }
    expect(await totals()).toEqual(before);

    // A tenant table someone forgot to protect: the check must fail, naming it.
    await admin.query(
      `CREATE TABLE leaky_notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL, body text NOT NULL);
       GRANT SELECT, INSERT, UPDATE, DELETE ON leaky_notes TO tep_application`,
    );
    try {
      const leaky = await runIsolationCheck(
        { databaseUrl: db.appUrl, registryDatabaseUrl: db.registryUrl },
        [...TENANT_TABLES, 'leaky_notes'],
      );
      expect(leaky.ok).toBe(false);
      expect(leaky.lines.filter((l) => !l.ok).map((l) => l.text)).toEqual(
        expect.arrayContaining([
          'leaky_notes: Tenant A query returned 3 records, 1 of ANOTHER tenant — LEAK',
          'leaky_notes: as Tenant A, inserting a row for Tenant B SUCCEEDED — LEAK',
          'Cross-tenant data leakage DETECTED',
        ]),
      );
      expect(leaky.leftover_rows).toBe(0);
      expect((await admin.query('SELECT count(*)::int AS n FROM leaky_notes')).rows[0].n).toBe(0);
    } finally {
      await admin.query('DROP TABLE leaky_notes');
    }
  }, 60_000);

  it('(d) dead-letters a job for a ticket SDP lacks; once the ticket exists, replay posts exactly one note', async () => {
    const sent = await sdp.sendWebhook({
      url: `${env['TEP_INGRESS_URL']}/webhook/servicedesk?tenant_id=${acme.tenantId}`,
      secret: acme.secret,
      payload: { ticket_id: 'TKT-404', subject: 'Printer on 3rd floor offline' },
    });
    expect(sent.status).toBe(202);
    const jobId = (JSON.parse(sent.body) as { job_id: string }).job_id;

    const listed = await eventually(async () => {
      const r = await cli(['dead-letters', 'list', '--json', '--tenant', acme.tenantId]);
      if (r.code !== 0) throw new Error(`dead-letters list failed: ${r.io.err()}`);
      return r.doc!['count'] > 0 ? r.doc! : undefined;
    }, 30_000);
    expect(listed['dead_letters']).toEqual([
      expect.objectContaining({
        job_id: jobId,
        tenant_id: acme.tenantId,
        stage: 'servicedesk-poster',
        error_code: 'ticket_not_found',
        original_subject: `${nats.namespace}.tickets.enhanced.${acme.tenantId}`,
      }),
    ]);
    expect(listed['dead_letters'][0]).not.toHaveProperty('original_payload');
    const sequence = String(listed['dead_letters'][0].sequence);

    await sdp.seed({
      requests: [{ display_id: 'TKT-404', subject: 'Printer on 3rd floor offline' }],
    });
    const replay = await cli(['dead-letters', 'replay', sequence, '--json']);
    expect(replay.code).toBe(0);
    expect(replay.doc!['replayed']).toEqual([
      expect.objectContaining({ job_id: jobId, msg_id: `replay:${jobId}:${sequence}` }),
    ]);

    const notes = await eventually(async () => {
      const found = (await sdp.notes()).filter((n) => n.request_display_id === 'TKT-404');
      return found.length ? found : undefined;
    }, 30_000);
    await eventually(async () => {
      const { rows } = await admin.query(
        `SELECT status FROM enhancement_history WHERE tenant_id = $1 AND job_id = $2`,
        [acme.tenantId, jobId],
      );
      return rows[0]?.status === 'posted' ? true : undefined;
    }, 10_000);
    expect(notes).toHaveLength(1);
    expect(notes[0].description).toContain(`Enhancement ref: ${jobId}`);
    expect((await cli(['dead-letters', 'list', '--json'])).doc!['count']).toBe(0);
    // Replaying again finds nothing: the dead letter was removed after the republish.
    expect((await cli(['dead-letters', 'replay', sequence])).code).toBe(1);
  }, 60_000);

  it('status, doctor, rotate-secret and offboard report and change the tenant through the registry', async () => {
    const status = await cli(['status', '--json']);
    expect(status.code).toBe(0);
    const row = (status.doc!['tenants'] as Record<string, any>[]).find(
      (t) => t.tenant_id === acme.tenantId,
    )!;
    expect(row).toMatchObject({
      status: 'active',
      tier: 'basic',
      webhook_auth_scheme: 'hmac',
      webhook_auth_weaker: false,
      enhancements: { posted: 2, failed: 0, success_rate: 1 },
      dead_letters: 0,
    });
    expect((status.doc!['queue_depth'] as { consumer: string }[]).map((d) => d.consumer)).toEqual([
      // Each stage's main lane and backlog lane.
      `${nats.namespace}_context-gatherer`,
      `${nats.namespace}_context-gatherer-backlog`,
      // The technicians' feedback, recorded by the gatherer.
      `${nats.namespace}_feedback-recorder`,
      `${nats.namespace}_llm-synthesizer`,
      `${nats.namespace}_llm-synthesizer-backlog`,
      `${nats.namespace}_servicedesk-poster`,
      `${nats.namespace}_servicedesk-poster-backlog`,
    ]);

    const doctor = await cli(['doctor', '--json', '--tenant', acme.tenantId]);
    expect(doctor.code).toBe(0);
    expect(
      Object.fromEntries(
        (doctor.doc!['tenant'] as { name: string; status: string }[]).map((c) => [
          c.name,
          c.status,
        ]),
      ),
    ).toMatchObject({
      'Registry record': 'passed',
      Status: 'passed',
      'Ingress directory entry': 'passed',
      'ServiceDesk Plus reachable': 'passed',
    });

    const rotated = await cli(['rotate-secret', acme.tenantId, '--grace-seconds', '0']);
    expect(rotated.code).toBe(0);
    const newSecret = /\n {2}([0-9a-f]{64})\n/.exec(rotated.io.out())![1];
    expect(newSecret).not.toBe(acme.secret);
    expect(rotated.io.out()).toContain('stops being accepted now (no grace period)');

    const offboard = await cli(['offboard', acme.tenantId, '--purge', '--json']);
    expect(offboard.code).toBe(0);
    expect(offboard.doc!['deleted']).toMatchObject({ tenant_configs: 1, enhancement_history: 2 });
    expect(Object.values(await rowsOf(acme.tenantId))).toEqual(TENANT_TABLES.map(() => 0));
  }, 60_000);

  it('(e) onboards an SDP Cloud client with a one-time Zoho grant code: an OAuth tenant, its note read back through the Cloud API, no secret printed', async () => {
    const oauth = cloud.credentials.oauth!;
    const grant = cloud.control.issueGrantCode();
    const clientFile = (grantCode: string) =>
      writeFile(
        join(workDir, 'cloud-client.yaml'),
        [
          'company_name: Initech Cloud MSP',
          'edition: cloud',
          `servicedesk_url: ${cloud.url}`,
          'portal: itdesk',
          // Development: the loopback simulator stands in for accounts.zoho.com.
          `accounts_url: ${oauth.accountsUrl}`,
          `client_id: ${oauth.clientId}`,
          `client_secret: ${oauth.clientSecret}`,
          `grant_code: ${grantCode}`,
          'admin_email: admin@initech.example',
        ].join('\n'),
      );
    const secrets = [oauth.refreshToken, oauth.clientSecret, grant.code];
    await clientFile(grant.code);

    const { code, doc, io } = await cli([
      'onboard',
      '--json',
      '--file',
      'cloud-client.yaml',
      '--validation-timeout',
      '30',
    ]);
    expect({ code, error: doc!['error'] }).toEqual({ code: 0, error: undefined });
    expect(doc!['client']).toMatchObject({
      edition: 'cloud',
      portal: 'itdesk',
      data_centre: 'us',
      accounts_url: oauth.accountsUrl,
    });
    const checklist = doc!['checklist'] as { status: string; item: string }[];
    expect(checklist.filter((i) => i.status === 'failed')).toEqual([]);
    expect(io.err()).toContain('✅ Zoho grant code exchanged for a refresh token');
    expect(io.err()).toContain('✅ Shared Zoho access-token store');

    // The registry holds an OAuth tenant; its refresh token is the one the code was exchanged for.
    const tenantId = doc!['tenant'].tenant_id as string;
    const view = (await (
      await fetch(`${env['TEP_REGISTRY_URL']}/tenants/${tenantId}`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json()) as { servicedesk_settings: Record<string, unknown> };
    expect(view.servicedesk_settings).toMatchObject({
      auth_kind: 'oauth',
      portal: 'itdesk',
      data_centre: 'us',
      accounts_url: oauth.accountsUrl,
    });

    // Exactly one note on the validation request, created and read back through /app/itdesk/api/v3.
    const { ticket_id: ticketId, job_id: jobId } = doc!['validation'];
    const notes = cloud.control.notes().filter((n) => n.request_id === ticketId);
    expect(notes).toHaveLength(1);
    expect(notes[0].description).toContain(`Enhancement ref: ${jobId}`);
    const calls = cloud.control.calls().byRoute;
    expect(calls['POST /requests']).toEqual({ '200': 1 });
    expect(calls['GET /requests/{id}/notes']?.['200']).toBeGreaterThanOrEqual(1);
    expect(Object.keys(calls['GET /requests/{id}/notes'] ?? {})).toEqual(['200']);
    // The access token that came with the refresh token served tep and the poster: none minted.
    expect(cloud.control.tokensMinted()).toBe(1);

    // doctor reads through the shared token store too; without NATS it warns and mints its own.
    const doctor = await cli(['doctor', '--json', '--tenant', tenantId]);
    const checks = (d: Record<string, any>) =>
      Object.fromEntries(
        (d['tenant'] as { name: string; status: string; detail: string }[]).map((c) => [c.name, c]),
      );
    expect(doctor.code).toBe(0);
    expect(checks(doctor.doc!)).toMatchObject({
      'Shared Zoho access-token store': { status: 'passed' },
      'ServiceDesk Plus reachable': { status: 'passed' },
    });
    expect(cloud.control.tokensMinted()).toBe(1);
    const port = await freePort();
    const offline = await cli(['doctor', '--json', '--tenant', tenantId], {
      NATS_URL: `nats://127.0.0.1:${port}`,
    });
    expect(checks(offline.doc!)).toMatchObject({
      'Shared Zoho access-token store': {
        status: 'warning',
        detail: expect.stringContaining('minting a private Zoho access token'),
      },
      'ServiceDesk Plus reachable': { status: 'passed' },
    });
    expect(cloud.control.tokensMinted()).toBe(2);

    // The used code again: Zoho's invalid_code, nothing created, a hint what to do.
    const again = await cli(['onboard', '--json', '--file', 'cloud-client.yaml']);
    expect(again.code).toBe(1);
    expect(again.doc!['error']).toMatch(/Zoho error "invalid_code".*generate a new one/);
    expect(again.doc!['tenant']).toBeUndefined();

    for (const printed of [io.out() + io.err(), again.io.out() + again.io.err()]) {
      for (const secret of secrets) expect(printed).not.toContain(secret);
    }
    for (const printed of [doctor, offline].map((r) => r.io.out() + r.io.err())) {
      for (const secret of secrets) expect(printed).not.toContain(secret);
    }
    for (const service of services) {
      for (const secret of secrets) expect(service.output()).not.toContain(secret);
    }
  }, 90_000);
});
