import type { Enhancement } from '@tep/contracts';
import { OpenAiCompatibleProvider } from './openai-compatible-provider';
import type { EnhancementProvider } from './provider';
import {
  ResilientSynthesizer,
  createSynthesizerFromEnv,
  describeFailure,
} from './resilient-synthesizer';
import { SynthesisError } from './synthesis-error';
import {
  startFakeChatCompletionsServer,
  type FakeChatCompletionsServer,
} from './testing/fake-chat-completions-server';
import { goodAnswer, synthesisInput } from './testing/fixtures';
import { synthesizeOffline } from './offline-synthesizer';

let server: FakeChatCompletionsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const failingProvider = (error: Error): EnhancementProvider => ({
  name: 'failing',
  synthesize: () => Promise.reject(error),
});

describe('ResilientSynthesizer', () => {
  it('answers offline with no fallback reason when no model is configured', async () => {
    const synthesizer = new ResilientSynthesizer();

    const enhancement = await synthesizer.synthesize(synthesisInput());

    expect(synthesizer.name).toBe('offline');
    expect(enhancement).toEqual(synthesizeOffline(synthesisInput()));
    expect(enhancement.fallback_reason).toBeNull();
  });

  it('returns the model answer when the model works', async () => {
    server = await startFakeChatCompletionsServer([{ kind: 'completion', content: goodAnswer }]);
    const synthesizer = new ResilientSynthesizer({
      primary: new OpenAiCompatibleProvider({ baseUrl: server.baseUrl }),
    });

    const enhancement = await synthesizer.synthesize(synthesisInput());

    expect(synthesizer.name).toBe('openai-compatible+offline');
    expect(enhancement).toMatchObject({
      synthesizer: 'llm',
      likely_cause: goodAnswer.likely_cause,
      fallback_reason: null,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('falls back offline with the reason when the model times out', async () => {
    server = await startFakeChatCompletionsServer([{ kind: 'hang' }]);
    const fallbacks: [unknown, string][] = [];
    const synthesizer = new ResilientSynthesizer({
      primary: new OpenAiCompatibleProvider({
        baseUrl: server.baseUrl,
        timeoutMs: 200,
        maxAttempts: 1,
      }),
      onFallback: (error, reason) => fallbacks.push([error, reason]),
    });

    const enhancement = await synthesizer.synthesize(synthesisInput());

    expect(enhancement).toEqual({
      ...synthesizeOffline(synthesisInput()),
      fallback_reason: 'LLM provider unavailable: timeout after 200 ms',
    });
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0][0]).toMatchObject({ kind: 'timeout' });
    expect(fallbacks[0][1]).toBe('LLM provider unavailable: timeout after 200 ms');
  });

  it('falls back offline when the model answers invalid output twice', async () => {
    server = await startFakeChatCompletionsServer([
      { kind: 'completion', content: 'no' },
      { kind: 'completion', content: 'still no' },
    ]);
    const synthesizer = new ResilientSynthesizer({
      primary: new OpenAiCompatibleProvider({ baseUrl: server.baseUrl }),
    });

    const enhancement = await synthesizer.synthesize(synthesisInput());

    expect(enhancement.synthesizer).toBe('offline');
    expect(enhancement.fallback_reason).toBe(
      'LLM returned unusable output: invalid output twice: the reply was not valid JSON',
    );
    expect(server.requests).toHaveLength(2);
  });

  it('falls back when a custom provider returns something that is not an enhancement', async () => {
    const sloppy: EnhancementProvider = {
      name: 'sloppy',
      synthesize: () =>
        Promise.resolve({ likely_cause: '', suggested_actions: [] } as unknown as Enhancement),
    };

    const enhancement = await new ResilientSynthesizer({ primary: sloppy }).synthesize(
      synthesisInput(),
    );

    expect(enhancement.synthesizer).toBe('offline');
    expect(enhancement.fallback_reason).toBe(
      'LLM returned unusable output: the provider returned an invalid enhancement',
    );
  });

  it('propagates the caller abort instead of answering offline', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    const synthesizer = new ResilientSynthesizer({
      primary: failingProvider(new Error('aborted')),
    });

    await expect(synthesizer.synthesize(synthesisInput(), controller.signal)).rejects.toThrow(
      'aborted',
    );
  });
});

describe('describeFailure', () => {
  it.each([
    [
      new SynthesisError('unavailable', 'HTTP 503 (3 attempts)'),
      'LLM provider unavailable: HTTP 503 (3 attempts)',
    ],
    [
      new SynthesisError('rate_limited', 'rate limited (HTTP 429)'),
      'LLM provider rate limit reached: rate limited (HTTP 429)',
    ],
    [
      new SynthesisError('auth', 'the endpoint rejected the API key (HTTP 401)'),
      'LLM provider authentication failed: the endpoint rejected the API key (HTTP 401)',
    ],
    [
      new SynthesisError('bad_request', 'the endpoint rejected the request (HTTP 404)'),
      'LLM provider rejected the request: the endpoint rejected the request (HTTP 404)',
    ],
    [new TypeError('boom'), 'LLM provider failed: boom'],
  ])('%s', (error, reason) => {
    expect(describeFailure(error)).toBe(reason);
  });
});

describe('createSynthesizerFromEnv', () => {
  it('configures no model without a base URL', async () => {
    const synthesizer = createSynthesizerFromEnv({ llmApiKey: 'sk-unused' });

    const enhancement = await synthesizer.synthesize(synthesisInput());

    expect(synthesizer.name).toBe('offline');
    expect(enhancement).toMatchObject({ synthesizer: 'offline', fallback_reason: null });
  });

  it('talks to the configured endpoint with the key, default model and timeout', async () => {
    server = await startFakeChatCompletionsServer([
      { kind: 'completion', content: goodAnswer },
      { kind: 'hang' },
      { kind: 'hang' },
      { kind: 'hang' },
    ]);
    const synthesizer = createSynthesizerFromEnv({
      llmBaseUrl: server.baseUrl,
      llmApiKey: 'sk-env-key-123456',
      llmDefaultModel: 'llama3.1:8b',
      llmTimeoutMs: 150,
    });
    const input = synthesisInput();

    const answered = await synthesizer.synthesize({
      ...input,
      preferences: { ...input.preferences, llm_model: '' },
    });
    expect(answered.synthesizer).toBe('llm');
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-env-key-123456');
    expect(server.requests[0].body.model).toBe('llama3.1:8b');

    // Default attempts (3) with real backoff between them, each cut short by llmTimeoutMs.
    const fallback = await synthesizer.synthesize(input);
    expect(fallback.synthesizer).toBe('offline');
    expect(fallback.fallback_reason).toBe(
      'LLM provider unavailable: timeout after 150 ms (3 attempts)',
    );
    expect(server.requests).toHaveLength(4);
  });
});
