import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lookup as dnsLookup } from 'node:dns';
import { Agent } from 'undici';
import { leanFetch } from './lean-fetch';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback server whose reply each test scripts; it records what it received. */
describe('leanFetch', () => {
  let server: Server;
  let base: string;
  let seen: Seen[] = [];
  let reply: (req: IncomingMessage, res: ServerResponse) => void;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        reply(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
  });

  const fetchLean = leanFetch();

  it('sends the method, headers and body, and returns status, headers and body as fetch does', async () => {
    reply = (_req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('content-type', 'application/json');
      res.statusCode = 201;
      res.end(JSON.stringify({ ok: true }));
    };
    const response = await fetchLean(`${base}/v1/chat?x=1`, {
      method: 'post',
      headers: new Headers({ Authorization: 'Bearer k', 'X-Two': 'a' }),
      body: '{"q":1}',
    });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.url).toBe(`${base}/v1/chat?x=1`);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/v1/chat?x=1', body: '{"q":1}' });
    expect(seen[0]?.headers).toMatchObject({
      authorization: 'Bearer k',
      'x-two': 'a',
      // fetch's default for a string body
      'content-type': 'text/plain;charset=UTF-8',
      'content-length': '7',
    });
  });

  it('takes headers as pairs or a record, and sets the form content-type for URLSearchParams', async () => {
    reply = (_req, res) => res.end('ok');
    await fetchLean(`${base}/form`, {
      method: 'POST',
      headers: [['Accept', 'application/json']],
      body: new URLSearchParams({ grant_type: 'code', code: 'a b' }),
    });
    await fetchLean(`${base}/typed`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from('[1]'),
    });
    expect(seen[0]?.headers['content-type']).toBe(
      'application/x-www-form-urlencoded;charset=UTF-8',
    );
    expect(seen[0]?.headers['accept']).toBe('application/json');
    expect(seen[0]?.body).toBe('grant_type=code&code=a+b');
    expect(seen[1]?.headers['content-type']).toBe('application/json');
    expect(seen[1]?.body).toBe('[1]');
  });

  it('gives a 204 no body and returns a redirect as it is, or rejects it with redirect: error', async () => {
    reply = (req, res) => {
      if (req.url === '/empty') {
        res.statusCode = 204;
        res.end();
        return;
      }
      res.statusCode = 302;
      res.setHeader('location', 'http://169.254.169.254/latest');
      res.end('moved');
    };
    const empty = await fetchLean(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    const moved = await fetchLean(`${base}/moved`, { redirect: 'manual' });
    expect(moved.status).toBe(302);
    expect(moved.headers.get('location')).toBe('http://169.254.169.254/latest');
    await expect(fetchLean(`${base}/moved`, { redirect: 'error' })).rejects.toThrow('fetch failed');
    // Never followed: one request per call.
    expect(seen.map((s) => s.path)).toEqual(['/empty', '/moved', '/moved']);
  });

  it("rejects a refused connection with fetch's TypeError and undici's code in the cause", async () => {
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const port = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    const error = (await fetchLean(`http://127.0.0.1:${port}/`).catch(
      (e: unknown) => e,
    )) as Error & {
      cause?: { code?: string };
    };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('fetch failed');
    expect(error.cause?.code).toBe('ECONNREFUSED');
  });

  it("rejects with the signal's reason when it aborts, before or while waiting", async () => {
    reply = () => undefined; // never answers
    const timedOut = await fetchLean(`${base}/hang`, { signal: AbortSignal.timeout(50) }).catch(
      (e: unknown) => e,
    );
    expect(timedOut).toMatchObject({ name: 'TimeoutError' });
    const already = AbortSignal.abort(new Error('stopped'));
    await expect(fetchLean(`${base}/never`, { signal: already })).rejects.toThrow('stopped');
    expect(seen.map((s) => s.path)).toEqual(['/hang']);
  });

  it('streams the body: a reader that cancels after the first chunk ends the exchange', async () => {
    let exchangeClosed!: Promise<void>;
    reply = (_req, res) => {
      exchangeClosed = new Promise((resolve) => res.on('close', resolve));
      res.write(Buffer.alloc(64 * 1024, 1));
      // The rest would follow only if someone kept reading.
      const more = setInterval(() => res.write(Buffer.alloc(64 * 1024, 2)), 20);
      res.on('close', () => clearInterval(more));
    };
    const response = await fetchLean(`${base}/big`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
    // The server sees the exchange end (never, if the body were left open).
    await expect(exchangeClosed).resolves.toBeUndefined();
  });

  it('connects through the dispatcher it is given (e.g. a guarded DNS lookup)', async () => {
    reply = (_req, res) => res.end('via lookup');
    const looked: string[] = [];
    const dispatcher = new Agent({
      connect: {
        lookup: (hostname, options, callback) => {
          looked.push(hostname);
          dnsLookup('127.0.0.1', options, callback);
        },
      },
    });
    const port = new URL(base).port;
    const response = await leanFetch({ dispatcher })(`http://sdp.lookup.test:${port}/x`);
    expect(await response.text()).toBe('via lookup');
    expect(looked).toEqual(['sdp.lookup.test']);
    await dispatcher.close();
  });
});
