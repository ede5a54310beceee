import {
  PLATFORM_DEFAULTS,
  baseServiceSchema,
  booleanFlag,
  encryptionKeySchema,
  loadConfig,
  postgresUrl,
  resolveCredentialKey,
  resolveInsecureServiceDeskUrls,
  requireSecureNats,
} from '@tep/config';
import { z } from 'zod';

/** Printed by `npm start`; refused when NODE_ENV=production. */
export const DEVELOPMENT_ADMIN_TOKEN = 'dev-admin-token-not-for-production';

export const registryConfigSchema = baseServiceSchema('tenant-registry')
  .extend({
    // The registry connects as its own role: it alone may list all tenants.
    DATABASE_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseRegistryUrl),
    /** Encrypts webhook secrets (the ingress holds the same key to verify signatures). */
    TENANT_ENCRYPTION_KEY: encryptionKeySchema,
    /** Encrypts SDP credentials: the poster's key, never the ingress's. */
    SERVICEDESK_CREDENTIAL_KEY: encryptionKeySchema.optional(),
    /** Comma-separated bearer tokens for the admin API. */
    ADMIN_TOKENS: z.string().optional(),
    /** Base URL SDP will call, used to build each tenant's webhook URL. */
    PUBLIC_WEBHOOK_BASE_URL: z.string().url().default('http://127.0.0.1:8080'),
    /** gRPC transport of the admin API (0 disables it). */
    GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50051),
    /** How long a rotated-out webhook secret keeps working (default one day). */
    WEBHOOK_SECRET_GRACE_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .default(86_400),
    /** Development only: allow http:// and loopback ServiceDesk URLs. */
    ALLOW_INSECURE_SERVICEDESK_URLS: booleanFlag.optional(),
  })
  .transform((env, ctx) => {
    requireSecureNats(env, ctx);
    const production = env.NODE_ENV === 'production';
    const tokens = (env.ADMIN_TOKENS ?? (production ? '' : DEVELOPMENT_ADMIN_TOKEN))
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (tokens.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKENS'],
        message: 'is required in production',
      });
    }
    const secrets = tokens.map((t) => (t.indexOf('=') > 0 ? t.slice(t.indexOf('=') + 1) : t));
    if (production && secrets.some((t) => t.length < 32 || t === DEVELOPMENT_ADMIN_TOKEN)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKENS'],
        message: 'each token must be 32+ characters and not the development token',
      });
    }
    // The audit log names who did what: in production every token says whose it is.
    if (production && tokens.some((t) => !(t.indexOf('=') > 0))) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKENS'],
        message: 'each token must be named in production (name=token, e.g. ops-alice=<token>)',
      });
    }
    // The secrets template's placeholder is long enough to pass the length check.
    if (production && secrets.some((t) => t.includes(SECRETS_TEMPLATE_PLACEHOLDER))) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKENS'],
        message: `still holds the secrets template's ${SECRETS_TEMPLATE_PLACEHOLDER} placeholder: generate each token (openssl rand -hex 32)`,
      });
    }
    const allowInsecure = resolveInsecureServiceDeskUrls(env, ctx);
    return {
      ...env,
      ADMIN_TOKENS: tokens,
      SERVICEDESK_CREDENTIAL_KEY: resolveCredentialKey(env, ctx),
      ALLOW_INSECURE_SERVICEDESK_URLS: allowInsecure,
    };
  });

export type RegistryConfig = ReturnType<typeof loadRegistryConfig>;

/** What every value in deploy/k8s/secrets/tep-secrets.template.yaml starts as. */
export const SECRETS_TEMPLATE_PLACEHOLDER = 'REPLACE_ME';

export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(registryConfigSchema, env);
}
