/**
 * The metric names and labels the dashboard and rules are checked against
 * (promql.ts) are the ones the services define: read from the prom-client
 * constructors in apps/ and libs/, so a renamed metric fails here rather
 * than as an empty panel in production.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './deploy-files';
import { PLATFORM_METRICS } from './promql';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(path);
    return /(?<!\.spec|\.integration-spec)\.ts$/.test(e.name) ? [path] : [];
  });
}

interface Defined {
  type: string;
  labels: string[];
}

function definedMetrics(): Map<string, Defined> {
  const defined = new Map<string, Defined>();
  const constructor =
    /new (Counter|Gauge|Histogram)\(\{\s*name: '([a-z_:]+)',[^}]*?labelNames: \[([^\]]*)\]/g;
  for (const file of [...sources(join(REPO_ROOT, 'apps')), ...sources(join(REPO_ROOT, 'libs'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(constructor)) {
      defined.set(m[2], {
        type: m[1].toLowerCase(),
        labels: [...m[3].matchAll(/'([a-z_]+)'/g)].map((l) => l[1]),
      });
    }
  }
  return defined;
}

describe('the metric catalogue of the deploy checks', () => {
  const defined = definedMetrics();
  const ours = Object.entries(PLATFORM_METRICS).filter(
    ([name]) => name !== 'up' && name !== 'process_resident_memory_bytes',
  );

  it('finds the services’ prom-client metrics in the sources', () => {
    expect(defined.size).toBeGreaterThanOrEqual(ours.length);
  });

  it.each(ours)('%s is defined by a service with that type and those labels', (name, expected) => {
    expect(defined.get(name)).toEqual({ type: expected.type, labels: [...expected.labels] });
  });
});
