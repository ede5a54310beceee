import { EnhancementSchema, type Enhancement } from '@tep/contracts';
import { OfflineSynthesizer } from './offline-synthesizer';
import { OpenAiCompatibleProvider } from './openai-compatible-provider';
import { truncate } from './prompt';
import type { EnhancementProvider, SynthesisInput } from './provider';
import { SynthesisError } from './synthesis-error';

const MAX_REASON_CHARS = 500;

export interface ResilientSynthesizerOptions {
  /** The configured model; without one every ticket is answered offline. */
  primary?: EnhancementProvider | null;
  offline?: OfflineSynthesizer;
  /** Observes each fallback, e.g. to log the underlying error and count fallbacks. */
  onFallback?: (error: unknown, reason: string) => void;
}

/** A note-ready sentence on why the model did not answer; never the raw upstream text. */
export function describeFailure(error: unknown): string {
  if (error instanceof SynthesisError) {
    switch (error.kind) {
      case 'unavailable':
      case 'timeout':
        return `LLM provider unavailable: ${error.message}`;
      case 'rate_limited':
        return `LLM provider rate limit reached: ${error.message}`;
      case 'auth':
        return `LLM provider authentication failed: ${error.message}`;
      case 'invalid_output':
        return `LLM returned unusable output: ${error.message}`;
      case 'bad_request':
        return `LLM provider rejected the request: ${error.message}`;
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return `LLM provider failed: ${message}`;
}

/**
 * What the service uses: the configured model when there is one, else (or
 * when it fails) the offline synthesizer, so every ticket gets a note. Only
 * the caller's abort propagates.
 */
export class ResilientSynthesizer implements EnhancementProvider {
  readonly name: string;
  private readonly primary: EnhancementProvider | null;
  private readonly offline: OfflineSynthesizer;
  private readonly onFallback?: (error: unknown, reason: string) => void;

  constructor(options: ResilientSynthesizerOptions = {}) {
    this.primary = options.primary ?? null;
    this.offline = options.offline ?? new OfflineSynthesizer();
    this.onFallback = options.onFallback;
    this.name = this.primary ? `${this.primary.name}+offline` : this.offline.name;
  }

  async synthesize(input: SynthesisInput, signal?: AbortSignal): Promise<Enhancement> {
    if (!this.primary) return this.offline.synthesize(input, signal, null);
    let failure: unknown;
    try {
      const enhancement = await this.primary.synthesize(input, signal);
      // A custom provider could return anything; the next stage validates strictly.
      const checked = EnhancementSchema.safeParse(enhancement);
      if (checked.success) return checked.data;
      failure = new SynthesisError(
        'invalid_output',
        'the provider returned an invalid enhancement',
      );
    } catch (error) {
      if (signal?.aborted) throw error;
      failure = error;
    }
    const reason = truncate(describeFailure(failure), MAX_REASON_CHARS);
    this.onFallback?.(failure, reason);
    return this.offline.synthesize(input, signal, reason);
  }
}

export interface SynthesizerOptions {
  /** Unset: no model; every ticket is answered offline (the embedded default). */
  llmBaseUrl?: string;
  llmApiKey?: string;
  llmDefaultModel?: string;
  llmTimeoutMs?: number;
  onFallback?: ResilientSynthesizerOptions['onFallback'];
}

export function createSynthesizerFromEnv(options: SynthesizerOptions): ResilientSynthesizer {
  const baseUrl = options.llmBaseUrl?.trim();
  const primary = baseUrl
    ? new OpenAiCompatibleProvider({
        baseUrl,
        apiKey: options.llmApiKey,
        defaultModel: options.llmDefaultModel,
        timeoutMs: options.llmTimeoutMs,
      })
    : null;
  return new ResilientSynthesizer({ primary, onFallback: options.onFallback });
}
