import { setTimeout as delay } from 'node:timers/promises';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'openai';
import { backoffDelay, type Enhancement } from '@tep/contracts';
import { leanFetch } from '@tep/lean-fetch';
import { createRedactor } from '@tep/redaction';
import { normaliseAnswer, parseModelAnswer, type ModelAnswer } from './model-answer';
import {
  buildCorrectionMessage,
  buildSystemPrompt,
  buildTicketData,
  buildUserMessage,
  truncate,
  type TextFilter,
} from './prompt';
import type { EnhancementProvider, SynthesisInput } from './provider';
import {
  downgradeOf,
  rejectsResponseFormat,
  responseFormatFor,
  type OutputMode,
} from './structured-output';
import { SynthesisError } from './synthesis-error';

export interface OpenAiCompatibleProviderOptions {
  /** e.g. https://api.openai.com/v1, https://openrouter.ai/api/v1, http://localhost:11434/v1 */
  baseUrl: string;
  /** Local servers (Ollama, vLLM, LM Studio) usually need none. */
  apiKey?: string;
  /** Used when the tenant's llm_model is empty. */
  defaultModel?: string;
  /** Per request. Default 30000. */
  timeoutMs?: number;
  /** Requests per call when failures are transient (5xx, 429, timeouts). Default 3. */
  maxAttempts?: number;
  /** A longer `retry-after` fails fast as rate_limited instead of holding the job. Default 20000. */
  maxRetryAfterMs?: number;
  /** How often `onProgress` fires while waiting. Default 5000. */
  progressIntervalMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

type ChatMessage = OpenAI.ChatCompletionMessageParam;
type Usage = NonNullable<Enhancement['usage']>;

const DEFAULTS = {
  timeoutMs: 30_000,
  maxAttempts: 3,
  maxRetryAfterMs: 20_000,
  progressIntervalMs: 5_000,
};
// The SDK refuses to start without a key; keyless local servers ignore this one.
const PLACEHOLDER_API_KEY = 'no-key';
const MAX_ECHOED_REPLY_CHARS = 4000;
const SDK_TIMEOUT_GRACE_MS = 1_000;

const defaultSleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal });

/** Personal data the model echoed as placeholders goes back into the note; secrets stay hidden. */
const restoreAnswer = (answer: ModelAnswer, restore: TextFilter): ModelAnswer => ({
  ...answer,
  likely_cause: restore(answer.likely_cause),
  suggested_actions: answer.suggested_actions.map((action) => restore(action)),
});

/**
 * Chat completions with structured output through the official SDK, so any
 * OpenAI-compatible endpoint works. Text is redacted before it leaves.
 * Retries transient failures itself; the SDK's own retries are off so
 * attempts, backoff and errors are ours.
 */
export class OpenAiCompatibleProvider implements EnhancementProvider {
  readonly name = 'openai-compatible';
  private readonly client: OpenAI;
  private readonly apiKey: string | undefined;
  private readonly defaultModel: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;
  private readonly progressIntervalMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  /** Steps down when the endpoint rejects a response format; the system prompt always asks for JSON. */
  private outputMode: OutputMode = 'json_schema';

  constructor(options: OpenAiCompatibleProviderOptions) {
    this.apiKey = options.apiKey || undefined;
    this.defaultModel = options.defaultModel?.trim() || undefined;
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULTS.maxAttempts);
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;
    this.progressIntervalMs = options.progressIntervalMs ?? DEFAULTS.progressIntervalMs;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey: this.apiKey ?? PLACEHOLDER_API_KEY,
      // Our own deadline (per attempt) decides; the SDK's is only a backstop.
      timeout: this.timeoutMs + SDK_TIMEOUT_GRACE_MS,
      maxRetries: 0,
      // The SDK's request building stays; its calls cost 0.58 ms of CPU against 0.97 on
      // Node's fetch (@tep/lean-fetch; `npm run bench -- --part http-client`).
      fetch: leanFetch(),
    });
  }

  async synthesize(input: SynthesisInput, signal?: AbortSignal): Promise<Enhancement> {
    const model = input.preferences.llm_model.trim() || this.defaultModel;
    if (!model) {
      throw new SynthesisError(
        'bad_request',
        'no model: the tenant has no llm_model and no default',
      );
    }
    const progress = () => {
      try {
        input.onProgress?.();
      } catch {
        // A failing heartbeat must not fail the synthesis.
      }
    };
    const heartbeat = setInterval(progress, this.progressIntervalMs);
    heartbeat.unref();
    try {
      const { messages, restore } = this.prepare(input);
      const usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
      let sawUsage = false;
      // One corrective round: a second invalid reply rarely improves with a third.
      for (let round = 1; ; round += 1) {
        const completion = await this.complete(
          model,
          input.preferences.max_tokens,
          messages,
          progress,
          signal,
        );
        const reported = completion.usage;
        // Some compatible servers omit usage or parts of it; partial counts would fail the schema.
        if (
          reported &&
          Number.isInteger(reported.prompt_tokens) &&
          Number.isInteger(reported.completion_tokens)
        ) {
          sawUsage = true;
          usage.prompt_tokens += reported.prompt_tokens;
          usage.completion_tokens += reported.completion_tokens;
        }
        const choice = completion.choices[0];
        const content = choice?.message.content ?? null;
        const parsed = parseModelAnswer(content);
        if (parsed.ok) {
          return {
            ...normaliseAnswer(
              restoreAnswer(parsed.answer, restore),
              input.context.similar_tickets,
              input.preferences.include_confidence_score,
            ),
            synthesizer: 'llm',
            language: input.language,
            model: completion.model || model,
            fallback_reason: null,
            usage: sawUsage ? usage : null,
          };
        }
        if (round >= 2) {
          throw new SynthesisError('invalid_output', `invalid output twice: ${parsed.problem}`, {
            attempts: round,
          });
        }
        messages.push(
          { role: 'assistant', content: truncate(content ?? '', MAX_ECHOED_REPLY_CHARS) },
          {
            role: 'user',
            content: buildCorrectionMessage(
              choice?.finish_reason === 'length'
                ? `${parsed.problem}; it was cut off at the token limit, so answer more briefly`
                : parsed.problem,
            ),
          },
        );
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * The conversation's first two messages, built from redacted text, and
   * how to restore placeholders in the answer. A requester's note gets back
   * only what their own ticket said, never another ticket's personal data.
   */
  private prepare(input: SynthesisInput): { messages: ChatMessage[]; restore: TextFilter } {
    const redactor = createRedactor({ redact: input.preferences.redact });
    const data = buildTicketData(input.ticket, input.context, (text) => redactor.redact(text));
    input.onRedactions?.(redactor.counts());
    const scope =
      input.preferences.note_visibility === 'requester'
        ? { onlyFrom: [data.ticket.subject, data.ticket.description] }
        : {};
    return {
      messages: [
        { role: 'system', content: buildSystemPrompt(input.preferences, input.language) },
        { role: 'user', content: buildUserMessage(data) },
      ],
      restore: (text) => redactor.restore(text, scope),
    };
  }

  private async complete(
    model: string,
    maxTokens: number,
    messages: ChatMessage[],
    progress: () => void,
    signal: AbortSignal | undefined,
  ): Promise<OpenAI.ChatCompletion> {
    for (let attempt = 1; ;) {
      progress();
      const mode = this.outputMode;
      const format = responseFormatFor(mode);
      const deadline = AbortSignal.timeout(this.timeoutMs);
      try {
        return await this.client.chat.completions.create(
          { model, max_tokens: maxTokens, messages, ...(format && { response_format: format }) },
          { signal: signal ? AbortSignal.any([signal, deadline]) : deadline },
        );
      } catch (error) {
        if (signal?.aborted) throw signal.reason ?? error;
        const failure = this.classify(error, attempt, deadline.aborted);
        if (
          failure.kind === 'bad_request' &&
          rejectsResponseFormat(failure.message) &&
          this.downgrade(mode)
        ) {
          // Not an attempt: the endpoint refused the format, not the request.
          continue;
        }
        const waitMs = failure.retryAfterMs ?? backoffDelay(attempt, this.random);
        const giveUp =
          !failure.retryable ||
          attempt >= this.maxAttempts ||
          (failure.retryAfterMs ?? 0) > this.maxRetryAfterMs;
        if (giveUp) throw failure;
        await this.sleep(waitMs, signal);
        attempt += 1;
      }
    }
  }

  /**
   * Steps down from the mode a refused request used, remembered for later
   * calls; false when there is none left. Concurrent requests refused for
   * the same mode step down once, not once each.
   */
  private downgrade(refused: OutputMode): boolean {
    const next = downgradeOf(refused);
    if (next === null) return false;
    if (this.outputMode === refused) this.outputMode = next;
    return true;
  }

  /** Unknown errors (bugs, not the endpoint) are rethrown unchanged. */
  private classify(error: unknown, attempt: number, timedOut: boolean): SynthesisError {
    const tries = attempt > 1 ? ` (${attempt} attempts)` : '';
    const details = { attempts: attempt, cause: error };
    if (timedOut || error instanceof APIConnectionTimeoutError) {
      return new SynthesisError('timeout', `timeout after ${this.timeoutMs} ms${tries}`, details);
    }
    if (error instanceof APIUserAbortError || error instanceof APIConnectionError) {
      return new SynthesisError('unavailable', `could not connect${tries}`, details);
    }
    if (!(error instanceof APIError)) throw error;
    // instanceof loses the type arguments; these are what the SDK sets for HTTP errors.
    const {
      status,
      headers,
      error: body,
    } = error as APIError<
      number | undefined,
      Headers | undefined,
      { message?: unknown } | undefined
    >;
    if (status === undefined) throw error;
    const withStatus = { ...details, httpStatus: status };
    if (status === 401 || status === 403) {
      return new SynthesisError(
        'auth',
        `the endpoint rejected the API key (HTTP ${status})`,
        withStatus,
      );
    }
    if (status === 429) {
      return new SynthesisError('rate_limited', `rate limited (HTTP 429)${tries}`, {
        ...withStatus,
        retryAfterMs: retryAfterMs(headers),
      });
    }
    if (status === 408 || status === 409 || status >= 500) {
      return new SynthesisError('unavailable', `HTTP ${status}${tries}`, withStatus);
    }
    const upstream = this.upstreamMessage(body?.message);
    return new SynthesisError(
      'bad_request',
      `the endpoint rejected the request (HTTP ${status})${upstream ? `: ${upstream}` : ''}`,
      withStatus,
    );
  }

  /** The provider's own explanation (e.g. "model not found"), without anything key-like. */
  private upstreamMessage(upstream: unknown): string | undefined {
    if (typeof upstream !== 'string') return undefined;
    let message = upstream;
    if (this.apiKey) message = message.split(this.apiKey).join('[redacted]');
    return truncate(message.replace(/\b(sk|key)-[\w*-]{6,}/gi, '[redacted]'), 200);
  }
}

/** `retry-after-ms` (OpenAI) or `retry-after` in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const millis = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(millis) && millis >= 0) return Math.round(millis);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
