import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Test-only: a scripted HTTP server on 127.0.0.1 and an ephemeral port. */
export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Scripted =
  | { status: number; headers?: Record<string, string>; body?: string | object }
  /** Never answer: the client has to time out. */
  | 'hang';

export type Responder = (request: RecordedRequest, index: number) => Scripted;

export interface AdHocServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startAdHocServer(responder: Responder): Promise<AdHocServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const reply = responder(recorded, requests.length - 1);
      if (reply === 'hang') return;
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The parsed `input_data` of a recorded request (query for GET, form body otherwise). */
export function inputDataOf(request: RecordedRequest): unknown {
  const raw =
    request.method === 'GET'
      ? request.url.searchParams.get('input_data')
      : new URLSearchParams(request.body).get('input_data');
  return raw === null ? undefined : (JSON.parse(raw) as unknown);
}

export const ok = { status_code: 2000, status: 'success' };

export function sdpFailure(httpStatus: number, code: number, message: string, fields?: string[]) {
  return {
    status: httpStatus,
    body: {
      response_status: {
        status_code: 4000,
        status: 'failed',
        messages: [{ status_code: code, type: 'failed', message, ...(fields ? { fields } : {}) }],
      },
    },
  };
}
