/**
 * `tep report <tenant_id> [--since 7d] [--out DIR] [--json]`: writes the
 * runbook's post-onboarding documents for one client into DIR —
 * `<tenant>-report.md`, `<tenant>-report.json` and the two charts as SVG.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandContext, CommandOutcome } from '../context';
import { withPg } from '../db';
import { CheckFailedError, ExitCode, UsageError } from '../errors';
import { RegistryClient } from '../registry-client';
import { REPORT_TARGETS, baselineMetrics, profileOf, type ClientReport } from '../report';
import { renderCharts, renderMarkdown } from '../report-document';

/** `7d`, `24h`, `30d`: the report's period, ending now. */
export function parsePeriod(value: string): number {
  const m = /^(\d{1,4})([dh])$/.exec(value.trim());
  if (!m || Number(m[1]) === 0)
    throw new UsageError(`--since must look like 7d or 24h, not "${value}"`);
  return Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000);
}

export async function reportCommand(
  tenantId: string,
  options: { since?: string; out?: string },
  ctx: CommandContext,
): Promise<CommandOutcome> {
  const { config, out } = ctx;
  const until = new Date();
  const since = new Date(until.getTime() - parsePeriod(options.since ?? '7d'));
  const registry = new RegistryClient(config.registryUrl, config.adminToken);
  const tenant = await registry.getTenant(tenantId);
  if (!tenant) throw new CheckFailedError(`No tenant ${tenantId} in the registry`);
  const metrics = await withPg(config.databaseUrl, (client) =>
    baselineMetrics(client, tenant.tenant_id, since, until),
  );
  const summary = await registry.feedbackSummary(tenant.tenant_id, since.toISOString());
  const report: ClientReport = {
    generated_at: until.toISOString(),
    ...profileOf(tenant),
    metrics,
    feedback: {
      ratings: summary.ratings,
      helpful: summary.helpful,
      not_helpful: summary.not_helpful,
      helpful_rate: summary.helpful_rate,
      relevance_yes_rate: summary.relevance_yes_rate,
      average_quality: summary.average_quality,
      average_accuracy: summary.average_accuracy,
    },
    targets: REPORT_TARGETS,
    no_traffic: metrics.jobs === 0,
  };
  const dir = resolve(ctx.cwd, options.out ?? '.');
  mkdirSync(dir, { recursive: true });
  const base = `${tenant.tenant_id}-report`;
  const images = { volume: `${base}-volume.svg`, helpful: `${base}-helpful-rate.svg` };
  const charts = await renderCharts(report);
  writeFileSync(join(dir, images.volume), charts.volume);
  writeFileSync(join(dir, images.helpful), charts.helpful);
  writeFileSync(join(dir, `${base}.md`), renderMarkdown(report, images));
  writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const files = [`${base}.md`, `${base}.json`, images.volume, images.helpful].map((f) =>
    join(dir, f),
  );
  if (report.no_traffic)
    out.warn(`${tenant.name} sent no ticket in the period: the report says so`);
  out.print(
    `Report for ${tenant.name} (${since.toISOString().slice(0, 10)} – ${until.toISOString().slice(0, 10)}):`,
  );
  for (const file of files) out.print(`  ${file}`);
  return { exitCode: ExitCode.Ok, json: { files, report } };
}
