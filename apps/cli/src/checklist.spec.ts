import {
  buildChecklist,
  renderChecklist,
  summarize,
  toOnboardingRecord,
  type OnboardingFacts,
} from './checklist';

/** The runbook's "Validation Checklist", item for item (Redis/Celery renamed for this platform). */
const RUNBOOK_ITEMS: Record<string, string[]> = {
  Database: [
    'Tenant record exists in `tenant_configs` table',
    '`tenant_id` is unique (no duplicates)',
    'Credentials encrypted (check `servicedesk_api_key_encrypted` and `webhook_signing_secret_encrypted` fields are not plaintext)',
    'Enhancement preferences valid JSON',
    'RLS policies active on all tenant-scoped tables',
  ],
  Kubernetes: [
    'Namespace exists (Premium tier only)',
    'RBAC policies applied (Premium tier only)',
    'Network policies configured (Premium tier only)',
    'Resource quotas set (Premium tier only)',
    'Secrets created and accessible',
  ],
  'ServiceDesk Plus': [
    'Webhook configured with correct URL and tenant_id parameter',
    'HMAC-SHA256 signing secret configured',
    'Triggers enabled for ticket creation/update events',
    'Test webhook delivery successful',
    'Signature validation passed',
  ],
  'End-to-End': [
    'Test webhook processed successfully (202 Accepted response)',
    'Job queued (JetStream; the runbook says Redis `enhancement_queue`)',
    'Pipeline workers processed job without errors (the runbook says Celery)',
    'Enhancement posted to ServiceDesk Plus ticket',
    'Technicians can view enhancement in ticket notes',
  ],
  Security: [
    'RLS isolation verified (multi-tenant test passed)',
    'Webhook signature validation enforced (reject unsigned requests)',
    'Credentials encrypted at rest',
    'No cross-tenant data leakage',
  ],
  Monitoring: [
    'Prometheus scraping metrics from tenant (`enhancement_requests_total` increments)',
    'Grafana dashboard shows tenant-specific metrics',
    'Jaeger traces visible for tenant',
    'Alertmanager rules active (if configured)',
  ],
};

const ok = (detail: string) => ({ ok: true, detail });

function allGood(overrides: Partial<OnboardingFacts> = {}): OnboardingFacts {
  return {
    tier: 'basic',
    scheme: 'hmac',
    webhookUrl: 'https://api.example.com/webhook/servicedesk?tenant_id=t',
    tenantRecord: ok('found'),
    tenantUnique: ok('1 row'),
    credentialsEncrypted: ok('fernet'),
    preferencesValid: ok('valid'),
    rlsPolicies: ok('5/5'),
    webhookAccepted: ok('202, job_id j'),
    jobProcessed: ok('posted'),
    notePosted: ok('note 7'),
    noteVisible: ok('technicians'),
    signatureEnforced: ok('401/403'),
    isolation: ok('held'),
    metrics: ok('enhancement_requests_total = 1'),
    ...overrides,
  };
}

describe('validation checklist', () => {
  it('has every runbook item of a Premium onboarding, section by section', () => {
    const items = buildChecklist(
      allGood({ tier: 'premium', kubernetes: { dir: '/m', verified: ok('applied') } }),
    );
    const bySection: Record<string, string[]> = {};
    for (const i of items) (bySection[i.section] ??= []).push(i.item);
    expect(bySection).toEqual(RUNBOOK_ITEMS);
  });

  it('leaves the Premium-only Kubernetes section out for Basic', () => {
    const items = buildChecklist(allGood());
    expect(items.some((i) => i.section === 'Kubernetes')).toBe(false);
    expect(summarize(items)).toEqual({ passed: 15, failed: 0, manual: 8, weaker: 0 });
  });

  it('never marks what a program cannot see as passed', () => {
    const items = buildChecklist(allGood());
    const manual = items.filter((i) => i.status === 'manual').map((i) => i.item);
    expect(manual).toEqual([
      'Webhook configured with correct URL and tenant_id parameter',
      'HMAC-SHA256 signing secret configured',
      'Triggers enabled for ticket creation/update events',
      'Test webhook delivery successful',
      'Prometheus scraping metrics from tenant (`enhancement_requests_total` increments)',
      'Grafana dashboard shows tenant-specific metrics',
      'Jaeger traces visible for tenant',
      'Alertmanager rules active (if configured)',
    ]);
    // The metric was seen, scraping was not: manual, with what was verified.
    expect(items.find((i) => i.item.startsWith('Prometheus'))!.detail).toBe(
      'enhancement_requests_total = 1; confirm Prometheus scrapes it',
    );
  });

  it('fails items whose step was never reached, and items whose check failed', () => {
    const items = buildChecklist(
      allGood({
        notePosted: { ok: false, detail: 'no note within 60 s' },
        jobProcessed: undefined,
        metrics: undefined,
      }),
    );
    const status = (item: string) => items.find((i) => i.item === item)!;
    expect(status('Enhancement posted to ServiceDesk Plus ticket')).toMatchObject({
      status: 'failed',
      detail: 'no note within 60 s',
    });
    expect(
      status('Pipeline workers processed job without errors (the runbook says Celery)'),
    ).toMatchObject({
      status: 'failed',
      detail: 'not checked: an earlier step failed',
    });
    expect(
      status('Prometheus scraping metrics from tenant (`enhancement_requests_total` increments)')
        .status,
    ).toBe('failed');
  });

  it('marks Kubernetes items manual with the apply command when the manifests were not applied', () => {
    const items = buildChecklist(
      allGood({
        tier: 'premium',
        kubernetes: { dir: '/work/tenants/acme', skippedReason: 'no --apply given' },
      }),
    );
    const ns = items.find((i) => i.item === 'Namespace exists (Premium tier only)')!;
    expect(ns.status).toBe('manual');
    expect(ns.detail).toContain('kubectl apply -f /work/tenants/acme');
  });

  it('marks the static-header scheme WEAKER', () => {
    const items = buildChecklist(allGood({ scheme: 'static_header' }));
    const weaker = items.filter((i) => i.weaker).map((i) => i.item);
    expect(weaker).toEqual([
      'HMAC-SHA256 signing secret configured',
      'Webhook signature validation enforced (reject unsigned requests)',
    ]);
    expect(renderChecklist(items)).toMatch(/WEAKER Webhook signature validation enforced/);
  });

  it('renders sections, marks and a summary line', () => {
    const text = renderChecklist(
      buildChecklist(allGood({ isolation: { ok: false, detail: 'LEAK on kb_articles' } })),
    );
    expect(text).toContain(
      'Database Validation\n  ✅ Tenant record exists in `tenant_configs` table\n       found',
    );
    expect(text).toContain(
      '❌ RLS isolation verified (multi-tenant test passed)\n       LEAK on kb_articles',
    );
    expect(text).toContain('📝 MANUAL Grafana dashboard shows tenant-specific metrics');
    expect(text.trim().split('\n').at(-1)).toBe('13 passed, 2 failed, 8 manual');
  });

  it('records manual items as not passed, saying MANUAL, within the registry limits', () => {
    const record = toOnboardingRecord(buildChecklist(allGood({ scheme: 'static_header' })), {
      completedAt: new Date('2025-11-03T10:30:00Z'),
      operator: 'ops@example.com',
    });
    expect(record.completed_at).toBe('2025-11-03T10:30:00.000Z');
    expect(record.operator).toBe('ops@example.com');
    const grafana = record.checklist.find((c) => c.item.startsWith('Grafana'))!;
    expect(grafana).toEqual({
      section: 'Monitoring',
      item: 'Grafana dashboard shows tenant-specific metrics',
      passed: false,
      detail: 'MANUAL: check in Grafana',
    });
    expect(record.checklist.find((c) => c.item.startsWith('HMAC'))!.detail).toMatch(
      /^MANUAL: WEAKER: /,
    );
    expect(record.checklist.find((c) => c.item.startsWith('Tenant record'))).toMatchObject({
      passed: true,
    });
    expect(record.checklist.length).toBeLessThanOrEqual(100);
    for (const c of record.checklist) {
      expect(c.item.length).toBeLessThanOrEqual(300);
      expect(c.detail!.length).toBeLessThanOrEqual(1000);
    }
  });
});
