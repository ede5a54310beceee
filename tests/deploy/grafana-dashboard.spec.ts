/**
 * deploy/grafana: the dashboard has the runbook's panels (step 6.2), reads
 * only the metrics the services expose (or series rules.yml records),
 * filters per-tenant panels by the tenant_id variable, and — with promtool —
 * every query parses as PromQL.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DEPLOY_DIR, readYaml } from './deploy-files';
import { exposedSeriesNames, metricNamesIn, tenantMetrics } from './promql';
import { itWithPromtool, promtool } from './promtool';

interface Target {
  expr: string;
  refId: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  fieldConfig?: {
    defaults?: { unit?: string; thresholds?: { steps: { value: number | null }[] } };
  };
}

interface Variable {
  name: string;
  type: string;
  definition?: string;
  query?: unknown;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const DASHBOARD_PATH = join(DEPLOY_DIR, 'grafana', 'ticket-enhancement-dashboard.json');
const RUNBOOK_PANELS = [
  'Request Count',
  'Latency (p95)',
  'Success Rate',
  'Queue Depth',
  'Worker Status',
];

const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const recorded = (
  readYaml(join(DEPLOY_DIR, 'prometheus', 'rules.yml')) as {
    groups: { rules: { record?: string }[] }[];
  }
).groups
  .flatMap((g) => g.rules)
  .flatMap((r) => (r.record ? [r.record] : []));

function panel(title: string): Panel {
  const found = queryPanels.find((p) => p.title === title);
  if (!found) throw new Error(`no panel "${title}"`);
  return found;
}

describe('deploy/grafana/ticket-enhancement-dashboard.json', () => {
  it('is a Grafana dashboard with a stable uid', () => {
    expect(dashboard.title).toBe('Ticket Enhancement Platform');
    expect(dashboard.uid).toBe('tep-ticket-enhancement');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(queryPanels).toHaveLength(17);
  });

  it("has the runbook's five panels, in the first row", () => {
    const firstRow = queryPanels.filter((p) => p.gridPos.y === 1).map((p) => p.title);
    expect(firstRow).toEqual(RUNBOOK_PANELS);
  });

  it('also shows dead letters and LLM tokens and cost', () => {
    expect(metricNamesIn(panel('Dead Letters').targets![0].expr)).toEqual(['dead_letters_total']);
    expect(metricNamesIn(panel('LLM Tokens').targets![0].expr)).toEqual(['llm_tokens_total']);
    expect(metricNamesIn(panel('LLM Cost (USD)').targets![0].expr)).toEqual(['llm_cost_usd_total']);
    expect(panel('LLM Cost (USD)').fieldConfig?.defaults?.unit).toBe('currencyUSD');
  });

  it('answers the runbook step 6.2 queries with the right metrics', () => {
    const metricsOf = (title: string) =>
      panel(title).targets!.flatMap((t) => metricNamesIn(t.expr));
    expect(metricsOf('Request Count')).toEqual(['enhancement_requests_total']);
    expect(metricsOf('Latency (p95)')).toEqual(['enhancement_request_duration_seconds_bucket']);
    expect(panel('Latency (p95)').targets![0].expr).toMatch(/^histogram_quantile\(0\.95,/);
    // The 15 s objective is drawn as a threshold.
    expect(
      panel('Latency (p95)').fieldConfig?.defaults?.thresholds?.steps.map((s) => s.value),
    ).toEqual([null, 15]);
    expect(metricsOf('Success Rate')).toEqual(['enhancement_success_rate']);
    expect(panel('Success Rate').fieldConfig?.defaults?.unit).toBe('percentunit');
    expect(metricsOf('Queue Depth')).toEqual(['enhancement_queue_depth']);
    expect(metricsOf('Worker Status').sort()).toEqual(['up', 'worker_active_tasks']);
  });

  it('has a tenant_id variable from label_values(enhancement_requests_total, tenant_id)', () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'tenant_id');
    expect(variable).toMatchObject({
      type: 'query',
      definition: 'label_values(enhancement_requests_total, tenant_id)',
      query: { query: 'label_values(enhancement_requests_total, tenant_id)' },
      multi: true,
      includeAll: true,
      allValue: '.*',
    });
    expect(dashboard.templating.list.map((v) => v.name)).toEqual([
      'datasource',
      'namespace',
      'tenant_id',
    ]);
  });

  it('filters every panel on a per-tenant metric by $tenant_id', () => {
    const perTenant = tenantMetrics();
    const filtered: string[] = [];
    for (const p of queryPanels) {
      for (const t of p.targets ?? []) {
        const names = metricNamesIn(t.expr);
        if (!names.some((n) => perTenant.has(n) || n === 'enhancement_success_rate')) continue;
        expect([p.title, t.expr]).toEqual([
          p.title,
          expect.stringContaining('tenant_id=~"$tenant_id"'),
        ]);
        filtered.push(p.title);
      }
    }
    expect(filtered.sort()).toEqual(
      [
        'Request Count',
        'Latency (p95)',
        'Success Rate',
        'Requests per second',
        'Outcomes',
        'LLM Tokens',
        'LLM Cost (USD)',
        'Ratings',
      ].sort(),
    );
  });

  it('queries only metrics the services expose or rules.yml records', () => {
    const allowed = new Set([...exposedSeriesNames(), ...recorded]);
    let queries = 0;
    for (const p of queryPanels) {
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets!) {
        const names = metricNamesIn(t.expr);
        expect(names.length).toBeGreaterThan(0);
        for (const name of names)
          expect([p.title, name, allowed.has(name)]).toEqual([p.title, name, true]);
        queries += 1;
      }
    }
    expect(queries).toBe(18);
    // And the scanner would notice a stranger.
    expect(metricNamesIn('sum(rate(redis_queue_depth[5m]))').every((n) => allowed.has(n))).toBe(
      false,
    );
  });

  it('uses the datasource variable and a unique id and place for every panel', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of queryPanels) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets!) expect(t.datasource).toEqual(p.datasource);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.description).toBeTruthy();
    }
    // No two panels overlap.
    for (const a of dashboard.panels) {
      for (const b of dashboard.panels) {
        if (a === b) continue;
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect([a.title, b.title, overlap]).toEqual([a.title, b.title, false]);
      }
    }
  });

  itWithPromtool('PromQL syntax check of the dashboard queries')(
    'every query parses as PromQL (promtool check rules on the queries)',
    () => {
      // Grafana's variables replaced by what Grafana would send.
      const exprs = queryPanels.flatMap((p) =>
        p.targets!.map((t) =>
          t.expr
            .replace(/\$__rate_interval/g, '1m')
            .replace(/\$__range/g, '6h')
            .replace(/\$(tenant_id|namespace)/g, '.*'),
        ),
      );
      const scratch = mkdtempSync(join(tmpdir(), 'tep-dashboard-'));
      try {
        const file = join(scratch, 'dashboard-queries.yml');
        writeFileSync(
          file,
          stringify({
            groups: [
              {
                name: 'dashboard',
                rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })),
              },
            ],
          }),
        );
        const run = promtool(['check', 'rules', file]);
        expect(run.output).toContain(`SUCCESS: ${exprs.length} rules found`);
        expect(run.status).toBe(0);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  );
});
