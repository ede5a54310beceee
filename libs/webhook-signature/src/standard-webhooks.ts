import { hmacEngine, safeEqual } from './hmac';
import type { SignatureCheck } from './hex-signature';

/** Standard Webhooks v1.0.0 header names. */
export const STANDARD_WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

const DEFAULT_TOLERANCE_SECONDS = 300;
const MAX_SIGNATURE_HEADER_LENGTH = 8192;
const MAX_ID_LENGTH = 256;

/** `whsec_<base64>` → key bytes (a secret without the prefix is base64 too). */
export function standardWebhookKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

export function signStandardWebhook(input: {
  secret: string;
  id: string;
  timestamp: number | string;
  body: Buffer | string;
}): string {
  const mac = hmacEngine.sha256(
    standardWebhookKey(input.secret),
    `${input.id}.${input.timestamp}.`,
    input.body,
  );
  return `v1,${mac.toString('base64')}`;
}

export type StandardWebhookCheck =
  (SignatureCheck & { ok: false }) | { ok: true; matchedSecretIndex: number; webhookId: string };

/**
 * Verifies per the spec: the timestamp is checked first (more than the
 * tolerance old or ahead is refused without computing any HMAC), then any
 * `v1,` entry of the space-separated list may match any active secret. The
 * `webhook-id` is the sender's delivery id: the idempotency key.
 */
export function verifyStandardWebhook(input: {
  rawBody: Buffer;
  headers: { id?: string; timestamp?: string; signature?: string };
  secrets: readonly string[];
  now?: Date;
  toleranceSeconds?: number;
}): StandardWebhookCheck {
  const { id, timestamp, signature } = input.headers;
  if (!id || !timestamp || !signature) return { ok: false, reason: 'missing' };
  if (
    id.length > MAX_ID_LENGTH ||
    signature.length > MAX_SIGNATURE_HEADER_LENGTH ||
    !/^\d{1,12}$/.test(timestamp)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const sent = Number(timestamp);
  if (sent < now - tolerance) return { ok: false, reason: 'stale' };
  if (sent > now + tolerance) return { ok: false, reason: 'future' };

  const presented = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  if (presented.length === 0) return { ok: false, reason: 'malformed' };
  let matched = -1;
  input.secrets.forEach((secret, index) => {
    const expected = hmacEngine.sha256(
      standardWebhookKey(secret),
      `${id}.${timestamp}.`,
      input.rawBody,
    );
    if (presented.some((p) => safeEqual(expected, p)) && matched < 0) matched = index;
  });
  return matched >= 0
    ? { ok: true, matchedSecretIndex: matched, webhookId: id }
    : { ok: false, reason: 'mismatch' };
}
