import { Controller, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import getRawBody from 'raw-body';
import { BodyReadError, ReceiveWebhook } from './receive-webhook.handler';
import { toHttpReply } from './webhook-outcome';

/** Builds the use case's input from HTTP and maps its outcome back. */
@Controller('webhook')
export class WebhookController {
  constructor(private readonly receiveWebhook: ReceiveWebhook) {}

  @Post('servicedesk')
  async receive(@Req() req: Request, @Res() res: Response): Promise<void> {
    const outcome = await this.receiveWebhook.execute({
      tenantIdParam: req.query['tenant_id'],
      contentType: req.headers['content-type'],
      // Repeated headers arrive as arrays: only a single value counts.
      header: (name) => {
        const value = req.headers[name];
        return typeof value === 'string' ? value : undefined;
      },
      readBody: (limit) => readBody(req, limit),
    });
    const reply = toHttpReply(outcome);
    if (reply.status === 413 && !req.complete) {
      // The rest of an oversized body is never read: close the connection.
      res.setHeader('Connection', 'close');
    }
    res
      .status(reply.status)
      .set(reply.headers ?? {})
      .json(reply.body);
  }
}

async function readBody(req: Request, limit: number): Promise<Buffer> {
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
