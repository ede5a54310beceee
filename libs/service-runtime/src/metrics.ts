import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per service, served at GET /metrics. */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named *_total break Prometheus naming rules (promtool check metrics).
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }
  }
}

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

/** Webhook receipt → note posted can take minutes when SDP or the LLM is slow. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 180, 300];

/**
 * The pipeline's metrics, under the runbook's names where it has them. The
 * only per-ticket identifiers are never labels: tenant_id, stage, outcome,
 * reason and operation are all bounded sets.
 */
@Injectable()
export class PipelineMetrics {
  readonly requestDuration: Histogram<'tenant_id'>;
  readonly outcomes: Counter<'tenant_id' | 'outcome'>;
  readonly queueDepth: Gauge<'stage'>;
  readonly activeTasks: Gauge<'stage'>;
  readonly stageDuration: Histogram<'stage' | 'outcome'>;
  readonly llmTokens: Counter<'tenant_id' | 'kind'>;
  readonly llmCost: Counter<'tenant_id'>;
  readonly redactions: Counter<'tenant_id' | 'kind'>;
  readonly sdpCalls: Counter<'operation' | 'outcome'>;
  readonly deadLetters: Counter<'stage' | 'reason'>;
  readonly possibleOutages: Counter<'tenant_id'>;
  readonly feedback: Counter<'tenant_id' | 'rating'>;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.requestDuration = new Histogram({
      name: 'enhancement_request_duration_seconds',
      help: 'Webhook receipt to enhancement posted (runbook step 6.2 latency panel)',
      labelNames: ['tenant_id'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.outcomes = new Counter({
      name: 'enhancement_outcomes_total',
      help: 'Jobs that ended, by outcome (posted, failed, or skipped on purpose: one note per ticket, low confidence); the success rate is posted / (posted + failed)',
      labelNames: ['tenant_id', 'outcome'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'enhancement_queue_depth',
      help: "Messages waiting for a stage: JetStream num_pending of its consumers, main and backlog lane (the runbook's redis_queue_depth)",
      labelNames: ['stage'],
      registers,
    });
    this.activeTasks = new Gauge({
      name: 'worker_active_tasks',
      help: "Messages a worker replica is processing now (the runbook's celery_worker_active_tasks)",
      labelNames: ['stage'],
      registers,
    });
    this.stageDuration = new Histogram({
      name: 'enhancement_stage_duration_seconds',
      help: 'Time a stage spends on one delivery',
      labelNames: ['stage', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.llmTokens = new Counter({
      name: 'llm_tokens_total',
      help: 'LLM tokens used, by kind (prompt or completion)',
      labelNames: ['tenant_id', 'kind'],
      registers,
    });
    this.llmCost = new Counter({
      name: 'llm_cost_usd_total',
      help: 'Estimated LLM cost in US dollars from LLM_PRICE_* settings',
      labelNames: ['tenant_id'],
      registers,
    });
    this.redactions = new Counter({
      name: 'enhancement_redactions_total',
      help: 'Values replaced by placeholders before text went to an LLM, by kind (secret, card, iban, email, phone, name)',
      labelNames: ['tenant_id', 'kind'],
      registers,
    });
    this.sdpCalls = new Counter({
      name: 'sdp_api_calls_total',
      help: 'ServiceDesk Plus API operations, by outcome (ok or the error kind)',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'dead_letters_total',
      help: 'Messages dead-lettered, by stage and error code',
      labelNames: ['stage', 'reason'],
      registers,
    });
    this.possibleOutages = new Counter({
      name: 'enhancement_possible_outages_total',
      help: "Tickets whose note opened with 'Possible outage' (outage_threshold similar open tickets within outage_window_minutes)",
      labelNames: ['tenant_id'],
      registers,
    });
    this.feedback = new Counter({
      name: 'enhancement_feedback_total',
      help: "Technicians' ratings of notes (Helpful / Not helpful links), by rating; a changed answer counts again",
      labelNames: ['tenant_id', 'rating'],
      registers,
    });
  }

  /**
   * A tenant's series at zero from the moment it is known (TenantSeries),
   * not from its first event: `increase()` and `rate()` need a sample before
   * the first increment, or a new client's first ticket shows no success
   * rate and no latency (runbook step 6.2).
   */
  initTenant(tenantId: string): void {
    const tenant = { tenant_id: tenantId };
    this.requestDuration.zero(tenant);
    for (const outcome of ['posted', 'failed', 'skipped'])
      this.outcomes.inc({ ...tenant, outcome }, 0);
    for (const kind of ['prompt', 'completion']) this.llmTokens.inc({ ...tenant, kind }, 0);
    this.llmCost.inc(tenant, 0);
    this.possibleOutages.inc(tenant, 0);
    for (const rating of ['helpful', 'not_helpful']) this.feedback.inc({ ...tenant, rating }, 0);
  }

  /** A removed tenant's series go, so an offboarded client leaves none behind. */
  forgetTenant(tenantId: string): void {
    const tenant = { tenant_id: tenantId };
    for (const metric of [this.requestDuration, this.llmCost, this.possibleOutages]) {
      metric.remove(tenant);
    }
    for (const outcome of ['posted', 'failed', 'skipped'])
      this.outcomes.remove({ ...tenant, outcome });
    for (const kind of ['prompt', 'completion']) this.llmTokens.remove({ ...tenant, kind });
    for (const rating of ['helpful', 'not_helpful']) this.feedback.remove({ ...tenant, rating });
  }
}
