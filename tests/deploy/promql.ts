/**
 * The metric names the services expose (issue 6) and a small PromQL scanner
 * that lists the metric names an expression reads, so dashboards and rules
 * can be checked against them.
 */

type MetricType = 'counter' | 'gauge' | 'histogram';

export const PLATFORM_METRICS: Readonly<
  Record<string, { type: MetricType; labels: readonly string[] }>
> = {
  enhancement_requests_total: { type: 'counter', labels: ['tenant_id', 'duplicate'] },
  enhancement_request_duration_seconds: { type: 'histogram', labels: ['tenant_id'] },
  enhancement_outcomes_total: { type: 'counter', labels: ['tenant_id', 'outcome'] },
  enhancement_queue_depth: { type: 'gauge', labels: ['stage'] },
  worker_active_tasks: { type: 'gauge', labels: ['stage'] },
  enhancement_stage_duration_seconds: { type: 'histogram', labels: ['stage', 'outcome'] },
  llm_tokens_total: { type: 'counter', labels: ['tenant_id', 'kind'] },
  llm_cost_usd_total: { type: 'counter', labels: ['tenant_id'] },
  sdp_api_calls_total: { type: 'counter', labels: ['operation', 'outcome'] },
  dead_letters_total: { type: 'counter', labels: ['stage', 'reason'] },
  webhook_rejected_total: { type: 'counter', labels: ['reason'] },
  enhancement_possible_outages_total: { type: 'counter', labels: ['tenant_id'] },
  enhancement_redactions_total: { type: 'counter', labels: ['tenant_id', 'kind'] },
  enhancement_feedback_total: { type: 'counter', labels: ['tenant_id', 'rating'] },
  // prom-client defaults and Prometheus' own.
  process_resident_memory_bytes: { type: 'gauge', labels: [] },
  up: { type: 'gauge', labels: [] },
};

/** Every series name the platform's metrics produce (histograms have three). */
export function exposedSeriesNames(): Set<string> {
  const names = new Set<string>();
  for (const [name, { type }] of Object.entries(PLATFORM_METRICS)) {
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    } else {
      names.add(name);
    }
  }
  return names;
}

/** Metrics that carry a tenant_id label: per-tenant panels must filter on it. */
export function tenantMetrics(): Set<string> {
  const names = new Set<string>();
  for (const [name, { type, labels }] of Object.entries(PLATFORM_METRICS)) {
    if (!labels.includes('tenant_id')) continue;
    names.add(name);
    if (type === 'histogram') names.add(`${name}_bucket`);
  }
  return names;
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/**
 * Names of the metrics (or recorded series) an expression selects. Strings,
 * label matchers, ranges, grouping label lists and Grafana variables are
 * removed first; then every identifier not followed by `(` (a function or
 * aggregation) and not a keyword is a metric name.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:$])[A-Za-z_:][\w:]*/g)) {
    const word = match[0];
    const rest = stripped.slice((match.index ?? 0) + word.length).trimStart();
    if (rest.startsWith('(') || KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names].sort();
}
