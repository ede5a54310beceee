import { WebhookSecretError, hmacEngine, safeEqual } from './hmac';
import type { SignatureFailureReason } from './hex-signature';

/** Standard Webhooks v1.0.0 header names, lower-cased as Node presents headers. */
export const STANDARD_WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

const DEFAULT_TOLERANCE_SECONDS = 300;
// Room for many `v1,<44 base64>` entries during a rotation, but bounded work per request.
const MAX_SIGNATURE_HEADER_LENGTH = 8192;
const MAX_ID_LENGTH = 256;
const UNIX_SECONDS = /^\d{1,12}$/;
// Standard base64, padding optional (some senders strip it).
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** `whsec_<base64>` (or bare base64) → key bytes; undefined when it is not that. */
function decodeSecret(secret: string): Buffer | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (encoded.length === 0 || !BASE64.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64');
}

/** The HMAC key of a Standard Webhooks secret; throws INVALID_SECRET (without the secret) if unusable. */
export function standardWebhookKey(secret: string): Buffer {
  const key = decodeSecret(secret);
  if (!key) {
    throw new WebhookSecretError('A Standard Webhooks secret must be whsec_ followed by base64');
  }
  return key;
}

function standardWebhookMac(key: Buffer, id: string, timestamp: string, body: Buffer | string) {
  return hmacEngine.sha256(key, `${id}.${timestamp}.`, body);
}

/** The `v1,<base64>` entry for the `webhook-signature` header. */
export function signStandardWebhook(input: {
  secret: string;
  id: string;
  timestamp: number | string;
  body: Buffer | string;
}): string {
  const key = standardWebhookKey(input.secret);
  const mac = standardWebhookMac(key, input.id, String(input.timestamp), input.body);
  return `v1,${mac.toString('base64')}`;
}

export type StandardWebhookFailureReason = SignatureFailureReason | 'stale' | 'future';

export type StandardWebhookCheck =
  | { ok: true; matchedSecretIndex: number; webhookId: string }
  | { ok: false; reason: StandardWebhookFailureReason };

/**
 * Verifies per the spec: the timestamp is checked first (more than the
 * tolerance old or ahead is refused without computing any HMAC), then any
 * `v1,` entry of the space-separated list may match any active secret. The
 * `webhook-id` is the sender's delivery id: the idempotency key.
 * Never throws: anything a sender controls ends in a failure result.
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
    !UNIX_SECONDS.test(timestamp)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const sent = Number(timestamp);
  // "Accept only inside the window": a NaN clock or tolerance refuses instead of skipping the check.
  if (!(sent >= now - tolerance)) return { ok: false, reason: 'stale' };
  if (!(sent <= now + tolerance)) return { ok: false, reason: 'future' };

  const presented = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice('v1,'.length), 'base64'));
  if (presented.length === 0) return { ok: false, reason: 'malformed' };
  let matchedSecretIndex = -1;
  // Every secret is checked, so timing does not say which one matched.
  input.secrets.forEach((secret, index) => {
    const key = decodeSecret(secret);
    // An unusable or empty key would let anyone sign: never a match.
    if (!key || key.length === 0) return;
    // The header's timestamp text is what was signed, not a re-serialised number.
    const expected = standardWebhookMac(key, id, timestamp, input.rawBody);
    const matches = presented.some((candidate) => safeEqual(expected, candidate));
    if (matches && matchedSecretIndex < 0) matchedSecretIndex = index;
  });
  return matchedSecretIndex >= 0
    ? { ok: true, matchedSecretIndex, webhookId: id }
    : { ok: false, reason: 'mismatch' };
}
