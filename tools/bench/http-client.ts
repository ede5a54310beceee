/**
 * Part 6: what one outbound HTTP call costs the calling process. The poster
 * and the synthesizer make two to three per job (the SDP's notes list and
 * add, the model's chat completion), so the client's own CPU per call is
 * part of every webhook's. The same chat-completions exchange (a 5 kB
 * request, a 1.5 kB reply, keep-alive to a loopback server in this process)
 * through:
 *
 *  - `node fetch`: Node's global fetch, what the services used before;
 *  - `leanFetch`: @tep/lean-fetch, what the SDP client sends through now;
 *  - `openai SDK on node fetch` / `openai SDK on leanFetch`: the synthesizer's
 *    provider before and after;
 *  - `undici request`: undici's request API alone, the floor leanFetch sits on.
 *
 * CPU is this process's (client and server together; the server is the same
 * for every mode, so differences are the client's). The server is a bare
 * handler, not @tep/enhancement-synthesis's fake chat server: that one keeps
 * and parses every request, work this process would count with the client's. Modes alternate per
 * round, so the machine's drift hits all of them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { leanFetch } from '@tep/lean-fetch';
import { median } from './lib/stats';

export interface HttpClientOptions {
  calls: number;
  rounds: number;
}

export const HTTP_CLIENT_MODES = [
  'node fetch',
  'leanFetch',
  'openai SDK on node fetch',
  'openai SDK on leanFetch',
  'undici request',
] as const;
export type HttpClientMode = (typeof HTTP_CLIENT_MODES)[number];

export interface HttpClientCell {
  mode: HttpClientMode;
  round: number;
  calls: number;
  cpuMsPerCall: number;
}

export interface HttpClientReport {
  cells: HttpClientCell[];
  /** Median over rounds, per mode. */
  summary: { mode: HttpClientMode; cpuMsPerCall: number }[];
}

const REPLY = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'bench',
  choices: [
    {
      index: 0,
      finish_reason: 'stop',
      message: { role: 'assistant', content: 'x'.repeat(1_500) },
    },
  ],
  usage: { prompt_tokens: 1_200, completion_tokens: 300, total_tokens: 1_500 },
});
const MESSAGES = [
  { role: 'system' as const, content: 's'.repeat(2_000) },
  { role: 'user' as const, content: 'u'.repeat(3_000) },
];
const BODY = JSON.stringify({ model: 'bench', messages: MESSAGES });

function chatServer(): Promise<Server> {
  const server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(size > 0 ? REPLY : '{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function benchHttpClient(options: HttpClientOptions): Promise<HttpClientReport> {
  const server = await chatServer();
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const url = `${base}/chat/completions`;
  const agent = new Agent();
  const lean = leanFetch({ dispatcher: agent });
  const sdk = (fetch?: typeof globalThis.fetch) =>
    new OpenAI({ baseURL: base, apiKey: 'bench', maxRetries: 0, ...(fetch && { fetch }) });
  const viaNode = sdk();
  const viaLean = sdk(lean);
  const init = () => ({
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body: BODY,
    signal: AbortSignal.timeout(30_000),
  });
  const call: Record<HttpClientMode, () => Promise<unknown>> = {
    'node fetch': async () => (await fetch(url, init())).json(),
    leanFetch: async () => (await lean(url, init())).json(),
    'openai SDK on node fetch': () =>
      viaNode.chat.completions.create({ model: 'bench', messages: MESSAGES }),
    'openai SDK on leanFetch': () =>
      viaLean.chat.completions.create({ model: 'bench', messages: MESSAGES }),
    'undici request': async () => {
      const reply = await request(url, { ...init(), dispatcher: agent });
      return reply.body.json();
    },
  };
  const cells: HttpClientCell[] = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const mode of HTTP_CLIENT_MODES) {
        // Warm the code paths and the connection before measuring.
        for (let i = 0; i < Math.min(200, options.calls); i++) await call[mode]();
        const before = process.cpuUsage();
        for (let i = 0; i < options.calls; i++) await call[mode]();
        const used = process.cpuUsage(before);
        cells.push({
          mode,
          round,
          calls: options.calls,
          cpuMsPerCall: (used.user + used.system) / 1000 / options.calls,
        });
      }
    }
  } finally {
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return {
    cells,
    summary: HTTP_CLIENT_MODES.map((mode) => ({
      mode,
      cpuMsPerCall: median(cells.filter((c) => c.mode === mode).map((c) => c.cpuMsPerCall)),
    })),
  };
}
