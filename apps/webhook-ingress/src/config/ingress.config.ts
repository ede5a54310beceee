import {
  baseServiceSchema,
  encryptionKeySchema,
  loadConfig,
  requireSecureNats,
  resolveFeedbackTokenKey,
} from '@tep/config';
import { z } from 'zod';

/**
 * No DATABASE_URL nor DATABASE_POOL_SIZE (@tep/config gives them only to
 * DATABASE_SERVICES): the ingress reads no table, so it needs neither and
 * ignores them when set (the shared tooling sets them for every service).
 */
export const INGRESS_IGNORED_VARIABLES = ['DATABASE_URL'] as const;

export const ingressConfigSchema = baseServiceSchema('webhook-ingress')
  .extend({
    TENANT_ENCRYPTION_KEY: encryptionKeySchema,
    /** Documented cap: SDP descriptions can be long, 256 KiB is plenty. */
    WEBHOOK_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(256 * 1024),
    /** Slow clients are cut off: headers must arrive within this, the whole request within the next. */
    WEBHOOK_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(500).max(60_000).default(10_000),
    WEBHOOK_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(15_000),
    /** How long the ingress waits for JetStream to store a job. */
    PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5_000),
    /** Verifies the notes' feedback links (the poster signs them); see @tep/config. */
    FEEDBACK_TOKEN_KEY: z.string().optional(),
  })
  .transform((env, ctx) => {
    requireSecureNats(env, ctx);
    return { ...env, FEEDBACK_TOKEN_KEY: resolveFeedbackTokenKey(env, ctx) };
  });

export type IngressConfig = ReturnType<typeof loadIngressConfig>;

export function loadIngressConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(ingressConfigSchema, env);
}
