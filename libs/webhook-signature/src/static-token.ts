import { createHash, timingSafeEqual } from 'node:crypto';
import type { SignatureCheck } from './hex-signature';

/**
 * The weaker fallback for senders that cannot sign: the shared secret itself
 * in a header. Anyone who sees one request can forge more, so a tenant only
 * gets it by explicit choice. Compared as SHA-256 digests in constant time.
 */
export const STATIC_TOKEN_HEADER = 'x-servicedesk-token';

const MAX_TOKEN_LENGTH = 1024;
const digest = (value: string) => createHash('sha256').update(value).digest();

export function verifyStaticToken(input: {
  token: string | undefined;
  secrets: readonly string[];
}): SignatureCheck {
  const token = input.token?.trim();
  if (!token) return { ok: false, reason: 'missing' };
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const presented = digest(token);
  let matched = -1;
  input.secrets.forEach((secret, index) => {
    if (secret !== '' && timingSafeEqual(digest(secret), presented) && matched < 0) matched = index;
  });
  return matched >= 0
    ? { ok: true, matchedSecretIndex: matched }
    : { ok: false, reason: 'mismatch' };
}

/**
 * The Standard Webhooks form of a tenant's webhook secret: the same key
 * bytes (the secret's UTF-8), written as `whsec_<base64>`.
 */
export function standardWebhookSecretFor(secret: string): string {
  return `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
}
