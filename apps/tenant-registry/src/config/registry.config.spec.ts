import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadRegistryConfig } from './registry.config';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://tep_registry:secret@db:5432/ai_agents',
  TENANT_ENCRYPTION_KEY: 'x'.repeat(43) + '=',
  SERVICEDESK_CREDENTIAL_KEY: 'y'.repeat(43) + '=',
  NATS_URL: 'tls://nats:4222',
  NATS_USER: 'tenant-registry',
  NATS_PASSWORD: 'n'.repeat(32),
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

  it('requires an SDP credential key of its own, sharing no key with the webhook-secret key', () => {
    const tokens = { ADMIN_TOKENS: `ops=${'a1'.repeat(32)}` };
    expect(() =>
      loadRegistryConfig({ ...production, ...tokens, SERVICEDESK_CREDENTIAL_KEY: undefined }),
    ).toThrow(/SERVICEDESK_CREDENTIAL_KEY.*required in production/s);
    expect(() =>
      loadRegistryConfig({
        ...production,
        ...tokens,
        SERVICEDESK_CREDENTIAL_KEY: `${'z'.repeat(43)}=,${production.TENANT_ENCRYPTION_KEY}`,
      }),
    ).toThrow(/SERVICEDESK_CREDENTIAL_KEY.*share no key/s);
    // Outside production one key may serve both (npm start).
    const development = loadRegistryConfig({
      DATABASE_URL: production.DATABASE_URL,
      TENANT_ENCRYPTION_KEY: production.TENANT_ENCRYPTION_KEY,
    });
    expect(development.SERVICEDESK_CREDENTIAL_KEY).toBe(production.TENANT_ENCRYPTION_KEY);
  });

  it('accepts generated tokens', () => {
    const config = loadRegistryConfig({ ...production, ADMIN_TOKENS: `ops=${'a1'.repeat(32)}` });
    expect(config.ADMIN_TOKENS).toEqual([`ops=${'a1'.repeat(32)}`]);
  });
});
