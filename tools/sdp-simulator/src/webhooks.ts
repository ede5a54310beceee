import { createHmac } from 'node:crypto';
import { z } from 'zod';

export const DEFAULT_SIGNATURE_HEADER = 'X-ServiceDesk-Signature';

export const webhookRequestSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  secret: z.string().min(1),
  /** A JSON value is serialised once; a string is sent byte for byte (e.g. to test odd formatting). */
  payload: z.unknown().refine((p) => p !== undefined, 'payload is required'),
  signatureHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .default(DEFAULT_SIGNATURE_HEADER),
  timeoutMs: z.number().int().positive().max(60_000).default(10_000),
});

export type WebhookRequest = z.input<typeof webhookRequestSchema>;

export interface WebhookResult {
  status: number;
  body: string;
  /** The exact bytes sent (UTF-8) and their hex HMAC-SHA256. */
  sentBody: string;
  signature: string;
}

/** Hex HMAC-SHA256 with the secret's UTF-8 bytes as the key. */
export function signWebhookBody(secret: string, body: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

/**
 * Delivers a webhook as a configured SDP would (with the signing our
 * runbook asks tenants to add): the body is serialised once and exactly
 * those bytes are signed and sent.
 */
export async function sendWebhook(request: WebhookRequest): Promise<WebhookResult> {
  const { url, secret, payload, signatureHeader, timeoutMs } = webhookRequestSchema.parse(request);
  const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  const signature = signWebhookBody(secret, body);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', [signatureHeader]: signature },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  return {
    status: response.status,
    body: await response.text(),
    sentBody: body.toString('utf8'),
    signature,
  };
}
