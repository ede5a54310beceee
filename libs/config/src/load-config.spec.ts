import { z } from 'zod';
import {
  ConfigError,
  baseServiceSchema,
  booleanFlag,
  loadConfig,
  resolveInsecureServiceDeskUrls,
} from './index';

describe('loadConfig', () => {
  it('applies the platform defaults and freezes the result', () => {
    const config = loadConfig(baseServiceSchema('webhook-ingress'), {});
    expect(config.PORT).toBe(8080);
    expect(config.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(config.DATABASE_URL).toBe('postgres://tep_app:tep_app@127.0.0.1:5432/ai_agents');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad variable and never echoes its value', () => {
    const schema = baseServiceSchema('tenant-registry').extend({ ADMIN_TOKEN: z.string().min(32) });
    let error: unknown;
    try {
      loadConfig(schema, { PORT: 'eighty', ADMIN_TOKEN: 'short-secret-value' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT');
    expect(message).toContain('ADMIN_TOKEN');
    expect(message).not.toContain('short-secret-value');
    expect((error as ConfigError).problems).toHaveLength(2);
  });

  it('rejects a DATABASE_URL that is not postgres', () => {
    expect(() =>
      loadConfig(baseServiceSchema('context-gatherer'), { DATABASE_URL: 'mysql://x@y/z' }),
    ).toThrow(/DATABASE_URL/);
  });
});

describe('ALLOW_INSECURE_SERVICEDESK_URLS', () => {
  const schema = z
    .object({ NODE_ENV: z.string(), ALLOW_INSECURE_SERVICEDESK_URLS: booleanFlag.optional() })
    .transform((env, ctx) => resolveInsecureServiceDeskUrls(env, ctx));

  it('is on by default outside production and off in production', () => {
    expect(loadConfig(schema, { NODE_ENV: 'development' })).toBe(true);
    expect(
      loadConfig(schema, { NODE_ENV: 'development', ALLOW_INSECURE_SERVICEDESK_URLS: 'false' }),
    ).toBe(false);
    expect(loadConfig(schema, { NODE_ENV: 'production' })).toBe(false);
  });

  it('is refused in production, naming the variable', () => {
    expect(() =>
      loadConfig(schema, { NODE_ENV: 'production', ALLOW_INSECURE_SERVICEDESK_URLS: 'true' }),
    ).toThrow(/ALLOW_INSECURE_SERVICEDESK_URLS: must not be enabled in production/);
  });
});
