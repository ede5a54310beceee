/**
 * `tep report`'s documents: Markdown for people (with the charts as SVG
 * images beside it) and the same figures as JSON. Charts are Vega-Lite
 * specifications rendered to SVG by Vega — no browser, no network.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { REPORT_TARGETS, type ClientReport } from './report';

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const num = (v: number | null, unit = '') => (v === null ? '–' : `${v}${unit}`);
const rateLimitOf = (limits: Record<string, unknown>) => {
  const perMinute = limits['requests_per_minute'];
  return typeof perMinute === 'number' ? String(perMinute) : 'no';
};
const mark = (ok: boolean | null) => (ok === null ? '–' : ok ? '✅' : '⚠️');

async function svgOf(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Daily tickets and notes posted (bars), and the helpful rate per day (line). */
export async function renderCharts(
  report: ClientReport,
): Promise<{ volume: string; helpful: string }> {
  const daily = report.metrics.daily;
  const volume = await svgOf({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${report.profile.name}: tickets and notes per day`,
    width: 480,
    height: 200,
    data: {
      values: daily.flatMap((d) => [
        { day: d.day, series: 'tickets', count: d.tickets },
        { day: d.day, series: 'notes posted', count: d.notes },
      ]),
    },
    mark: 'bar',
    encoding: {
      x: { field: 'day', type: 'ordinal', title: null },
      xOffset: { field: 'series' },
      y: { field: 'count', type: 'quantitative', title: 'per day' },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
  const helpful = await svgOf({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${report.profile.name}: notes rated helpful (target ${REPORT_TARGETS.relevance_yes_rate * 100} %)`,
    width: 480,
    height: 200,
    data: {
      values: daily
        .filter((d) => d.ratings > 0)
        .map((d) => ({ day: d.day, rate: d.helpful / d.ratings, ratings: d.ratings })),
    },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'day',
            type: 'ordinal',
            title: null,
            scale: { domain: daily.map((d) => d.day) },
          },
          y: {
            field: 'rate',
            type: 'quantitative',
            title: 'helpful',
            scale: { domain: [0, 1] },
            axis: { format: '%' },
          },
        },
      },
      {
        data: { values: [{ target: REPORT_TARGETS.relevance_yes_rate }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'green' },
        encoding: { y: { field: 'target', type: 'quantitative' } },
      },
    ],
  });
  return { volume, helpful };
}

export function renderMarkdown(
  report: ClientReport,
  images: { volume: string; helpful: string },
): string {
  const { profile: p, configuration: c, metrics: m, feedback: f } = report;
  const prefs = Object.entries(c.enhancement_preferences)
    .map(([k, v]) => `| \`${k}\` | \`${JSON.stringify(v)}\` |`)
    .join('\n');
  const reasons = Object.entries(m.dead_letters_by_reason);
  const synthesizers = Object.entries(m.synthesizers);
  return `# ${p.name}: client report

Generated ${report.generated_at} by \`tep report\` for ${m.since.slice(0, 10)} – ${m.until.slice(0, 10)}
(runbook, Post-Onboarding: client profile, configuration summary, baseline metrics).
${report.no_traffic ? "\n> **No traffic yet:** this tenant sent no ticket in the period. The figures below are empty, not failures; send the runbook's test webhook (step 5.1) to get a first note.\n" : ''}
## Client profile

| | |
| --- | --- |
| Name | ${p.name} |
| Tenant id | \`${p.tenant_id}\` |
| Contact | ${p.contact ?? '–'} |
| Tier | ${p.tier} |
| Status | ${p.status} |
| ServiceDesk Plus | ${p.servicedesk_url} |
| Onboarded | ${p.onboarded_at ?? '–'} |
| Onboarding result | ${p.onboarding_result} |

## Configuration summary

| | |
| --- | --- |
| Webhook URL | ${c.webhook_url} |
| Webhook authentication | ${c.webhook_auth_scheme}${c.webhook_auth_weaker ? ' (WEAKER: anyone who sees one request can forge more)' : ''} |
| Rate limit | ${rateLimitOf(c.rate_limits)} requests a minute |

| Preference | Value |
| --- | --- |
${prefs || '| (defaults) | |'}

## Baseline metrics

| Figure | Value | Target |
| --- | --- | --- |
| Tickets | ${m.tickets} | |
| Notes posted | ${m.notes_posted} | |
| Skipped on purpose | ${m.skipped} | |
| Failed (dead letters) | ${m.failed} | 0 |
| Success rate | ${pct(m.success_rate)} ${mark(m.success_rate === null ? null : m.success_rate >= REPORT_TARGETS.success_rate)} | 100 % |
| Latency p50, receipt → note | ${num(m.latency_seconds.p50, ' s')} | |
| Latency p95, receipt → note | ${num(m.latency_seconds.p95, ' s')} ${mark(m.latency_seconds.p95 === null ? null : m.latency_seconds.p95 < REPORT_TARGETS.latency_p95_seconds)} | < ${REPORT_TARGETS.latency_p95_seconds} s |
| Synthesizer | ${synthesizers.map(([k, v]) => `${k}: ${v}`).join(', ') || '–'} | |
| LLM tokens (prompt / completion) | ${m.llm.prompt_tokens} / ${m.llm.completion_tokens} | |
| LLM cost (estimated at list prices) | $${m.llm.estimated_cost_usd.toFixed(4)} | |

Dead letters by reason: ${reasons.length ? reasons.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}.

![Tickets and notes per day](${images.volume})

## Technicians' feedback (runbook step 6.3)

| Figure | Value | Target |
| --- | --- | --- |
| Ratings | ${f.ratings} | |
| Rated helpful | ${pct(f.helpful_rate)} | |
| Relevant: yes | ${pct(f.relevance_yes_rate)} ${mark(f.relevance_yes_rate === null ? null : f.relevance_yes_rate >= REPORT_TARGETS.relevance_yes_rate)} | ≥ ${REPORT_TARGETS.relevance_yes_rate * 100} % |
| Average quality | ${num(f.average_quality)} ${mark(f.average_quality === null ? null : f.average_quality >= REPORT_TARGETS.average_quality)} | ≥ ${REPORT_TARGETS.average_quality} |
| Average accuracy | ${num(f.average_accuracy)} ${mark(f.average_accuracy === null ? null : f.average_accuracy >= REPORT_TARGETS.average_accuracy)} | ≥ ${REPORT_TARGETS.average_accuracy} |

${f.ratings === 0 ? 'No ratings yet: every note carries Helpful / Not helpful links.\n\n' : ''}![Notes rated helpful per day](${images.helpful})
`;
}
