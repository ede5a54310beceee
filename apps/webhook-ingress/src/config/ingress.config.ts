import { baseServiceSchema, encryptionKeySchema, loadConfig } from '@tep/config';
import { z } from 'zod';

export const ingressConfigSchema = baseServiceSchema('webhook-ingress').extend({
  TENANT_ENCRYPTION_KEY: encryptionKeySchema,
  /** Documented cap: SDP descriptions can be long, 256 KiB is plenty. */
  WEBHOOK_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(256 * 1024),
  /** How long the ingress waits for JetStream to store a job. */
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5_000),
});

export type IngressConfig = ReturnType<typeof loadIngressConfig>;

export function loadIngressConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(ingressConfigSchema, env);
}
