import type OpenAI from 'openai';

/**
 * How the answer's JSON is requested, best first. Structured output
 * (`json_schema`: OpenAI, vLLM, Ollama, LM Studio) constrains the model to
 * the shape; JSON mode only to some JSON; without either the system prompt
 * alone asks for it and the parse-and-correct loop catches the rest.
 */
export type OutputMode = 'json_schema' | 'json_object' | 'prompt_only';

/** The answer's shape in the form strict mode requires: every property required, no others. */
export const ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    likely_cause: { type: 'string' },
    suggested_actions: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 10 },
    related_tickets: { type: 'array', items: { type: 'string' } },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
  required: ['likely_cause', 'suggested_actions', 'related_tickets', 'confidence'],
  additionalProperties: false,
};

type ResponseFormat = NonNullable<OpenAI.ChatCompletionCreateParams['response_format']>;

export function responseFormatFor(mode: OutputMode): ResponseFormat | undefined {
  switch (mode) {
    case 'json_schema':
      return {
        type: 'json_schema',
        json_schema: { name: 'enhancement', strict: true, schema: ANSWER_JSON_SCHEMA },
      };
    case 'json_object':
      return { type: 'json_object' };
    case 'prompt_only':
      return undefined;
  }
}

/** The next mode to try after an endpoint rejected `mode`; null when there is none. */
export function downgradeOf(mode: OutputMode): OutputMode | null {
  switch (mode) {
    case 'json_schema':
      return 'json_object';
    case 'json_object':
      return 'prompt_only';
    case 'prompt_only':
      return null;
  }
}

/**
 * A 400 that is about the response format: servers that lack a mode say so
 * naming the parameter or the type (e.g. vLLM's "response_format.type:
 * Input should be 'text' or 'json_object'", LM Studio's "'response_format.type'
 * must be 'json_schema' or 'text'").
 */
export function rejectsResponseFormat(message: string): boolean {
  return /response_format|json_schema|json_object/i.test(message);
}
