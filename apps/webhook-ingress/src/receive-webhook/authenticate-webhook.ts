import {
  SERVICEDESK_SIGNATURE_HEADER,
  STANDARD_WEBHOOK_HEADERS,
  STATIC_TOKEN_HEADER,
  standardWebhookSecretFor,
  verifyHexSignature,
  verifyStandardWebhook,
  verifyStaticToken,
} from '@tep/webhook-signature';

export type HeaderReader = (name: string) => string | undefined;

export type Authentication =
  | {
      ok: true;
      method: 'hmac' | 'standard_webhooks' | 'static_header';
      matchedSecretIndex: number;
      /** The sender's delivery id (Standard Webhooks), the idempotency key. */
      deliveryId?: string;
    }
  | {
      ok: false;
      reason: 'signature_invalid' | 'timestamp_out_of_tolerance';
      method: string;
      detail: string;
    };

/** True when the request carries any credential we know, before any tenant lookup. */
export function hasCredential(header: HeaderReader): boolean {
  return [
    SERVICEDESK_SIGNATURE_HEADER,
    STANDARD_WEBHOOK_HEADERS.signature,
    STATIC_TOKEN_HEADER,
  ].some((name) => (header(name) ?? '').trim() !== '');
}

/**
 * Checks the credential the request carries against the tenant's active
 * secrets: a Standard Webhooks signature (timestamp checked first), our
 * X-ServiceDesk-Signature HMAC, or — only for tenants explicitly switched
 * to it — the static X-ServiceDesk-Token.
 */
export function authenticateWebhook(input: {
  scheme: 'hmac' | 'static_header';
  secrets: readonly string[];
  rawBody: Buffer;
  header: HeaderReader;
  now?: Date;
}): Authentication {
  const { header, rawBody, secrets } = input;
  if (header(STANDARD_WEBHOOK_HEADERS.signature)) {
    const check = verifyStandardWebhook({
      rawBody,
      headers: {
        id: header(STANDARD_WEBHOOK_HEADERS.id),
        timestamp: header(STANDARD_WEBHOOK_HEADERS.timestamp),
        signature: header(STANDARD_WEBHOOK_HEADERS.signature),
      },
      secrets: secrets.map(standardWebhookSecretFor),
      now: input.now,
    });
    if (check.ok)
      return {
        ok: true,
        method: 'standard_webhooks',
        matchedSecretIndex: check.matchedSecretIndex,
        deliveryId: check.webhookId,
      };
    return check.reason === 'stale' || check.reason === 'future'
      ? {
          ok: false,
          reason: 'timestamp_out_of_tolerance',
          method: 'standard_webhooks',
          detail: `webhook-timestamp is ${check.reason}`,
        }
      : {
          ok: false,
          reason: 'signature_invalid',
          method: 'standard_webhooks',
          detail: check.reason,
        };
  }
  if (header(SERVICEDESK_SIGNATURE_HEADER)) {
    const check = verifyHexSignature({
      rawBody,
      signatureHeader: header(SERVICEDESK_SIGNATURE_HEADER),
      secrets,
    });
    return check.ok
      ? { ok: true, method: 'hmac', matchedSecretIndex: check.matchedSecretIndex }
      : { ok: false, reason: 'signature_invalid', method: 'hmac', detail: check.reason };
  }
  if (input.scheme !== 'static_header') {
    return {
      ok: false,
      reason: 'signature_invalid',
      method: 'static_header',
      detail: 'tenant requires signed webhooks',
    };
  }
  const check = verifyStaticToken({ token: header(STATIC_TOKEN_HEADER), secrets });
  return check.ok
    ? { ok: true, method: 'static_header', matchedSecretIndex: check.matchedSecretIndex }
    : { ok: false, reason: 'signature_invalid', method: 'static_header', detail: check.reason };
}
