import { z } from 'zod';

/** Defaults the whole platform relies on (README "Configuration"). */
export const PLATFORM_DEFAULTS = {
  databaseUrl: 'postgres://tep_app:tep_app@127.0.0.1:5432/ai_agents',
  databaseRegistryUrl: 'postgres://tep_registry:tep_registry@127.0.0.1:5432/ai_agents',
  /** The poster's role: the application role plus the SDP credential column. */
  databasePosterUrl: 'postgres://tep_poster:tep_poster@127.0.0.1:5432/ai_agents',
  databaseOwnerUrl: 'postgres://tep_owner:tep_owner@127.0.0.1:5432/ai_agents',
  databaseAdminUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: 'nats://127.0.0.1:4222',
  ports: {
    'webhook-ingress': 8080,
    'tenant-registry': 8081,
    'context-gatherer': 8082,
    'llm-synthesizer': 8083,
    'servicedesk-poster': 8084,
  },
} as const;

export type ServiceName = keyof typeof PLATFORM_DEFAULTS.ports;

export const postgresUrl = z
  .string()
  .url()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL');

const natsUrl = z
  .string()
  .refine(
    (v) => v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/[^\s]+$/.test(u.trim())),
    'must be one or more comma-separated nats:// URLs',
  );

/** `true`/`false`/`1`/`0` as environment variables spell them. */
export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * The services that read tables, and so get DATABASE_URL and
 * DATABASE_POOL_SIZE. The ingress is not one: its tenant directory is a NATS
 * KV bucket, so it starts, serves and reports ready with PostgreSQL down.
 */
export const DATABASE_SERVICES = [
  'tenant-registry',
  'context-gatherer',
  'llm-synthesizer',
  'servicedesk-poster',
] as const satisfies readonly ServiceName[];

export type DatabaseServiceName = (typeof DATABASE_SERVICES)[number];

export function usesDatabase(service: ServiceName): service is DatabaseServiceName {
  return (DATABASE_SERVICES as readonly ServiceName[]).includes(service);
}

function platformShape(service: ServiceName) {
  return {
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    /** `pretty`: readable, coloured lines for a terminal (`npm start`); JSON everywhere else. */
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
    PORT: z.coerce.number().int().min(0).max(65535).default(PLATFORM_DEFAULTS.ports[service]),
    HOST: z.string().min(1).default('127.0.0.1'),
    NATS_URL: natsUrl.default(PLATFORM_DEFAULTS.natsUrl),
    /** Prefix for streams, subjects and buckets; empty in production. */
    NATS_NAMESPACE: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, 'may only contain letters, digits, _ and -')
      .default(''),
    /** JetStream replicas for the platform's streams (3 in a cluster). */
    NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
    /** This service's NATS user and password (deploy/k8s/base/nats/auth.conf); required in production. */
    NATS_USER: z.string().min(1).optional(),
    NATS_PASSWORD: z.string().min(1).optional(),
    /** PEM file of the CA that signed the NATS servers' certificates. */
    NATS_TLS_CA_FILE: z.string().min(1).optional(),
  };
}

/** PostgreSQL, for the services in DATABASE_SERVICES only. */
export const databaseShape = {
  DATABASE_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseUrl),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /**
   * Named (server-side) prepared statements: each statement is parsed and
   * planned once per connection instead of on every call. Needs a direct
   * connection or PgBouncer 1.21+ with max_prepared_statements (deploy/);
   * `false` behind an older PgBouncer in transaction mode.
   */
  DATABASE_PREPARED_STATEMENTS: booleanFlag.default(true),
};

type PlatformShape = ReturnType<typeof platformShape>;

/**
 * The variables every service reads, plus the database's for the services
 * that have one (DATABASE_SERVICES). Extend it with `.extend({...})`.
 */
export function baseServiceSchema(
  service: DatabaseServiceName,
): z.ZodObject<PlatformShape & typeof databaseShape>;
export function baseServiceSchema(service: ServiceName): z.ZodObject<PlatformShape>;
export function baseServiceSchema(service: ServiceName) {
  return usesDatabase(service)
    ? z.object({ ...platformShape(service), ...databaseShape })
    : z.object(platformShape(service));
}

/** Messages one worker replica processes at once. */
export const workerConcurrency = z.coerce.number().int().min(1).max(64).default(4);

/** TENANT_ENCRYPTION_KEY: comma-separated Fernet keys, first one encrypts. */
export const encryptionKeySchema = z.string().min(1, 'is required (comma-separated Fernet keys)');

/**
 * SERVICEDESK_CREDENTIAL_KEY: the Fernet keys (comma-separated, the first
 * encrypts) for ServiceDesk credentials and the shared Zoho access tokens,
 * held only by the registry, the poster and the operators' tools — not by
 * the internet-facing ingress, whose TENANT_ENCRYPTION_KEY covers webhook
 * secrets only. Required in production and sharing no key with
 * TENANT_ENCRYPTION_KEY; elsewhere it defaults to TENANT_ENCRYPTION_KEY
 * (`npm start` runs one key for both).
 */
export function resolveCredentialKey(
  env: { NODE_ENV: string; SERVICEDESK_CREDENTIAL_KEY?: string; TENANT_ENCRYPTION_KEY?: string },
  ctx: z.RefinementCtx,
): string {
  const keysOf = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
  const credential = keysOf(env.SERVICEDESK_CREDENTIAL_KEY);
  if (env.NODE_ENV === 'production') {
    if (credential.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['SERVICEDESK_CREDENTIAL_KEY'],
        message:
          'is required in production (comma-separated Fernet keys, its own, not TENANT_ENCRYPTION_KEY)',
      });
    } else if (keysOf(env.TENANT_ENCRYPTION_KEY).some((k) => credential.includes(k))) {
      ctx.addIssue({
        code: 'custom',
        path: ['SERVICEDESK_CREDENTIAL_KEY'],
        message: "must share no key with TENANT_ENCRYPTION_KEY (that key is the ingress's)",
      });
    }
    return credential.join(',');
  }
  if (credential.length > 0) return credential.join(',');
  if (env.TENANT_ENCRYPTION_KEY) return env.TENANT_ENCRYPTION_KEY;
  ctx.addIssue({
    code: 'custom',
    path: ['SERVICEDESK_CREDENTIAL_KEY'],
    message: 'is required (or, outside production, TENANT_ENCRYPTION_KEY)',
  });
  return '';
}

/** Outside production, the key `npm start`, tests and tools share when FEEDBACK_TOKEN_KEY is unset. */
export const DEVELOPMENT_FEEDBACK_TOKEN_KEY = 'development-feedback-token-key-not-for-production';

/**
 * FEEDBACK_TOKEN_KEY: comma-separated keys (32+ characters each, the first
 * signs) for the notes' feedback links, held by the poster (signs) and the
 * ingress (verifies). Required in production, where the development key is
 * refused.
 */
export function resolveFeedbackTokenKey(
  env: { NODE_ENV: string; FEEDBACK_TOKEN_KEY?: string },
  ctx: z.RefinementCtx,
): string {
  const keys = (env.FEEDBACK_TOKEN_KEY ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const production = env.NODE_ENV === 'production';
  if (keys.length === 0 && !production) return DEVELOPMENT_FEEDBACK_TOKEN_KEY;
  if (
    keys.length === 0 ||
    (production &&
      keys.some((k) => k === DEVELOPMENT_FEEDBACK_TOKEN_KEY || k.includes('REPLACE_ME')))
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['FEEDBACK_TOKEN_KEY'],
      message:
        'is required in production (comma-separated keys of 32+ characters: openssl rand -hex 32)',
    });
  } else if (keys.some((k) => k.length < 32)) {
    ctx.addIssue({
      code: 'custom',
      path: ['FEEDBACK_TOKEN_KEY'],
      message: 'each key needs 32+ characters',
    });
  }
  return keys.join(',');
}

/** The public base URL of the ingress: tenants' webhook URLs and the notes' feedback links. */
export const publicBaseUrl = z.string().url().default('http://127.0.0.1:8080');

/**
 * Production refuses a NATS connection that is not authenticated as the
 * service's own user (NATS_USER, NATS_PASSWORD) or not over TLS (`tls://`
 * URLs or NATS_TLS_CA_FILE): the production NATS configuration gives each
 * service user only its own subjects (deploy/k8s/base/nats/auth.conf).
 * `npm start` keeps an unauthenticated server on loopback.
 */
export function requireSecureNats(
  env: {
    NODE_ENV: string;
    NATS_URL: string;
    NATS_USER?: string;
    NATS_PASSWORD?: string;
    NATS_TLS_CA_FILE?: string;
  },
  ctx: z.RefinementCtx,
): void {
  if (env.NODE_ENV !== 'production') return;
  if (!env.NATS_USER || !env.NATS_PASSWORD) {
    ctx.addIssue({
      code: 'custom',
      path: [env.NATS_USER ? 'NATS_PASSWORD' : 'NATS_USER'],
      message:
        'is required in production: each service connects as its own NATS user (deploy/k8s/base/nats/auth.conf), never unauthenticated',
    });
  }
  const tls = env.NATS_URL.split(',').every((u) => /^(tls|wss):\/\//i.test(u.trim()));
  if (!tls && !env.NATS_TLS_CA_FILE) {
    ctx.addIssue({
      code: 'custom',
      path: ['NATS_URL'],
      message: 'must use TLS in production (tls:// URLs, or NATS_TLS_CA_FILE for a private CA)',
    });
  }
}

/**
 * ALLOW_INSECURE_SERVICEDESK_URLS, the named development setting that lets
 * tenants use http:// and loopback SDP URLs (the simulator): on by default
 * outside production, refused in production.
 */
export function resolveInsecureServiceDeskUrls(
  env: { NODE_ENV: string; ALLOW_INSECURE_SERVICEDESK_URLS?: boolean },
  ctx: z.RefinementCtx,
): boolean {
  const production = env.NODE_ENV === 'production';
  const allowInsecure = env.ALLOW_INSECURE_SERVICEDESK_URLS ?? !production;
  if (production && allowInsecure) {
    ctx.addIssue({
      code: 'custom',
      path: ['ALLOW_INSECURE_SERVICEDESK_URLS'],
      message: 'must not be enabled in production',
    });
  }
  return allowInsecure;
}
