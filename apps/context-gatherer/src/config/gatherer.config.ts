import { baseServiceSchema, loadConfig, requireSecureNats, workerConcurrency } from '@tep/config';
import { z } from 'zod';

export const gathererConfigSchema = baseServiceSchema('context-gatherer')
  .extend({
    WORKER_CONCURRENCY: workerConcurrency,
    /** Per context source; a slower source degrades to "no context from X". */
    CONTEXT_SOURCE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(3_000),
  })
  .superRefine(requireSecureNats);

export type GathererConfig = ReturnType<typeof loadGathererConfig>;

export function loadGathererConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(gathererConfigSchema, env);
}
