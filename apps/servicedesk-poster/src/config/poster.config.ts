import {
  PLATFORM_DEFAULTS,
  baseServiceSchema,
  booleanFlag,
  encryptionKeySchema,
  loadConfig,
  postgresUrl,
  workerConcurrency,
  resolveCredentialKey,
  resolveInsecureServiceDeskUrls,
  requireSecureNats,
  resolveFeedbackTokenKey,
  publicBaseUrl,
} from '@tep/config';
import { z } from 'zod';

export const posterConfigSchema = baseServiceSchema('servicedesk-poster')
  .extend({
    // Its own role: it alone (with the registry) may read the SDP credential column.
    DATABASE_URL: postgresUrl.default(PLATFORM_DEFAULTS.databasePosterUrl),
    WORKER_CONCURRENCY: workerConcurrency,
    /** Decrypts the tenants' SDP credentials and the shared Zoho tokens. */
    SERVICEDESK_CREDENTIAL_KEY: encryptionKeySchema.optional(),
    /** Outside production only: the credential key when SERVICEDESK_CREDENTIAL_KEY is unset. */
    TENANT_ENCRYPTION_KEY: encryptionKeySchema.optional(),
    /** Per attempt to ServiceDesk Plus (≤ 30 s, REFERENCES "SSRF"). */
    SDP_TIMEOUT_MS: z.coerce.number().int().min(500).max(30_000).default(10_000),
    /** Development only: allow http:// and loopback ServiceDesk URLs (the simulator). */
    ALLOW_INSECURE_SERVICEDESK_URLS: booleanFlag.optional(),
    /** Signs each note's feedback links (the ingress verifies them). */
    FEEDBACK_TOKEN_KEY: z.string().optional(),
    /** Where the ingress is public: the feedback links point there. */
    PUBLIC_WEBHOOK_BASE_URL: publicBaseUrl,
  })
  .transform((env, ctx) => {
    requireSecureNats(env, ctx);
    const allowInsecure = resolveInsecureServiceDeskUrls(env, ctx);
    const credentialKey = resolveCredentialKey(env, ctx);
    // The poster never needs the webhook-secret key: it is not passed on.
    const rest: Partial<typeof env> = { ...env };
    delete rest.TENANT_ENCRYPTION_KEY;
    return {
      ...(rest as Omit<typeof env, 'TENANT_ENCRYPTION_KEY'>),
      SERVICEDESK_CREDENTIAL_KEY: credentialKey,
      ALLOW_INSECURE_SERVICEDESK_URLS: allowInsecure,
      FEEDBACK_TOKEN_KEY: resolveFeedbackTokenKey(env, ctx),
    };
  });

export type PosterConfig = ReturnType<typeof loadPosterConfig>;

export function loadPosterConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(posterConfigSchema, env);
}
