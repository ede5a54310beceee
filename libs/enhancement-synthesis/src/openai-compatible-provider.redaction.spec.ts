import { REDACTION_CORPUS, REDACTION_KINDS, type CorpusSample } from '@tep/redaction';
import { OpenAiCompatibleProvider } from './openai-compatible-provider';
import {
  startFakeChatCompletionsServer,
  type FakeChatCompletionsServer,
  type FakeChatRequest,
} from './testing/fake-chat-completions-server';
import { context, goodAnswer, preferences, synthesisInput, ticket } from './testing/fixtures';

// Fake keys, joined at run time so secret scanners do not flag this file.
const STRIPE_KEY = ['sk', 'live', '51Hc8QpLm2Nk4Jh6Gf8Ds0Aq'].join('_');
const OPENAI_KEY = ['sk', 'proj', 'Xo3Lk9Pq2Rs7Tu5Vw1Yz8Ab4Cd6Ef0Gh3Ij5Kl7'].join('-');

let server: FakeChatCompletionsServer;

afterEach(async () => {
  await server.close();
});

const provider = () => new OpenAiCompatibleProvider({ baseUrl: server.baseUrl, maxAttempts: 1 });

/** Everything the endpoint was sent as text, decoded from the JSON body. */
const sentText = (requests: readonly FakeChatRequest[]) =>
  requests.flatMap((request) => (request.body.messages ?? []).map((message) => message.content));

const valuesOf = (sample: CorpusSample) =>
  REDACTION_KINDS.flatMap((kind) => sample.values[kind] ?? []);

/** The sample as the ticket, a similar ticket's resolution and a KB excerpt: every redacted field. */
const inputCarrying = (sample: CorpusSample, visibility: 'technicians' | 'requester') =>
  synthesisInput({
    ticket: { ...ticket, subject: sample.text.split('\n')[0], description_text: sample.text },
    context: {
      ...context,
      similar_tickets: context.similar_tickets.map((similar) => ({
        ...similar,
        subject: sample.text,
        resolution: sample.text,
      })),
      kb_articles: context.kb_articles.map((article) => ({
        ...article,
        title: sample.text,
        excerpt: sample.text,
      })),
    },
    preferences: preferences({ note_visibility: visibility }),
  });

describe('what reaches the model', () => {
  it('contains no secret or personal value of the corpus, in any field', async () => {
    server = await startFakeChatCompletionsServer(() => ({
      kind: 'completion',
      content: goodAnswer,
    }));
    const model = provider();

    for (const sample of REDACTION_CORPUS) {
      await model.synthesize(inputCarrying(sample, 'technicians'));
    }

    expect(server.requests).toHaveLength(REDACTION_CORPUS.length);
    const sent = sentText(server.requests).join('\n');
    const leaked = REDACTION_CORPUS.flatMap(valuesOf).filter((value) => sent.includes(value));
    expect(leaked).toEqual([]);
    // The inventory is ours, not ticket text: it still reaches the model.
    expect(sent).toContain('"hostname": "exch01"');
    expect(sent).toContain('"ip_address": "10.0.0.5"');
  });

  it('keeps personal data the tenant chose not to redact, but never secrets', async () => {
    server = await startFakeChatCompletionsServer([{ kind: 'completion', content: goodAnswer }]);

    await provider().synthesize(
      synthesisInput({
        ticket: { ...ticket, description_text: 'Mail anna@example.com, password: Hunter2!' },
        preferences: preferences({ redact: [] }),
      }),
    );

    const [, user] = sentText(server.requests);
    expect(user).toContain('anna@example.com');
    expect(user).toContain('password: [SECRET_1]');
    expect(user).not.toContain('Hunter2!');
  });

  it('reports the redactions of the job by kind', async () => {
    server = await startFakeChatCompletionsServer([{ kind: 'completion', content: goodAnswer }]);
    const reports: unknown[] = [];

    await provider().synthesize({
      ...synthesisInput({
        ticket: {
          ...ticket,
          description_text: `Card 4111 1111 1111 1111 declined, key ${STRIPE_KEY}.\nThanks,\nAnna\n+49 30 1234567`,
        },
      }),
      onRedactions: (counts) => reports.push(counts),
    });

    expect(reports).toEqual([{ secret: 1, card: 1, iban: 0, email: 0, phone: 1, name: 1 }]);
  });
});

describe('what comes back in the note', () => {
  const description = `Our chatbot returns 401. Key: ${OPENAI_KEY}\nRegards,\nJohn Smith\njohn.smith@contoso.com`;
  const echo = {
    kind: 'completion',
    content: {
      ...goodAnswer,
      likely_cause: 'The key [SECRET_1] of [NAME_1] was revoked.',
      suggested_actions: ['Send [EMAIL_1] a new key.', 'Ask [EMAIL_2] to check the gateway.'],
    },
  } as const;
  const withContextEmail = (visibility: 'technicians' | 'requester') =>
    synthesisInput({
      ticket: { ...ticket, description_text: description },
      context: {
        ...context,
        similar_tickets: [
          { ...context.similar_tickets[0], resolution: 'Fixed by gateway-admin@msp.example.' },
        ],
      },
      preferences: preferences({ note_visibility: visibility }),
    });

  it('restores echoed personal data, never an echoed secret', async () => {
    server = await startFakeChatCompletionsServer([echo]);

    const enhancement = await provider().synthesize(withContextEmail('technicians'));

    expect(enhancement.likely_cause).toBe('The key [SECRET_1] of John Smith was revoked.');
    expect(enhancement.suggested_actions).toEqual([
      'Send john.smith@contoso.com a new key.',
      'Ask gateway-admin@msp.example to check the gateway.',
    ]);
  });

  it("restores for a requester only what the requester's own ticket said", async () => {
    server = await startFakeChatCompletionsServer([echo]);

    const enhancement = await provider().synthesize(withContextEmail('requester'));

    expect(enhancement.suggested_actions).toEqual([
      'Send john.smith@contoso.com a new key.',
      'Ask [EMAIL_2] to check the gateway.',
    ]);
  });
});
