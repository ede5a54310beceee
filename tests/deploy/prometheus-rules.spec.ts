/**
 * deploy/prometheus: the recording and alerting rules use only the metrics
 * the services expose, every alert has unit tests that show it firing and
 * not firing, and promtool (when installed) checks and runs them.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOY_DIR, readYaml } from './deploy-files';
import { exposedSeriesNames, metricNamesIn } from './promql';
import { itWithPromtool, promtool } from './promtool';

const PROMETHEUS_DIR = join(DEPLOY_DIR, 'prometheus');
const RULES = join(PROMETHEUS_DIR, 'rules.yml');
const RULES_TEST = join(PROMETHEUS_DIR, 'rules.test.yml');
const CONFIG = join(PROMETHEUS_DIR, 'prometheus.yml');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RulesFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}

interface RulesTestFile {
  rule_files: string[];
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; eval_time: string; exp_alerts: unknown[] }[];
    promql_expr_test?: { expr: string; eval_time: string; exp_samples: unknown[] }[];
  }[];
}

const rulesFile = readYaml(RULES) as RulesFile;
const rules = rulesFile.groups.flatMap((g) => g.rules);
const recorded = rules.flatMap((r) => (r.record ? [r.record] : []));
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const testsFile = readYaml(RULES_TEST) as RulesTestFile;

const EXPECTED_ALERTS = [
  'EnhancementFailureRateHigh',
  'EnhancementHelpfulRateLow',
  'EnhancementLatencySLOBreached',
  'EnhancementQueueBacklog',
  'EnhancementWorkersStalled',
  'EnhancementDeadLetters',
  'TicketEnhancementServiceDown',
];

describe('metricNamesIn (the PromQL scanner the checks rely on)', () => {
  it('finds selected metrics and ignores functions, labels, ranges and keywords', () => {
    expect(
      metricNamesIn(
        'sum by (tenant_id, le) (rate(foo_bucket{tenant_id=~"$tenant_id", x="a b"}[$__rate_interval])) ' +
          '/ on(tenant_id) group_left bar:ratio > 0.95 and baz offset 10m unless absent(qux)',
      ),
    ).toEqual(['bar:ratio', 'baz', 'foo_bucket', 'qux']);
    expect(
      metricNamesIn('histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le)) > 1e3'),
    ).toEqual(['x_bucket']);
  });
});

describe('deploy/prometheus/rules.yml', () => {
  it('records enhancement_success_rate per tenant, as the runbook queries it', () => {
    const rule = rules.find((r) => r.record === 'enhancement_success_rate');
    expect(rule?.expr).toMatch(/sum by \(namespace, tenant_id\)/);
    expect(metricNamesIn(rule!.expr)).toEqual(['enhancement_outcomes_total']);
    expect(rule!.expr).toContain('outcome="posted"');
  });

  it('records queue depth as the max over replicas (every replica reports the same consumer)', () => {
    expect(rules.find((r) => r.record === 'stage:enhancement_queue_depth:max')?.expr).toBe(
      'max by (namespace, stage) (enhancement_queue_depth)',
    );
  });

  it('alerts on failure rate, the 15 s latency objective, backlog, dead letters and services down', () => {
    expect(alerts.map((a) => a.alert)).toEqual(EXPECTED_ALERTS);
    expect(alerts.find((a) => a.alert === 'EnhancementLatencySLOBreached')!.expr).toMatch(
      /histogram_quantile\(0\.95,[\s\S]*enhancement_request_duration_seconds_bucket[\s\S]*\) > 15\s*$/,
    );
    expect(alerts.find((a) => a.alert === 'TicketEnhancementServiceDown')!.expr).toMatch(
      /^up\{.*\} == 0$/,
    );
    for (const alert of alerts) {
      expect(['warning', 'critical']).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary).toBeTruthy();
      expect(alert.annotations?.description).toBeTruthy();
    }
  });

  it('reads only the metrics the services expose, or series recorded earlier', () => {
    const allowed = exposedSeriesNames();
    const seen = new Set<string>();
    for (const rule of rules) {
      const names = metricNamesIn(rule.expr);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        expect([
          rule.record ?? rule.alert,
          name,
          allowed.has(name) || recorded.includes(name),
        ]).toEqual([rule.record ?? rule.alert, name, true]);
        seen.add(name);
      }
    }
    // Each exposed metric family is used by some rule or is dashboard-only.
    expect([...seen].sort()).toEqual(
      [
        'dead_letters_total',
        'enhancement_feedback_total',
        'enhancement_outcomes_total',
        'enhancement_queue_depth',
        'enhancement_request_duration_seconds_bucket',
        'enhancement_requests_total',
        'enhancement_stage_duration_seconds_bucket',
        'llm_cost_usd_total',
        'up',
        'worker_active_tasks',
      ].sort(),
    );
  });
});

describe('deploy/prometheus/rules.test.yml', () => {
  it('tests rules.yml', () => {
    expect(testsFile.rule_files).toEqual(['rules.yml']);
  });

  it.each(EXPECTED_ALERTS)('shows %s both firing and not firing', (alertname) => {
    const cases = testsFile.tests.flatMap((t) =>
      (t.alert_rule_test ?? []).filter((c) => c.alertname === alertname),
    );
    expect(cases.some((c) => c.exp_alerts.length > 0)).toBe(true);
    expect(cases.some((c) => c.exp_alerts.length === 0)).toBe(true);
  });

  it('checks the recorded success rate and p95 values', () => {
    const exprs = testsFile.tests.flatMap((t) => (t.promql_expr_test ?? []).map((c) => c.expr));
    expect(exprs).toEqual(
      expect.arrayContaining([
        'enhancement_success_rate',
        'tenant:enhancement_request_duration_seconds:p95_5m',
        'stage:enhancement_queue_depth:max{stage="context-gatherer"}',
      ]),
    );
  });
});

describe('promtool', () => {
  itWithPromtool('promtool check rules')('check rules: rules.yml is valid', () => {
    const run = promtool(['check', 'rules', RULES]);
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(run.status).toBe(0);
  });

  itWithPromtool('promtool test rules')(
    'test rules: every unit test in rules.test.yml passes',
    () => {
      const run = promtool(['test', 'rules', RULES_TEST]);
      expect(run.output).toMatch(/SUCCESS/);
      expect(run.output).not.toMatch(/FAILED/);
      expect(run.status).toBe(0);
    },
  );

  itWithPromtool('promtool test rules (mutation)')(
    'test rules fails when a threshold changes',
    () => {
      // The unit tests must be able to fail: raise the latency objective to 35 s.
      const scratch = mkdtempSync(join(tmpdir(), 'tep-rules-'));
      try {
        writeFileSync(
          join(scratch, 'rules.yml'),
          readFileSync(RULES, 'utf8').replace(/\) > 15\n/, ') > 35\n'),
        );
        copyFileSync(RULES_TEST, join(scratch, 'rules.test.yml'));
        const run = promtool(['test', 'rules', join(scratch, 'rules.test.yml')]);
        expect(run.output).toMatch(/FAILED[\s\S]*EnhancementLatencySLOBreached/);
        expect(run.status).not.toBe(0);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  );

  itWithPromtool('promtool check config')(
    'check config: prometheus.yml (scrape config) is valid',
    () => {
      let run = promtool(['check', 'config', CONFIG]);
      if (run.status !== 0 && /kubernetes_sd_configs not found/.test(run.output)) {
        // Debian's promtool is built without Kubernetes service discovery:
        // check everything else with a static target in its place.
        console.log(
          'deploy-checks: this promtool lacks kubernetes_sd_configs; checking prometheus.yml with static_configs instead',
        );
        const scratch = mkdtempSync(join(tmpdir(), 'tep-prom-'));
        try {
          const config = readFileSync(CONFIG, 'utf8')
            .replace('kubernetes_sd_configs:', 'static_configs:')
            .replace('- role: pod', '- targets: ["127.0.0.1:8080"]');
          writeFileSync(join(scratch, 'prometheus.yml'), config);
          copyFileSync(RULES, join(scratch, 'rules.yml'));
          run = promtool(['check', 'config', join(scratch, 'prometheus.yml')]);
        } finally {
          rmSync(scratch, { recursive: true, force: true });
        }
      }
      expect(run.output).toContain('is valid prometheus config file syntax');
      expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(run.status).toBe(0);
    },
  );
});
