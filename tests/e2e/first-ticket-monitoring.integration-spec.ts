/**
 * Runbook 6.1–6.2 as an operator sees it: a real Prometheus (Debian's
 * package) scrapes the five services with deploy/prometheus/rules.yml; a
 * tenant is created and sends its first ticket. The tenant's success rate
 * must read 1 and its p95 latency must be a number — which needs its
 * series to exist at zero before the first increment (PipelineMetrics.
 * initTenant, from the tenant directory).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSdpSimulator, type SdpSimulator } from '@tep/sdp-simulator';
import {
  createTestDatabase,
  createTestNats,
  eventually,
  freePort,
  startTestPlatform,
  type TestPlatform,
  type TestDatabase,
  type TestNats,
} from '@tep/testing';
import { findExecutable } from '../deploy/deploy-files';

const PROMETHEUS = findExecutable('prometheus');
const RULES = join(__dirname, '..', '..', 'deploy', 'prometheus', 'rules.yml');
const ADMIN_TOKEN = 'monitoring-admin-token-'.padEnd(40, 'x');

const itWithPrometheus: jest.It = PROMETHEUS ? it : it.skip;
if (!PROMETHEUS) {
  console.log(
    'monitoring: SKIPPED the first-ticket check against a real Prometheus: prometheus is not on PATH (apt-get install prometheus; tools/dev/ensure-tools.sh)',
  );
}

describe('a new tenant in monitoring from its first ticket (real Prometheus)', () => {
  let dir: string;
  let db: TestDatabase;
  let nats: TestNats;
  let sdp: SdpSimulator;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let platform: TestPlatform;

  /** One instant query's value for the series, or undefined while there is none. */
  async function value(query: string): Promise<number | undefined> {
    const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as {
      data: { result: { value: [number, string] }[] };
    };
    const sample = body.data.result[0];
    return sample ? Number(sample.value[1]) : undefined;
  }

  beforeAll(async () => {
    if (!PROMETHEUS) return;
    dir = mkdtempSync(join(tmpdir(), 'tep-prometheus-'));
    db = await createTestDatabase();
    nats = await createTestNats();
    sdp = await startSdpSimulator({
      apiKeys: ['monitoring-sdp-key'],
      seed: { requests: [{ display_id: 'MON-1', subject: 'Mailbox full', status: 'Open' }] },
    });
    platform = await startTestPlatform({
      db,
      env: { NATS_NAMESPACE: nats.namespace },
      adminToken: ADMIN_TOKEN,
    });
    // The project's rules, evaluated every second instead of every 30 s so the test is short.
    writeFileSync(
      join(dir, 'rules.yml'),
      readFileSync(RULES, 'utf8').replace(/^(\s+)interval: 30s$/m, '$1interval: 1s'),
    );
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
${platform.all
  .map(
    (s) => `  - job_name: ${s.name}
    static_configs: [{ targets: ['127.0.0.1:${s.port}'] }]`,
  )
  .join('\n')}
`,
    );
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    await eventually(async () => {
      const res = await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined);
      return res?.ok ? true : undefined;
    }, 30_000);
  }, 180_000);

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    await platform?.kill();
    await sdp?.close();
    await nats?.cleanup();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  itWithPrometheus(
    'reads a success rate of 1 and a p95 latency after one posted note',
    async () => {
      const tenant = await platform.createTenant({
        name: 'Brand-new MSP',
        servicedesk_url: sdp.url,
        servicedesk_api_key: 'monitoring-sdp-key',
      });
      const selector = `{tenant_id="${tenant.tenant_id}"}`;
      // Known before its first ticket: the series of the services that will count
      // it (the ingress its webhook, the poster its note) are scraped at zero.
      for (const [job, series] of [
        ['webhook-ingress', 'enhancement_requests_total'],
        ['servicedesk-poster', 'enhancement_outcomes_total'],
      ]) {
        await eventually(
          async () =>
            (await value(`${series}{job="${job}",tenant_id="${tenant.tenant_id}"}`)) === 0
              ? true
              : undefined,
          30_000,
        );
      }
      expect(await value(`enhancement_success_rate${selector}`)).toBeUndefined();

      await platform.sendUntilAccepted((r) => sdp.control.sendWebhook(r), tenant, {
        ticket_id: 'MON-1',
        subject: 'Mailbox full',
        status: 'Open',
      });
      await eventually(
        () => sdp.control.notes().find((n) => n.request_display_id === 'MON-1'),
        30_000,
      );

      const successRate = await eventually(
        () => value(`enhancement_success_rate${selector}`),
        30_000,
      );
      expect(successRate).toBe(1);
      const p95 = await eventually(async () => {
        const v = await value(`tenant:enhancement_request_duration_seconds:p95_5m${selector}`);
        return v !== undefined && Number.isFinite(v) ? v : undefined;
      }, 30_000);
      expect(p95).toBeGreaterThan(0);
      const requests = await eventually(async () => {
        const v = await value(`tenant:enhancement_requests:rate5m${selector}`);
        return v !== undefined && v > 0 ? v : undefined;
      }, 30_000);
      expect(requests).toBeGreaterThan(0);
    },
    120_000,
  );
});
