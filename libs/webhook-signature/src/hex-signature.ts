import { hmacEngine, safeEqual } from './hmac';

/** Our header (runbook step 4.3), lower-cased as Node presents headers. */
export const SERVICEDESK_SIGNATURE_HEADER = 'x-servicedesk-signature';
export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';

export type SignatureCheck =
  | { ok: true; matchedSecretIndex: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' | 'stale' | 'future' };

const MAX_HEX_HEADER_LENGTH = 2048;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** Bare hex HMAC-SHA256 of the body, as `openssl dgst -sha256 -hmac "$SECRET"` prints it. */
export function signHex(secret: string, body: Buffer | string): string {
  return hmacEngine.sha256(secret, body).toString('hex');
}

/**
 * `X-ServiceDesk-Signature: <hex>` (the runbook's form) or `sha256=<hex>`
 * (GitHub's), over the exact raw bytes, against every active secret (two
 * during a rotation). Secrets are the UTF-8 bytes of the secret string.
 */
export function verifyHexSignature(input: {
  rawBody: Buffer;
  signatureHeader: string | undefined;
  secrets: readonly string[];
}): SignatureCheck {
  const header = input.signatureHeader?.trim();
  if (!header) return { ok: false, reason: 'missing' };
  if (header.length > MAX_HEX_HEADER_LENGTH) return { ok: false, reason: 'malformed' };
  const hex = header.replace(/^sha256=/i, '');
  // A wrong-length or non-hex signature cannot match; never reaches timingSafeEqual.
  if (!SHA256_HEX.test(hex)) return { ok: false, reason: 'mismatch' };
  const presented = Buffer.from(hex, 'hex');
  let matched = -1;
  // Every secret is checked, so timing does not say which one matched.
  input.secrets.forEach((secret, index) => {
    if (safeEqual(hmacEngine.sha256(secret, input.rawBody), presented) && matched < 0)
      matched = index;
  });
  return matched >= 0
    ? { ok: true, matchedSecretIndex: matched }
    : { ok: false, reason: 'mismatch' };
}
