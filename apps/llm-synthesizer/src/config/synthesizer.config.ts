import { baseServiceSchema, loadConfig, requireSecureNats, workerConcurrency } from '@tep/config';
import { z } from 'zod';

export const synthesizerConfigSchema = baseServiceSchema('llm-synthesizer')
  .extend({
    WORKER_CONCURRENCY: workerConcurrency,
    /**
     * OpenAI-compatible endpoint (OpenAI, OpenRouter, Ollama, vLLM, LM Studio).
     * Unset: the offline synthesizer builds enhancements from context alone.
     */
    LLM_BASE_URL: z.string().url().optional(),
    LLM_API_KEY: z.string().min(1).optional(),
    /** Used when a tenant has no llm_model preference. */
    LLM_DEFAULT_MODEL: z.string().min(1).default('openai/gpt-4o-mini'),
    /** For llm_cost_usd_total: US dollars per million tokens (defaults: gpt-4o-mini list prices). */
    LLM_PRICE_PROMPT_PER_MTOK_USD: z.coerce.number().min(0).default(0.15),
    LLM_PRICE_COMPLETION_PER_MTOK_USD: z.coerce.number().min(0).default(0.6),
    LLM_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
  })
  .superRefine(requireSecureNats);

export type SynthesizerConfig = ReturnType<typeof loadSynthesizerConfig>;

export function loadSynthesizerConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(synthesizerConfigSchema, env);
}
