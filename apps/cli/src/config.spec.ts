import { DEV_ADMIN_TOKEN, parseServiceUrls, resolveConfig } from './config';
import { UsageError } from './errors';

describe('configuration', () => {
  it('defaults to the platform on this machine with the development token', () => {
    const config = resolveConfig({}, {});
    expect(config).toMatchObject({
      registryUrl: 'http://127.0.0.1:8081',
      ingressUrl: 'http://127.0.0.1:8080',
      adminToken: DEV_ADMIN_TOKEN,
      databaseUrl: 'postgres://tep_app:tep_app@127.0.0.1:5432/ai_agents',
      natsUrl: 'nats://127.0.0.1:4222',
      natsNamespace: '',
      production: false,
      allowInsecureServiceDeskUrls: true,
    });
    expect(config.encryptionKey).toBeUndefined();
    expect(config.serviceUrls).toEqual({
      'webhook-ingress': 'http://127.0.0.1:8080',
      'tenant-registry': 'http://127.0.0.1:8081',
      'context-gatherer': 'http://127.0.0.1:8082',
      'llm-synthesizer': 'http://127.0.0.1:8083',
      'servicedesk-poster': 'http://127.0.0.1:8084',
    });
  });

  it('takes the environment, and flags over the environment', () => {
    const env = {
      TEP_REGISTRY_URL: 'http://registry:9000/',
      TEP_ADMIN_TOKEN: 'env-token',
      TEP_SERVICE_URLS: 'context-gatherer=http://gatherer:1, llm-synthesizer=http://synth:2',
      NATS_NAMESPACE: 'staging',
      TENANT_ENCRYPTION_KEY: 'k',
    };
    const config = resolveConfig(
      { adminToken: 'flag-token', serviceUrl: ['llm-synthesizer=http://flag-synth:3'] },
      env,
    );
    expect(config.registryUrl).toBe('http://registry:9000');
    expect(config.adminToken).toBe('flag-token');
    expect(config.natsNamespace).toBe('staging');
    expect(config.encryptionKey).toBe('k');
    expect(config.serviceUrls).toMatchObject({
      'tenant-registry': 'http://registry:9000',
      'context-gatherer': 'http://gatherer:1',
      'llm-synthesizer': 'http://flag-synth:3',
    });
  });

  it('refuses the development token and a missing token in production', () => {
    expect(() => resolveConfig({}, { NODE_ENV: 'production' })).toThrow(UsageError);
    expect(() =>
      resolveConfig({}, { NODE_ENV: 'production', TEP_ADMIN_TOKEN: DEV_ADMIN_TOKEN }),
    ).toThrow(/TEP_ADMIN_TOKEN is required in production/);
    const config = resolveConfig({}, { NODE_ENV: 'production', TEP_ADMIN_TOKEN: 'x'.repeat(40) });
    expect(config.allowInsecureServiceDeskUrls).toBe(false);
  });

  it('names the setting when a value is malformed', () => {
    expect(() => resolveConfig({ registryUrl: 'ftp://x' }, {})).toThrow(
      /TEP_REGISTRY_URL must be an http\(s\) URL/,
    );
    expect(() => resolveConfig({}, { DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => resolveConfig({}, { NATS_NAMESPACE: 'a.b' })).toThrow(/NATS_NAMESPACE/);
    expect(() => parseServiceUrls(['just-a-name'])).toThrow(/name=http/);
  });
});
