/**
 * The runbook's "Validation Checklist", item by item, marked from what the
 * onboarding actually observed. Items a program cannot see (the SDP admin
 * console, Grafana, Jaeger) are "manual" — never reported as passed.
 */
import { ICON } from './output';
import type { OnboardingRecordInput } from './registry-client';

export type ItemStatus = 'passed' | 'failed' | 'manual';
export type Section =
  'Database' | 'Kubernetes' | 'ServiceDesk Plus' | 'End-to-End' | 'Security' | 'Monitoring';

export interface ChecklistItem {
  section: Section;
  item: string;
  status: ItemStatus;
  detail: string;
  /** Passed, but with the weaker static-header webhook scheme. */
  weaker?: boolean;
}

/** An observation: undefined means the step that would make it was never reached. */
export interface Fact {
  ok: boolean;
  detail: string;
}

export interface OnboardingFacts {
  tier: 'basic' | 'premium';
  scheme: 'hmac' | 'static_header';
  webhookUrl?: string;
  tenantRecord?: Fact;
  tenantUnique?: Fact;
  credentialsEncrypted?: Fact;
  preferencesValid?: Fact;
  rlsPolicies?: Fact;
  kubernetes?: {
    dir: string;
    /** kubectl apply ran and `kubectl get` found every object. */
    verified?: Fact;
    skippedReason?: string;
  };
  webhookAccepted?: Fact;
  jobProcessed?: Fact;
  notePosted?: Fact;
  noteVisible?: Fact;
  signatureEnforced?: Fact;
  isolation?: Fact;
  metrics?: Fact;
}

const NOT_REACHED = 'not checked: an earlier step failed';

function fromFact(section: Section, item: string, fact: Fact | undefined): ChecklistItem {
  if (!fact) return { section, item, status: 'failed', detail: NOT_REACHED };
  return { section, item, status: fact.ok ? 'passed' : 'failed', detail: fact.detail };
}

const manual = (section: Section, item: string, detail: string): ChecklistItem => ({
  section,
  item,
  status: 'manual',
  detail,
});

export function buildChecklist(f: OnboardingFacts): ChecklistItem[] {
  const weaker = f.scheme === 'static_header';
  const items: ChecklistItem[] = [
    fromFact('Database', 'Tenant record exists in `tenant_configs` table', f.tenantRecord),
    fromFact('Database', '`tenant_id` is unique (no duplicates)', f.tenantUnique),
    fromFact(
      'Database',
      'Credentials encrypted (check `servicedesk_api_key_encrypted` and `webhook_signing_secret_encrypted` fields are not plaintext)',
      f.credentialsEncrypted,
    ),
    fromFact('Database', 'Enhancement preferences valid JSON', f.preferencesValid),
    fromFact('Database', 'RLS policies active on all tenant-scoped tables', f.rlsPolicies),
  ];

  if (f.tier === 'premium') {
    const k = f.kubernetes;
    const k8sItem = (item: string): ChecklistItem => {
      if (!k) return { section: 'Kubernetes', item, status: 'failed', detail: NOT_REACHED };
      if (k.verified) return fromFact('Kubernetes', item, k.verified);
      return manual(
        'Kubernetes',
        item,
        `manifests written to ${k.dir}, not applied (${k.skippedReason ?? 'no --apply'}): kubectl apply -f ${k.dir}`,
      );
    };
    items.push(
      k8sItem('Namespace exists (Premium tier only)'),
      k8sItem('RBAC policies applied (Premium tier only)'),
      k8sItem('Network policies configured (Premium tier only)'),
      k8sItem('Resource quotas set (Premium tier only)'),
      manual(
        'Kubernetes',
        'Secrets created and accessible',
        'the platform keeps tenant credentials Fernet-encrypted in tenant_configs (runbook option 2.1A); create a Kubernetes secret only if your deployment reads one',
      ),
    );
  }

  items.push(
    manual(
      'ServiceDesk Plus',
      'Webhook configured with correct URL and tenant_id parameter',
      `in the client's SDP: ${f.webhookUrl ?? 'the webhook URL printed above'}`,
    ),
    weaker
      ? {
          ...manual(
            'ServiceDesk Plus',
            'HMAC-SHA256 signing secret configured',
            'WEAKER: this tenant uses the static X-ServiceDesk-Token header instead of an HMAC signature; configure the header in SDP',
          ),
          weaker: true,
        }
      : manual(
          'ServiceDesk Plus',
          'HMAC-SHA256 signing secret configured',
          'paste the secret into the Deluge custom function printed above',
        ),
    manual(
      'ServiceDesk Plus',
      'Triggers enabled for ticket creation/update events',
      'in SDP: Ticket Created and Ticket Updated (priority/status) triggers',
    ),
    manual(
      'ServiceDesk Plus',
      'Test webhook delivery successful',
      "from SDP itself (its Test Webhook button or a new ticket); tep's own signed test webhook is under End-to-End",
    ),
    fromFact('ServiceDesk Plus', 'Signature validation passed', f.webhookAccepted),
    fromFact(
      'End-to-End',
      'Test webhook processed successfully (202 Accepted response)',
      f.webhookAccepted,
    ),
    fromFact(
      'End-to-End',
      'Job queued (JetStream; the runbook says Redis `enhancement_queue`)',
      f.webhookAccepted && {
        ok: f.webhookAccepted.ok,
        detail: f.webhookAccepted.ok
          ? 'the ingress answers 202 with a job id only after JetStream stored the job'
          : f.webhookAccepted.detail,
      },
    ),
    fromFact(
      'End-to-End',
      'Pipeline workers processed job without errors (the runbook says Celery)',
      f.jobProcessed,
    ),
    fromFact('End-to-End', 'Enhancement posted to ServiceDesk Plus ticket', f.notePosted),
    fromFact('End-to-End', 'Technicians can view enhancement in ticket notes', f.noteVisible),
    fromFact('Security', 'RLS isolation verified (multi-tenant test passed)', f.isolation),
    {
      ...fromFact(
        'Security',
        'Webhook signature validation enforced (reject unsigned requests)',
        f.signatureEnforced,
      ),
      ...(weaker ? { weaker: true } : {}),
    },
    fromFact('Security', 'Credentials encrypted at rest', f.credentialsEncrypted),
    fromFact('Security', 'No cross-tenant data leakage', f.isolation),
  );

  const metrics = fromFact(
    'Monitoring',
    'Prometheus scraping metrics from tenant (`enhancement_requests_total` increments)',
    f.metrics,
  );
  items.push(
    // The counter is visible from here; whether Prometheus scrapes it is not.
    metrics.status === 'passed'
      ? { ...metrics, status: 'manual', detail: `${metrics.detail}; confirm Prometheus scrapes it` }
      : metrics,
    manual('Monitoring', 'Grafana dashboard shows tenant-specific metrics', 'check in Grafana'),
    manual('Monitoring', 'Jaeger traces visible for tenant', 'check in Jaeger (tag tenant_id)'),
    manual('Monitoring', 'Alertmanager rules active (if configured)', 'check in Alertmanager'),
  );
  return items;
}

export function summarize(items: readonly ChecklistItem[]): {
  passed: number;
  failed: number;
  manual: number;
  weaker: number;
} {
  return {
    passed: items.filter((i) => i.status === 'passed').length,
    failed: items.filter((i) => i.status === 'failed').length,
    manual: items.filter((i) => i.status === 'manual').length,
    weaker: items.filter((i) => i.weaker).length,
  };
}

export function renderChecklist(items: readonly ChecklistItem[]): string {
  const lines: string[] = [];
  let section: string | undefined;
  for (const item of items) {
    if (item.section !== section) {
      section = item.section;
      lines.push(`${lines.length ? '\n' : ''}${section} Validation`);
    }
    const mark = item.status === 'manual' ? `${ICON.manual} MANUAL` : ICON[item.status];
    const weaker = item.weaker ? ` ${ICON.warning}WEAKER` : '';
    lines.push(`  ${mark}${weaker} ${item.item}${item.detail ? `\n       ${item.detail}` : ''}`);
  }
  const s = summarize(items);
  lines.push(
    `\n${s.passed} passed, ${s.failed} failed, ${s.manual} manual${s.weaker ? `, ${s.weaker} marked WEAKER` : ''}`,
  );
  return lines.join('\n');
}

/**
 * The registry's record has only `passed`: manual items are recorded as not
 * passed, and their detail says so, so nobody reads them as verified.
 */
export function toOnboardingRecord(
  items: readonly ChecklistItem[],
  meta: { completedAt: Date; operator?: string },
): OnboardingRecordInput {
  return {
    completed_at: meta.completedAt.toISOString(),
    ...(meta.operator ? { operator: meta.operator.slice(0, 200) } : {}),
    checklist: items.map((i) => ({
      section: i.section,
      item: i.item.slice(0, 300),
      passed: i.status === 'passed',
      detail: [i.status === 'manual' ? 'MANUAL' : '', i.weaker ? 'WEAKER' : '', i.detail]
        .filter(Boolean)
        .join(': ')
        .slice(0, 1000),
    })),
  };
}
