import {
  baseServiceSchema,
  booleanFlag,
  encryptionKeySchema,
  loadConfig,
  workerConcurrency,
  resolveInsecureServiceDeskUrls,
} from '@tep/config';
import { z } from 'zod';

export const posterConfigSchema = baseServiceSchema('servicedesk-poster')
  .extend({
    WORKER_CONCURRENCY: workerConcurrency,
    TENANT_ENCRYPTION_KEY: encryptionKeySchema,
    /** Per attempt to ServiceDesk Plus (≤ 30 s, REFERENCES "SSRF"). */
    SDP_TIMEOUT_MS: z.coerce.number().int().min(500).max(30_000).default(10_000),
    /** Development only: allow http:// and loopback ServiceDesk URLs (the simulator). */
    ALLOW_INSECURE_SERVICEDESK_URLS: booleanFlag.optional(),
  })
  .transform((env, ctx) => {
    const allowInsecure = resolveInsecureServiceDeskUrls(env, ctx);
    return { ...env, ALLOW_INSECURE_SERVICEDESK_URLS: allowInsecure };
  });

export type PosterConfig = ReturnType<typeof loadPosterConfig>;

export function loadPosterConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(posterConfigSchema, env);
}
