import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '@tep/service-runtime';
import type { WebhookOutcome } from './webhook-outcome';

/**
 * Ingress metrics. `tenant_id` is only ever a known tenant's id (bounded);
 * requests naming unknown tenants are counted without it.
 */
@Injectable()
export class IngressMetrics {
  private readonly accepted: Counter<'tenant_id' | 'duplicate'>;
  private readonly rejected: Counter<'reason'>;
  private readonly latency: Histogram<'outcome'>;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.accepted = new Counter({
      name: 'enhancement_requests_total',
      help: 'Webhooks accepted and queued for enhancement (runbook step 6.2)',
      labelNames: ['tenant_id', 'duplicate'],
      registers,
    });
    this.rejected = new Counter({
      name: 'webhook_rejected_total',
      help: 'Webhooks refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.latency = new Histogram({
      name: 'webhook_ingress_duration_seconds',
      help: 'Time from request to reply at the ingress',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  /** A known tenant's accepted-webhook series at zero before its first webhook (see PipelineMetrics.initTenant). */
  initTenant(tenantId: string): void {
    for (const duplicate of ['false', 'true'])
      this.accepted.inc({ tenant_id: tenantId, duplicate }, 0);
  }

  forgetTenant(tenantId: string): void {
    for (const duplicate of ['false', 'true'])
      this.accepted.remove({ tenant_id: tenantId, duplicate });
  }

  record(outcome: WebhookOutcome, knownTenantId: string | undefined, startedNs: bigint): void {
    const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
    if (outcome.kind === 'accepted') {
      this.accepted.inc({
        tenant_id: knownTenantId ?? 'unknown',
        duplicate: String(outcome.duplicate),
      });
      this.latency.observe({ outcome: 'accepted' }, seconds);
    } else {
      this.rejected.inc({ reason: outcome.reason });
      this.latency.observe({ outcome: 'rejected' }, seconds);
    }
  }
}
