import * as crypto from 'node:crypto';

/** Indirection so tests can prove when an HMAC is (not) computed. */
export const hmacEngine = {
  sha256(key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
    const mac = crypto.createHmac('sha256', key);
    for (const part of parts) mac.update(part);
    return mac.digest();
  },
};

/** Constant time for equal lengths; unequal lengths are simply unequal (timingSafeEqual would throw). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export type WebhookSignatureErrorCode = 'INVALID_SECRET';

/** Signing with an unusable secret is a configuration error; the message never shows the secret. */
export class WebhookSecretError extends Error {
  readonly code = 'INVALID_SECRET' satisfies WebhookSignatureErrorCode;

  constructor(message: string) {
    super(message);
    this.name = 'WebhookSecretError';
  }
}
