import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadRegistryConfig } from './registry.config';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://tep_registry:secret@db:5432/ai_agents',
  TENANT_ENCRYPTION_KEY: 'x'.repeat(43) + '=',
  NATS_URL: 'nats://nats:4222',
};

describe('registry configuration in production', () => {
  it("refuses the secrets template's placeholder admin token, naming the variable", () => {
    const template = parseYaml(
      readFileSync(
        join(__dirname, '../../../../deploy/k8s/secrets/tep-secrets.template.yaml'),
        'utf8',
      ),
    ) as { stringData: Record<string, string> };
    const placeholder = template.stringData['ADMIN_TOKENS'];
    expect(placeholder.length).toBeGreaterThanOrEqual(32);
    expect(() => loadRegistryConfig({ ...production, ADMIN_TOKENS: placeholder })).toThrow(
      /ADMIN_TOKENS.*placeholder/s,
    );
  });

  it('requires every token to be named, so the audit log says whose it was', () => {
    expect(() => loadRegistryConfig({ ...production, ADMIN_TOKENS: 'a1'.repeat(32) })).toThrow(
      /ADMIN_TOKENS.*named/s,
    );
  });

  it('accepts generated tokens', () => {
    const config = loadRegistryConfig({ ...production, ADMIN_TOKENS: `ops=${'a1'.repeat(32)}` });
    expect(config.ADMIN_TOKENS).toEqual([`ops=${'a1'.repeat(32)}`]);
  });
});
