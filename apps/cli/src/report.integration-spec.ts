/**
 * `tep report` against the registry and PostgreSQL: a tenant with a
 * generated week of history gets its figures, charts and JSON; a tenant
 * with no traffic gets a report that says so.
 */
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  createTestDatabase,
  createTestNats,
  startServiceProcess,
  testEncryptionKey,
  type ServiceProcess,
  type TestDatabase,
  type TestNats,
} from '@tep/testing';
import { runCli } from './main';
import { memoryIo } from './output';

const ADMIN_TOKEN = 'report-admin-token-'.padEnd(40, 'x');
const DAY = 86_400_000;

describe('tep report', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let admin: Client;
  let registry: ServiceProcess;
  let workDir: string;
  let env: NodeJS.ProcessEnv;

  const createTenant = async (name: string) => {
    const res = await fetch(`${registry.url}/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name,
        servicedesk_url: 'https://sdp.example.com',
        servicedesk_api_key: 'report-key',
        tier: 'premium',
        admin_email: 'ops@example.com',
      }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { tenant_id: string }).tenant_id;
  };

  const report = async (tenantId: string, out: string) => {
    const io = memoryIo();
    const code = await runCli(
      ['report', tenantId, '--since', '7d', '--out', out, '--json'],
      io,
      env,
      workDir,
    );
    return {
      code,
      doc: JSON.parse(io.out()) as { files: string[]; report: Record<string, any> },
      io,
    };
  };

  beforeAll(async () => {
    [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    workDir = await mkdtemp(join(tmpdir(), 'tep-report-'));
    registry = await startServiceProcess('tenant-registry', {
      NATS_NAMESPACE: nats.namespace,
      TENANT_ENCRYPTION_KEY: testEncryptionKey(),
      DATABASE_URL: db.registryUrl,
      ADMIN_TOKENS: ADMIN_TOKEN,
    });
    env = {
      TEP_REGISTRY_URL: registry.url,
      TEP_ADMIN_TOKEN: ADMIN_TOKEN,
      DATABASE_URL: db.appUrl,
      NATS_NAMESPACE: nats.namespace,
    };
  }, 120_000);

  afterAll(async () => {
    await registry?.kill();
    await admin?.end();
    await nats?.cleanup();
    await db?.drop();
  });

  it('writes the profile, configuration and a week of baseline metrics with charts and JSON', async () => {
    const tenantId = await createTenant('Report MSP');
    const otherId = await createTenant('Other MSP');
    // A generated week: 3 tickets a day, 2 notes posted and 1 failed, 2 ratings a day (1 helpful).
    const now = Date.now();
    for (let day = 0; day < 7; day++) {
      for (let i = 0; i < 3; i++) {
        const received = new Date(now - day * DAY - (i + 1) * 60_000);
        const posted = i < 2;
        const jobId = randomUUID();
        await admin.query(
          `INSERT INTO enhancement_history
             (tenant_id, job_id, ticket_id, status, received_at, posted_at, synthesizer, prompt_tokens, completion_tokens, error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 1000, 200, $8)`,
          [
            tenantId,
            jobId,
            `T-${day}-${i}`,
            posted ? 'posted' : 'failed',
            received,
            posted ? new Date(received.getTime() + (i + 1) * 2_000) : null,
            posted ? 'llm' : null,
            posted ? null : 'servicedesk_unauthorized: the key was rejected',
          ],
        );
        if (i < 2) {
          await admin.query(
            `INSERT INTO enhancement_feedback (tenant_id, job_id, rating, relevant, quality, accuracy, submitted_at)
             VALUES ($1, $2, $3, $4, $5, 4, $6)`,
            [
              tenantId,
              jobId,
              i === 0 ? 'helpful' : 'not_helpful',
              i === 0 ? 'yes' : 'no',
              i === 0 ? 5 : 3,
              received,
            ],
          );
        }
      }
    }
    // Another tenant's rows never count.
    await admin.query(
      `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status) VALUES ($1, $2, 'X', 'posted')`,
      [otherId, randomUUID()],
    );

    const out = join(workDir, 'report');
    const { code, doc } = await report(tenantId, out);
    expect(code).toBe(0);
    const r = doc.report;
    expect(r['profile']).toMatchObject({
      name: 'Report MSP',
      tenant_id: tenantId,
      tier: 'premium',
      contact: 'ops@example.com',
    });
    expect(r['metrics']).toMatchObject({
      tickets: 21,
      notes_posted: 14,
      failed: 7,
      success_rate: 14 / 21,
      dead_letters_by_reason: { servicedesk_unauthorized: 7 },
      synthesizers: { llm: 14 },
      llm: { prompt_tokens: 21_000, completion_tokens: 4_200 },
    });
    expect(r['metrics'].latency_seconds.p50).toBeCloseTo(3, 0);
    expect(r['metrics'].latency_seconds.p95).toBeGreaterThan(3);
    expect(r['metrics'].daily).toHaveLength(8);
    expect(r['feedback']).toMatchObject({
      ratings: 14,
      helpful: 7,
      helpful_rate: 0.5,
      relevance_yes_rate: 0.5,
      average_quality: 4,
      average_accuracy: 4,
    });
    expect(r['no_traffic']).toBe(false);

    expect((await readdir(out)).sort()).toEqual(
      [
        `${tenantId}-report.md`,
        `${tenantId}-report.json`,
        `${tenantId}-report-volume.svg`,
        `${tenantId}-report-helpful-rate.svg`,
      ].sort(),
    );
    const markdown = await readFile(join(out, `${tenantId}-report.md`), 'utf8');
    expect(markdown).toContain('# Report MSP: client report');
    expect(markdown).toMatch(/\| Notes posted \| 14 \|/);
    expect(markdown).toMatch(/\| Relevant: yes \| 50\.0 % ⚠️ \| ≥ 80 % \|/);
    expect(markdown).toContain(`![Tickets and notes per day](${tenantId}-report-volume.svg)`);
    const svg = await readFile(join(out, `${tenantId}-report-volume.svg`), 'utf8');
    expect(svg).toMatch(/^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('tickets and notes per day');
    expect(JSON.parse(await readFile(join(out, `${tenantId}-report.json`), 'utf8'))).toEqual(r);
  }, 60_000);

  it('says so for a tenant with no traffic yet', async () => {
    const tenantId = await createTenant('Quiet MSP');
    const { code, doc, io } = await report(tenantId, join(workDir, 'quiet'));
    expect(code).toBe(0);
    expect(doc.report['no_traffic']).toBe(true);
    expect(doc.report['metrics']).toMatchObject({
      tickets: 0,
      notes_posted: 0,
      success_rate: null,
    });
    expect(io.err()).toMatch(/sent no ticket in the period/);
    const markdown = await readFile(join(workDir, 'quiet', `${tenantId}-report.md`), 'utf8');
    expect(markdown).toContain('No traffic yet');
    expect(markdown).toContain('No ratings yet');
  }, 60_000);

  it('refuses an unknown tenant and a bad period', async () => {
    const io = memoryIo();
    expect(await runCli(['report', randomUUID()], io, env, workDir)).toBe(1);
    expect(
      await runCli(['report', randomUUID(), '--since', 'soon'], memoryIo(), env, workDir),
    ).toBe(2);
  });
});
