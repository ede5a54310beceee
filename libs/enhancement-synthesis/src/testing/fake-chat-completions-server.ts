import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The parts of a chat-completions request tests look at; the rest is kept as-is. */
export interface FakeChatRequestBody {
  model?: string;
  max_tokens?: number;
  response_format?: {
    type: string;
    json_schema?: { name?: string; strict?: boolean; schema?: Record<string, unknown> };
  };
  messages?: { role: string; content: string }[];
  [key: string]: unknown;
}

export interface FakeChatRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: FakeChatRequestBody;
}

export type FakeChatReply =
  | {
      kind: 'completion';
      /** An object is sent as its JSON text, as a model in JSON mode would. */
      content: string | object;
      model?: string;
      /** null: the response carries no usage, as some local servers do. */
      usage?: { prompt_tokens: number; completion_tokens: number } | null;
      finishReason?: string;
      delayMs?: number;
    }
  | { kind: 'error'; status: number; message?: string; headers?: Record<string, string> }
  /** Never answers: for client timeouts. */
  | { kind: 'hang' };

export type FakeChatScript = (
  body: FakeChatRequestBody,
  request: FakeChatRequest,
) => FakeChatReply | Promise<FakeChatReply>;

export interface FakeChatServerOptions {
  /**
   * The `response_format` types the endpoint supports (default: text,
   * json_object and json_schema). A request for another one is refused
   * with HTTP 400 before the script runs, worded as an older vLLM words it.
   */
  responseFormats?: readonly string[];
}

export interface FakeChatCompletionsServer {
  /** Pass as the provider's baseUrl (ends in /v1). */
  readonly baseUrl: string;
  /** Every request received, in order. */
  readonly requests: FakeChatRequest[];
  /** Adds replies to the queue (used when no script function was given). */
  enqueue(...replies: FakeChatReply[]): void;
  close(): Promise<void>;
}

const COMPLETIONS_PATH = '/v1/chat/completions';
const ALL_RESPONSE_FORMATS = ['text', 'json_object', 'json_schema'];
const DEFAULT_USAGE = { prompt_tokens: 120, completion_tokens: 60 };

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function errorBody(status: number, message: string) {
  return { error: { message, type: 'fake_error', code: String(status) } };
}

function completionBody(reply: Extract<FakeChatReply, { kind: 'completion' }>, model: string) {
  const usage = reply.usage === undefined ? DEFAULT_USAGE : reply.usage;
  return {
    id: `chatcmpl-fake-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: reply.model ?? model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content:
            typeof reply.content === 'string' ? reply.content : JSON.stringify(reply.content),
        },
        finish_reason: reply.finishReason ?? 'stop',
      },
    ],
    ...(usage && {
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    }),
  };
}

/** Why a real endpoint would refuse this response_format, if it would. */
function responseFormatProblem(
  format: FakeChatRequestBody['response_format'],
  supported: readonly string[],
): string | undefined {
  if (format === undefined) return undefined;
  if (!supported.includes(format.type)) {
    const allowed = supported.map((type) => `'${type}'`).join(' or ');
    return `1 validation error for ChatCompletionRequest\nresponse_format.type\n  Input should be ${allowed} [type=literal_error, input_value='${format.type}', input_type=str]`;
  }
  if (format.type === 'json_schema' && (!format.json_schema?.name || !format.json_schema.schema)) {
    return "Missing required parameter: 'response_format.json_schema.name' or '.schema'";
  }
  return undefined;
}

function parseBody(raw: string): FakeChatRequestBody {
  try {
    return JSON.parse(raw) as FakeChatRequestBody;
  } catch {
    return {};
  }
}

/**
 * A scriptable stand-in for an OpenAI-compatible endpoint on 127.0.0.1 (a
 * free port): give it a queue of replies or a function of the request.
 * An empty queue answers 500 so a test notices an unexpected extra call.
 * Every request is recorded, refused ones too.
 */
export async function startFakeChatCompletionsServer(
  script: FakeChatReply[] | FakeChatScript = [],
  { responseFormats = ALL_RESPONSE_FORMATS }: FakeChatServerOptions = {},
): Promise<FakeChatCompletionsServer> {
  const queue: FakeChatReply[] = Array.isArray(script) ? [...script] : [];
  const requests: FakeChatRequest[] = [];
  const nextReply: FakeChatScript = Array.isArray(script)
    ? () => queue.shift() ?? { kind: 'error', status: 500, message: 'fake server: queue empty' }
    : script;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const request: FakeChatRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        body: parseBody(rawBody),
      };
      requests.push(request);
      if (request.method !== 'POST' || request.path !== COMPLETIONS_PATH) {
        sendJson(res, 404, errorBody(404, `fake server: no route ${request.path}`));
        return;
      }
      const formatProblem = responseFormatProblem(request.body.response_format, responseFormats);
      if (formatProblem) {
        sendJson(res, 400, errorBody(400, formatProblem));
        return;
      }
      Promise.resolve(nextReply(request.body, request))
        .then((reply) => respond(res, reply, request.body.model ?? 'fake-model'))
        .catch((error: unknown) =>
          sendJson(res, 500, errorBody(500, `fake server script failed: ${String(error)}`)),
        );
    });
  });

  function respond(res: ServerResponse, reply: FakeChatReply, model: string): void {
    switch (reply.kind) {
      case 'hang':
        return;
      case 'error':
        sendJson(
          res,
          reply.status,
          errorBody(reply.status, reply.message ?? `fake error ${reply.status}`),
          reply.headers,
        );
        return;
      case 'completion':
        if (reply.delayMs) {
          setTimeout(() => sendJson(res, 200, completionBody(reply, model)), reply.delayMs);
        } else {
          sendJson(res, 200, completionBody(reply, model));
        }
        return;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Hanging requests and keep-alive sockets would hold close() forever.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
