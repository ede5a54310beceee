/**
 * An HTTP proxy in front of an SDP simulator for the faults its own
 * `control.fail` cannot aim: it hits whichever call comes next, while these
 * hit the next note POSTs only.
 *
 * - `drop-reply`: the POST reaches the simulator and takes effect (2xx, the
 *   note exists), then the connection to the caller is cut instead of
 *   answering — a network failure or load-balancer timeout after the write.
 *   Replies that did not take effect (4xx/5xx) pass through untouched.
 * - `429`: answered by the proxy, SDP's envelope with a Retry-After, without
 *   reaching the simulator (a rate limit never applies the write).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyFault = { kind: 'drop-reply' } | { kind: '429'; retryAfterSeconds: number };

export interface FaultProxy {
  url: string;
  /** The next `count` requests matching `method` and `pathPattern` get `fault`. */
  inject(count: number, method: string, pathPattern: RegExp, fault: ProxyFault): void;
  /** Faults applied so far, by kind. */
  readonly applied: Record<ProxyFault['kind'], number>;
  close(): Promise<void>;
}

export async function startFaultProxy(
  upstream: string,
  log: (line: string) => void = () => undefined,
): Promise<FaultProxy> {
  const target = new URL(upstream);
  let pending:
    { count: number; method: string; pathPattern: RegExp; fault: ProxyFault } | undefined;
  const applied: Record<ProxyFault['kind'], number> = { 'drop-reply': 0, '429': 0 };

  const matches = (req: IncomingMessage) =>
    !!pending && req.method === pending.method && pending.pathPattern.test(req.url ?? '');
  const consume = () => {
    const fault = pending!.fault;
    pending = pending!.count > 1 ? { ...pending!, count: pending!.count - 1 } : undefined;
    applied[fault.kind] += 1;
    return fault;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (matches(req) && pending!.fault.kind === '429') {
      const fault = consume() as Extract<ProxyFault, { kind: '429' }>;
      log(
        `${new Date().toISOString()} proxy: ${req.method} ${req.url} answered 429 (Retry-After: ${fault.retryAfterSeconds})`,
      );
      req.resume();
      const body = JSON.stringify({
        response_status: {
          status_code: 4000,
          status: 'failed',
          messages: [{ status_code: 4015, type: 'failed', message: 'API rate limit reached' }],
        },
      });
      res.writeHead(429, {
        'Content-Type': 'application/json;charset=UTF-8',
        'Retry-After': String(fault.retryAfterSeconds),
      });
      res.end(body);
      return;
    }
    const mayDrop = matches(req) && pending!.fault.kind === 'drop-reply';
    const upstreamReq = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (upstreamRes) => {
        const status = upstreamRes.statusCode ?? 502;
        // Only a write that took effect loses its reply (another request may have taken the fault).
        if (mayDrop && status >= 200 && status < 300 && matches(req)) {
          consume();
          log(
            `${new Date().toISOString()} proxy: ${req.method} ${req.url} ${status} reply dropped`,
          );
          upstreamRes.resume();
          upstreamRes.once('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(status, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.once('error', () => req.socket.destroy());
    // A caller that gives up (its timeout) aborts the upstream request too.
    res.once('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
  });
  server.keepAliveTimeout = 1_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inject(count, method, pathPattern, fault) {
      pending = { count, method, pathPattern, fault };
    },
    applied,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
