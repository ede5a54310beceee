import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  DATABASE_SERVICES,
  baseServiceSchema,
  booleanFlag,
  loadConfig,
  requireSecureNats,
  resolveInsecureServiceDeskUrls,
  usesDatabase,
} from './index';

describe('loadConfig', () => {
  it('applies the platform defaults and freezes the result', () => {
    const config = loadConfig(baseServiceSchema('context-gatherer'), {});
    expect(config.PORT).toBe(8082);
    expect(config.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(config.DATABASE_URL).toBe('postgres://tep_app:tep_app@127.0.0.1:5432/ai_agents');
    expect(config.DATABASE_POOL_SIZE).toBe(10);
    expect(config.DATABASE_PREPARED_STATEMENTS).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('turns named prepared statements off for an old PgBouncer, and refuses a value it cannot read', () => {
    const schema = baseServiceSchema('servicedesk-poster');
    expect(
      loadConfig(schema, { DATABASE_PREPARED_STATEMENTS: 'false' }).DATABASE_PREPARED_STATEMENTS,
    ).toBe(false);
    expect(() => loadConfig(schema, { DATABASE_PREPARED_STATEMENTS: 'maybe' })).toThrow(
      /DATABASE_PREPARED_STATEMENTS/,
    );
  });

  it('gives the database variables only to the services that read tables', () => {
    expect(DATABASE_SERVICES.every(usesDatabase)).toBe(true);
    expect(usesDatabase('webhook-ingress')).toBe(false);
    for (const service of DATABASE_SERVICES) {
      expect(Object.keys(baseServiceSchema(service).shape)).toEqual(
        expect.arrayContaining(['DATABASE_URL', 'DATABASE_POOL_SIZE']),
      );
    }
    // The ingress neither requires nor validates them: set (even nonsense), they are dropped.
    const ingress = baseServiceSchema('webhook-ingress');
    expect(Object.keys(ingress.shape)).not.toContain('DATABASE_URL');
    expect(Object.keys(ingress.shape)).not.toContain('DATABASE_POOL_SIZE');
    const config = loadConfig(ingress, {
      DATABASE_URL: 'mysql://x@y/z',
      DATABASE_POOL_SIZE: 'lots',
    });
    expect(config.PORT).toBe(8080);
    expect(config).not.toHaveProperty('DATABASE_URL');
    expect(config).not.toHaveProperty('DATABASE_POOL_SIZE');
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

describe('<NAME>_FILE (Kubernetes secret volumes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tep-config-'));
  const secret = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('reads a variable from the file it names, without the trailing newline', () => {
    const config = loadConfig(baseServiceSchema('context-gatherer'), {
      DATABASE_URL_FILE: secret('db', 'postgres://tep_app:s3cret@db.internal:5432/ai_agents\n'),
    });
    expect(config.DATABASE_URL).toBe('postgres://tep_app:s3cret@db.internal:5432/ai_agents');
  });

  it('refuses the variable and its file together, and an unreadable file, naming them only', () => {
    const both = () =>
      loadConfig(baseServiceSchema('context-gatherer'), {
        DATABASE_URL: 'postgres://a@b/c',
        DATABASE_URL_FILE: secret('db2', 'postgres://x@y/z'),
      });
    expect(both).toThrow(ConfigError);
    expect(both).toThrow(/DATABASE_URL: set either DATABASE_URL or DATABASE_URL_FILE, not both/);
    const missing = () =>
      loadConfig(baseServiceSchema('context-gatherer'), {
        DATABASE_URL_FILE: join(dir, 'absent'),
      });
    expect(missing).toThrow(/DATABASE_URL_FILE: cannot read .*absent \(ENOENT\)/);
  });

  it("leaves other programs' *_FILE variables alone", () => {
    const config = loadConfig(baseServiceSchema('context-gatherer'), {
      TF_CLI_CONFIG_FILE: join(dir, 'does-not-exist'),
      SSL_CERT_FILE: join(dir, 'nor-this'),
    });
    expect(config.PORT).toBe(8082);
  });

  it('validates what the file holds like any value, never echoing it', () => {
    const bad = () =>
      loadConfig(baseServiceSchema('context-gatherer'), {
        DATABASE_URL_FILE: secret('db3', 'mysql://root:hunter2@db/x'),
      });
    expect(bad).toThrow(/DATABASE_URL/);
    expect(bad).not.toThrow(/hunter2/);
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

describe('NATS in production (requireSecureNats)', () => {
  const schema = baseServiceSchema('context-gatherer').superRefine(requireSecureNats);
  const production = { NODE_ENV: 'production' };

  it('refuses an unauthenticated NATS and one without TLS, naming the variables', () => {
    expect(() => loadConfig(schema, production)).toThrow(
      /NATS_USER: is required in production[\s\S]*NATS_URL: must use TLS/,
    );
    expect(() =>
      loadConfig(schema, { ...production, NATS_URL: 'tls://nats:4222', NATS_USER: 'x' }),
    ).toThrow(/NATS_PASSWORD: is required in production/);
    expect(() =>
      loadConfig(schema, {
        ...production,
        NATS_URL: 'tls://nats-0:4222,nats://nats-1:4222',
        NATS_USER: 'context-gatherer',
        NATS_PASSWORD: 'p',
      }),
    ).toThrow(/NATS_URL: must use TLS/);
  });

  it('accepts its own user over TLS (tls:// URLs or a CA file), and anything outside production', () => {
    const user = { NATS_USER: 'context-gatherer', NATS_PASSWORD: 'p' };
    expect(
      loadConfig(schema, { ...production, ...user, NATS_URL: 'tls://nats:4222' }).NATS_USER,
    ).toBe('context-gatherer');
    expect(
      loadConfig(schema, { ...production, ...user, NATS_TLS_CA_FILE: '/ca.pem' }).NATS_TLS_CA_FILE,
    ).toBe('/ca.pem');
    expect(loadConfig(schema, { NODE_ENV: 'development' }).NATS_USER).toBeUndefined();
  });
});
