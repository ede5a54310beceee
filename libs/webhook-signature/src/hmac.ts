import * as crypto from 'node:crypto';

/** Indirection so tests can prove when an HMAC is (not) computed. */
export const hmacEngine = {
  sha256(key: crypto.BinaryLike | crypto.KeyObject, ...parts: (string | Buffer)[]): Buffer {
    const mac = crypto.createHmac('sha256', key);
    for (const part of parts) mac.update(part);
    return mac.digest();
  },
};

/** Constant time for equal lengths; unequal lengths are simply unequal (never a throw). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
