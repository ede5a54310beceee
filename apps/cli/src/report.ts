/**
 * The figures of `tep report`: the runbook's post-onboarding documents for
 * one client (profile, configuration summary, baseline metrics), read only
 * through the platform's own surfaces — the registry's admin API for the
 * tenant and its feedback summary, the application role under the tenant's
 * RLS context for its jobs.
 */
import type { Client } from 'pg';
import { readAsTenant } from './db';
import type { TenantView } from './registry-client';

/** The runbook's targets (step 6.2 latency and success; step 6.3 feedback). */
export const REPORT_TARGETS = {
  success_rate: 1,
  latency_p95_seconds: 15,
  relevance_yes_rate: 0.8,
  average_quality: 4,
  average_accuracy: 4,
} as const;

/** List prices used to estimate cost when a job records tokens (LLM_PRICE_* defaults). */
const PRICE_PER_MTOK = { prompt: 0.15, completion: 0.6 };

export interface DailyFigures {
  day: string;
  tickets: number;
  notes: number;
  failed: number;
  ratings: number;
  helpful: number;
}

export interface BaselineMetrics {
  since: string;
  until: string;
  tickets: number;
  jobs: number;
  notes_posted: number;
  failed: number;
  skipped: number;
  pending: number;
  /** posted ÷ (posted + failed); null without a finished job. */
  success_rate: number | null;
  dead_letters_by_reason: Record<string, number>;
  latency_seconds: { p50: number | null; p95: number | null };
  synthesizers: Record<string, number>;
  llm: { prompt_tokens: number; completion_tokens: number; estimated_cost_usd: number };
  daily: DailyFigures[];
}

export interface FeedbackFigures {
  ratings: number;
  helpful: number;
  not_helpful: number;
  helpful_rate: number | null;
  relevance_yes_rate: number | null;
  average_quality: number | null;
  average_accuracy: number | null;
}

export interface ClientReport {
  generated_at: string;
  profile: {
    name: string;
    tenant_id: string;
    contact: string | null;
    tier: string;
    status: string;
    servicedesk_url: string;
    onboarded_at: string | null;
    onboarding_result: string;
  };
  configuration: {
    webhook_url: string;
    webhook_auth_scheme: string;
    webhook_auth_weaker: boolean;
    rate_limits: Record<string, unknown>;
    enhancement_preferences: Record<string, unknown>;
  };
  metrics: BaselineMetrics;
  feedback: FeedbackFigures;
  targets: typeof REPORT_TARGETS;
  /** True when the period holds no job: the report says so rather than showing zeros as results. */
  no_traffic: boolean;
}

export function profileOf(tenant: TenantView): Pick<ClientReport, 'profile' | 'configuration'> {
  const record = tenant.onboarding_record;
  const failedItems = record?.checklist.filter((c) => !c.passed).length ?? 0;
  return {
    profile: {
      name: tenant.name,
      tenant_id: tenant.tenant_id,
      contact: tenant.admin_email,
      tier: tenant.tier,
      status: tenant.status,
      servicedesk_url: tenant.servicedesk_url,
      onboarded_at: record?.completed_at ?? null,
      onboarding_result: !record
        ? 'not recorded (run `tep onboard`)'
        : failedItems === 0
          ? `passed (${record.checklist.length} checks)`
          : `${failedItems} of ${record.checklist.length} checks failed`,
    },
    configuration: {
      webhook_url: tenant.webhook_url,
      webhook_auth_scheme: tenant.webhook_auth_scheme,
      webhook_auth_weaker: tenant.webhook_auth_weaker,
      rate_limits: tenant.rate_limits,
      enhancement_preferences: tenant.enhancement_preferences,
    },
  };
}

/** The period's jobs, as the application role under the tenant's RLS context. */
export async function baselineMetrics(
  client: Client,
  tenantId: string,
  since: Date,
  until: Date,
): Promise<BaselineMetrics> {
  return readAsTenant(client, tenantId, async () => {
    const period = [since.toISOString(), until.toISOString()];
    const { rows: totals } = await client.query<Record<string, string | null>>(
      `SELECT count(DISTINCT ticket_id) AS tickets, count(*) AS jobs,
              count(*) FILTER (WHERE status = 'posted') AS posted,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              count(*) FILTER (WHERE status = 'skipped') AS skipped,
              count(*) FILTER (WHERE status = 'pending') AS pending,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM posted_at - received_at))
                FILTER (WHERE status = 'posted' AND posted_at IS NOT NULL) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM posted_at - received_at))
                FILTER (WHERE status = 'posted' AND posted_at IS NOT NULL) AS p95,
              coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
              coalesce(sum(completion_tokens), 0) AS completion_tokens
         FROM enhancement_history
        WHERE received_at >= $1 AND received_at < $2`,
      period,
    );
    const { rows: reasons } = await client.query<{ reason: string; n: string }>(
      `SELECT coalesce(nullif(split_part(error, ':', 1), ''), 'unknown') AS reason, count(*) AS n
         FROM enhancement_history
        WHERE status = 'failed' AND received_at >= $1 AND received_at < $2
        GROUP BY 1 ORDER BY 2 DESC`,
      period,
    );
    const { rows: synthesizers } = await client.query<{ synthesizer: string; n: string }>(
      `SELECT coalesce(synthesizer, 'none') AS synthesizer, count(*) AS n
         FROM enhancement_history
        WHERE status = 'posted' AND received_at >= $1 AND received_at < $2
        GROUP BY 1 ORDER BY 2 DESC`,
      period,
    );
    const { rows: days } = await client.query<Record<string, string>>(
      `WITH days AS (
         SELECT generate_series(date_trunc('day', $1::timestamptz AT TIME ZONE 'UTC'),
                                date_trunc('day', ($2::timestamptz - interval '1 ms') AT TIME ZONE 'UTC'),
                                interval '1 day') AS day)
       SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
              (SELECT count(DISTINCT ticket_id) FROM enhancement_history h
                WHERE h.received_at AT TIME ZONE 'UTC' >= d.day AND h.received_at AT TIME ZONE 'UTC' < d.day + interval '1 day') AS tickets,
              (SELECT count(*) FROM enhancement_history h WHERE h.status = 'posted'
                  AND h.received_at AT TIME ZONE 'UTC' >= d.day AND h.received_at AT TIME ZONE 'UTC' < d.day + interval '1 day') AS notes,
              (SELECT count(*) FROM enhancement_history h WHERE h.status = 'failed'
                  AND h.received_at AT TIME ZONE 'UTC' >= d.day AND h.received_at AT TIME ZONE 'UTC' < d.day + interval '1 day') AS failed,
              (SELECT count(*) FROM enhancement_feedback f
                WHERE f.submitted_at AT TIME ZONE 'UTC' >= d.day AND f.submitted_at AT TIME ZONE 'UTC' < d.day + interval '1 day') AS ratings,
              (SELECT count(*) FROM enhancement_feedback f WHERE f.rating = 'helpful'
                  AND f.submitted_at AT TIME ZONE 'UTC' >= d.day AND f.submitted_at AT TIME ZONE 'UTC' < d.day + interval '1 day') AS helpful
         FROM days d ORDER BY d.day`,
      period,
    );
    const t = totals[0] ?? {};
    const n = (v: string | null | undefined) => Number(v ?? 0);
    const posted = n(t['posted']);
    const failed = n(t['failed']);
    const seconds = (v: string | null | undefined) =>
      v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100;
    const promptTokens = n(t['prompt_tokens']);
    const completionTokens = n(t['completion_tokens']);
    return {
      since: since.toISOString(),
      until: until.toISOString(),
      tickets: n(t['tickets']),
      jobs: n(t['jobs']),
      notes_posted: posted,
      failed,
      skipped: n(t['skipped']),
      pending: n(t['pending']),
      success_rate: posted + failed > 0 ? posted / (posted + failed) : null,
      dead_letters_by_reason: Object.fromEntries(reasons.map((r) => [r.reason, n(r.n)])),
      latency_seconds: { p50: seconds(t['p50']), p95: seconds(t['p95']) },
      synthesizers: Object.fromEntries(synthesizers.map((s) => [s.synthesizer, n(s.n)])),
      llm: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        estimated_cost_usd:
          Math.round(
            ((promptTokens * PRICE_PER_MTOK.prompt + completionTokens * PRICE_PER_MTOK.completion) /
              1e6) *
              10_000,
          ) / 10_000,
      },
      daily: days.map((d) => ({
        day: d['day'],
        tickets: n(d['tickets']),
        notes: n(d['notes']),
        failed: n(d['failed']),
        ratings: n(d['ratings']),
        helpful: n(d['helpful']),
      })),
    };
  });
}
