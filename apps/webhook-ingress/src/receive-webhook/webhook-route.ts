import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PinoLogger } from 'nestjs-pino';
import getRawBody from 'raw-body';
import { serveInFront } from '@tep/service-runtime';
import { BodyReadError, ReceiveWebhook } from './receive-webhook.handler';
import { toHttpReply } from './webhook-outcome';

/** The runbook's webhook path (step 4). */
export const WEBHOOK_PATH = '/webhook/servicedesk';

/**
 * The webhook route as a plain `node:http` handler in front of the
 * framework: it is the one request the platform serves thousands of times
 * a second, and Express routing, middleware and response helpers cost more
 * CPU than the work itself (docs/benchmarks.md). Everything else (health,
 * metrics, probes) stays on Nest. Installed when the module starts, so
 * every way of creating the app serves it.
 */
@Injectable()
export class WebhookRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly receiveWebhook: ReceiveWebhook,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(WebhookRoute.name);
  }

  onModuleInit(): void {
    serveInFront(
      this.adapterHost.httpAdapter.getHttpServer() as Server,
      webhookRoute(this.receiveWebhook, (error) =>
        this.logger.error(
          { err: error instanceof Error ? error.stack : String(error) },
          'Webhook route failed',
        ),
      ),
    );
  }
}

/** Answers and returns true for `POST /webhook/servicedesk`; false for any other request. */
export function webhookRoute(
  receiveWebhook: ReceiveWebhook,
  onBug: (error: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    if (req.method !== 'POST' || !isWebhookPath(queryAt < 0 ? url : url.slice(0, queryAt))) {
      return false;
    }
    const query = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
    receive(receiveWebhook, req, res, query).catch((error: unknown) => {
      // The use case turns every expected failure into an outcome; this is a bug.
      if (!res.headersSent) {
        send(res, 500, {
          status: 'rejected',
          error: 'internal_error',
          message: 'Internal error; nothing was accepted, retry later',
        });
      }
      onBug(error);
    });
    return true;
  };
}

/** As Express routes by default: case-insensitive, one trailing slash allowed. */
function isWebhookPath(path: string): boolean {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.length === WEBHOOK_PATH.length && trimmed.toLowerCase() === WEBHOOK_PATH;
}

async function receive(
  receiveWebhook: ReceiveWebhook,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const tenantIds = query.getAll('tenant_id');
  const outcome = await receiveWebhook.execute({
    // Repeated parameters arrive as an array, as the use case expects.
    tenantIdParam: tenantIds.length <= 1 ? tenantIds[0] : tenantIds,
    contentType: req.headers['content-type'],
    // Repeated headers arrive as arrays: only a single value counts.
    header: (name) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : undefined;
    },
    readBody: (limit) => readBody(req, limit),
  });
  const reply = toHttpReply(outcome);
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.status === 413 && !req.complete) {
    // The rest of an oversized body is never read: close the connection.
    headers['Connection'] = 'close';
  }
  send(res, reply.status, reply.body, headers);
}

function send(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
  });
  res.end(json);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit, length: req.headers['content-length'] });
  } catch (error) {
    const type = (error as { type?: string }).type;
    throw new BodyReadError(
      type === 'entity.too.large' ? 'too_large' : 'unreadable',
      error instanceof Error ? error.message : String(error),
    );
  }
}
