import { WebhookSecretError, hmacEngine, safeEqual } from './hmac';

/** Our header (runbook step 4.3), lower-cased as Node presents headers. */
export const SERVICEDESK_SIGNATURE_HEADER = 'x-servicedesk-signature';
/** GitHub's header: `sha256=<hex>`. */
export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';

export type SignatureFailureReason = 'missing' | 'malformed' | 'mismatch';

export type SignatureCheck =
  { ok: true; matchedSecretIndex: number } | { ok: false; reason: SignatureFailureReason };

// Far above the 71 characters of `sha256=<64 hex>`; only bounds the work per request.
const MAX_HEX_HEADER_LENGTH = 2048;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** Bare hex HMAC-SHA256 of the body, as `openssl dgst -sha256 -hmac "$SECRET"` prints it. */
export function signHex(secret: string, body: Buffer | string): string {
  if (secret.length === 0) throw new WebhookSecretError('A webhook secret must not be empty');
  return hmacEngine.sha256(secret, body).toString('hex');
}

/**
 * `X-ServiceDesk-Signature: <hex>` (the runbook's form) or `sha256=<hex>`
 * (GitHub's), over the exact raw bytes, against every active secret (two
 * during a rotation). Secrets are the UTF-8 bytes of the secret string.
 * Never throws: anything a sender controls ends in a failure result.
 */
export function verifyHexSignature(input: {
  rawBody: Buffer;
  signatureHeader: string | undefined;
  secrets: readonly string[];
}): SignatureCheck {
  const header = input.signatureHeader;
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' };
  if (header.length > MAX_HEX_HEADER_LENGTH) return { ok: false, reason: 'malformed' };
  const hex = header.trim().replace(/^sha256=/i, '');
  // A wrong-length or non-hex value cannot be an HMAC-SHA256: refused before any HMAC.
  if (!SHA256_HEX.test(hex)) return { ok: false, reason: 'malformed' };
  const presented = Buffer.from(hex, 'hex');
  let matchedSecretIndex = -1;
  // Every secret is checked, so timing does not say which one matched.
  input.secrets.forEach((secret, index) => {
    // An empty secret would let anyone sign: never a match.
    if (secret.length === 0) return;
    const matches = safeEqual(hmacEngine.sha256(secret, input.rawBody), presented);
    if (matches && matchedSecretIndex < 0) matchedSecretIndex = index;
  });
  return matchedSecretIndex >= 0
    ? { ok: true, matchedSecretIndex }
    : { ok: false, reason: 'mismatch' };
}
