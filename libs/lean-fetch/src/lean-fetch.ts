import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';

export interface LeanFetchOptions {
  /** Connection pool and connect options (e.g. a guarded DNS lookup); one Agent per call of leanFetch by default. */
  dispatcher?: Dispatcher;
}

type RequestBody = string | Buffer | Readable | null;

/** Statuses whose responses have no body; `new Response` refuses one. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * `fetch`, answered by undici's `request` API on the given dispatcher.
 *
 * Why: Node's global fetch (undici's WHATWG fetch: the spec machinery,
 * Request and Headers objects, webidl conversions) spent 0.95 ms of CPU per
 * call where this spends 0.38 (`npm run bench -- --part http-client`), and
 * the poster and the synthesizer make two to three calls per job
 * (docs/benchmarks.md, fifth pass).
 * The OpenAI SDK and the SDP client take this in place of fetch, so both
 * keep their own code; the body stays a stream, so a bounded reader still
 * stops reading a reply that is too large.
 *
 * Differences from fetch, on purpose: redirects are never followed (a 3xx
 * is returned as it is; `redirect: 'error'` rejects it), and a `FormData`
 * body is refused. Failures look like fetch's: an aborted signal rejects
 * with its reason, anything else with `TypeError('fetch failed')` whose
 * `cause` is undici's error (with its `code`).
 */
export function leanFetch(options: LeanFetchOptions = {}): typeof fetch {
  const dispatcher = options.dispatcher ?? new Agent();
  return async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const fromRequest = input instanceof Request ? input : undefined;
    const url =
      input instanceof Request ? input.url : typeof input === 'string' ? input : input.href;
    const method = (init.method ?? fromRequest?.method ?? 'GET').toUpperCase();
    const signal = init.signal ?? fromRequest?.signal ?? undefined;
    signal?.throwIfAborted();
    const headers = headerRecord(init.headers ?? fromRequest?.headers);
    const body = await requestBody(init.body ?? fromRequest?.body ?? null, headers);

    let reply: Dispatcher.ResponseData;
    try {
      reply = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        signal,
        dispatcher,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new TypeError('fetch failed', { cause: error });
    }
    const status = reply.statusCode;
    if (init.redirect === 'error' && status >= 300 && status < 400) {
      discard(reply.body);
      throw new TypeError('fetch failed', {
        cause: new Error(`redirect (HTTP ${status}) with redirect: 'error'`),
      });
    }
    const empty = NULL_BODY_STATUSES.has(status) || method === 'HEAD';
    if (empty) discard(reply.body);
    const response = new Response(empty ? null : webStreamOf(reply.body), {
      status,
      headers: responseHeaders(reply.headers),
    });
    // Response.url is a getter that a constructed Response leaves empty; SDKs log it.
    Object.defineProperty(response, 'url', { value: url });
    return response;
  };
}

function headerRecord(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (init === undefined) return out;
  const entries =
    init instanceof Headers || Array.isArray(init)
      ? init
      : Object.entries(init as Record<string, string>);
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    // fetch joins repeated request headers with ", ".
    out[key] = key in out ? `${out[key]}, ${value}` : String(value);
  }
  return out;
}

/** The body in a form `request` takes, with the content-type fetch would set. */
async function requestBody(
  body: RequestInit['body'] | ReadableStream,
  headers: Record<string, string>,
): Promise<RequestBody> {
  const defaultType = (type: string) => (headers['content-type'] ??= type);
  if (body === null || body === undefined) return null;
  if (typeof body === 'string') {
    defaultType('text/plain;charset=UTF-8');
    return body;
  }
  if (body instanceof URLSearchParams) {
    defaultType('application/x-www-form-urlencoded;charset=UTF-8');
    return body.toString();
  }
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof Blob) {
    if (body.type) defaultType(body.type);
    return Buffer.from(await body.arrayBuffer());
  }
  if (body instanceof ReadableStream) return Readable.fromWeb(body as never);
  throw new TypeError('leanFetch: unsupported body type (FormData is not supported)');
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const one of value) headers.append(name, one);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/**
 * Ends a body nobody reads without an unhandled 'error' event: up to 64 KiB
 * are read so the connection can be reused, past that it is closed.
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.dump({ limit: 64 * 1024 }).catch(() => undefined);
}

/** A web stream that pulls from undici's body only as the reader asks; cancelling destroys it. */
function webStreamOf(body: Dispatcher.ResponseData['body']): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer, undefined>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    async cancel() {
      // Ending the iteration destroys the body, which closes the connection.
      await chunks.return?.();
    },
  });
}
