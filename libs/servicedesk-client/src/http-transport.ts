import { leanFetch } from '@tep/lean-fetch';
import { ServiceDeskError } from './errors';

export type FetchLike = typeof fetch;

/** What SDP calls go through unless a caller passes its own (the SSRF guard's, a spec's). */
export const defaultFetch: FetchLike = leanFetch();

export interface HttpExchange {
  method: 'GET' | 'POST' | 'PUT';
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
}

export interface HttpTransportOptions {
  fetch: FetchLike;
  timeoutMs: number;
  beforeConnect?: (url: URL) => Promise<void>;
  now: () => number;
}

/** SDP replies are small; a bigger body is a misconfigured URL or an attack. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Network failures after which the request certainly never reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const notApplied = new WeakSet<ServiceDeskError>();

/**
 * Marks a failure after which a write certainly did not take effect (refused
 * connection, 429, 503, no token), so retrying it cannot duplicate a note.
 */
export function markNotApplied(error: ServiceDeskError): ServiceDeskError {
  notApplied.add(error);
  return error;
}

export function wasNotApplied(error: ServiceDeskError): boolean {
  return notApplied.has(error);
}

/** One HTTP round trip: SSRF hook, timeout, no redirects, bounded body. */
export class HttpTransport {
  constructor(private readonly options: HttpTransportOptions) {}

  async exchange(call: HttpExchange): Promise<HttpReply> {
    const target = `${call.method} ${call.url.host}${call.url.pathname}`;
    if (this.options.beforeConnect) {
      try {
        await this.options.beforeConnect(new URL(call.url.href));
      } catch (cause) {
        throw new ServiceDeskError('unavailable', `outbound request blocked: ${target}`, {
          retryable: false,
          cause,
        });
      }
    }

    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await this.options.fetch(call.url, {
        method: call.method,
        headers: call.headers,
        body: call.body,
        redirect: 'manual',
        signal,
      });
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        return { status: response.status, headers: response.headers, text: '' };
      }
      return {
        status: response.status,
        headers: response.headers,
        text: await readBounded(response, target),
      };
    } catch (error) {
      if (error instanceof ServiceDeskError) throw error;
      if (signal.aborted) {
        throw new ServiceDeskError(
          'timeout',
          `no reply within ${this.options.timeoutMs} ms: ${target}`,
          { cause: error },
        );
      }
      const code = networkErrorCode(error);
      const failure = new ServiceDeskError(
        'unavailable',
        `network error (${code ?? 'unknown'}): ${target}`,
        { cause: error },
      );
      throw code && NOT_SENT_CODES.has(code) ? markNotApplied(failure) : failure;
    }
  }

  /** Retry-After as seconds or an HTTP date; undefined when absent or unparsable. */
  retryAfterMs(headers: Headers): number | undefined {
    const value = headers.get('retry-after')?.trim();
    if (!value) return undefined;
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, at - this.options.now());
  }
}

async function readBounded(response: Response, target: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw tooLarge(response.status, target);
  }
  if (!response.body) return '';
  // The DOM lib is not loaded, so the stream's chunk type must be stated.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge(response.status, target);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(status: number, target: string): ServiceDeskError {
  return new ServiceDeskError(
    'unexpected_response',
    `reply larger than ${MAX_BODY_BYTES} bytes: ${target}`,
    { httpStatus: status },
  );
}

function networkErrorCode(error: unknown): string | undefined {
  // undici wraps the socket error: TypeError('fetch failed', { cause: { code } }).
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code;
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}
