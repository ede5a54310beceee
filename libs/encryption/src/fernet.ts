import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { inspect } from 'node:util';

/**
 * Fernet (https://github.com/fernet/spec), byte-compatible with Python's
 * `cryptography.fernet`: operators decrypt our tokens in the runbook's
 * troubleshooting steps.
 *
 * token = base64url(0x80 ‖ timestamp(8, BE) ‖ IV(16) ‖ AES-128-CBC(ct) ‖ HMAC-SHA256(all before))
 */
const VERSION = 0x80;
const MAX_CLOCK_SKEW_SECONDS = 60;
const MIN_TOKEN_BYTES = 1 + 8 + 16 + 16 + 32;

export class InvalidTokenError extends Error {
  readonly code = 'INVALID_TOKEN';
  /** Not secret; for tests and debugging only, never shown to callers. */
  constructor(readonly reason: string) {
    super('Invalid Fernet token');
    this.name = 'InvalidTokenError';
  }
}

export class InvalidKeyError extends Error {
  readonly code = 'INVALID_KEY';
  constructor() {
    super('A Fernet key must be 32 url-safe base64-encoded bytes');
    this.name = 'InvalidKeyError';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}

/** base64url with `=` padding, as Python's urlsafe_b64encode writes it. */
function encodeBase64Url(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

const REDACTED = '[Fernet key redacted]';

export interface DecryptOptions {
  ttlSeconds?: number;
  now?: Date;
}

export class Fernet {
  readonly #signingKey: Buffer;
  readonly #encryptionKey: Buffer;

  constructor(key: string) {
    const raw = decodeBase64Url(key.trim());
    if (!raw || raw.length !== 32) throw new InvalidKeyError();
    this.#signingKey = raw.subarray(0, 16);
    this.#encryptionKey = raw.subarray(16);
  }

  static generateKey(): string {
    return encodeBase64Url(randomBytes(32));
  }

  encrypt(plaintext: string | Buffer, options: { now?: Date; iv?: Buffer } = {}): string {
    return this.encryptAt(
      plaintext,
      Math.floor((options.now ?? new Date()).getTime() / 1000),
      options.iv,
    );
  }

  /** Used by rotation, which must keep the original timestamp. */
  encryptAt(
    plaintext: string | Buffer,
    timestampSeconds: number,
    iv: Buffer = randomBytes(16),
  ): string {
    const header = Buffer.alloc(9);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(timestampSeconds), 1);
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv);
    const body = Buffer.concat([header, iv, cipher.update(plaintext), cipher.final()]);
    const mac = createHmac('sha256', this.#signingKey).update(body).digest();
    return encodeBase64Url(Buffer.concat([body, mac]));
  }

  decrypt(token: string, options: DecryptOptions = {}): Buffer {
    return this.decryptWithTimestamp(token, options).plaintext;
  }

  decryptString(token: string, options: DecryptOptions = {}): string {
    return this.decrypt(token, options).toString('utf8');
  }

  /** Verification order from the spec: format, time, then MAC, then decrypt. */
  decryptWithTimestamp(
    token: string,
    options: DecryptOptions = {},
  ): { plaintext: Buffer; timestamp: number } {
    const data = decodeBase64Url(token);
    if (!data) throw new InvalidTokenError('not base64url');
    if (data.length < MIN_TOKEN_BYTES || (data.length - 57) % 16 !== 0) {
      throw new InvalidTokenError('wrong length');
    }
    if (data[0] !== VERSION) throw new InvalidTokenError('unknown version');
    const timestamp = Number(data.readBigUInt64BE(1));
    const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
    if (timestamp > now + MAX_CLOCK_SKEW_SECONDS)
      throw new InvalidTokenError('timestamp in the future');
    if (options.ttlSeconds !== undefined && timestamp + options.ttlSeconds < now) {
      throw new InvalidTokenError('expired');
    }
    const body = data.subarray(0, data.length - 32);
    const expected = createHmac('sha256', this.#signingKey).update(body).digest();
    if (!timingSafeEqual(expected, data.subarray(data.length - 32)))
      throw new InvalidTokenError('bad MAC');
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, body.subarray(9, 25));
      return {
        plaintext: Buffer.concat([decipher.update(body.subarray(25)), decipher.final()]),
        timestamp,
      };
    } catch {
      throw new InvalidTokenError('bad padding');
    }
  }

  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Several keys: the first encrypts, any decrypts (key rotation without downtime). */
export class MultiFernet {
  readonly #keys: Fernet[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new InvalidKeyError();
    this.#keys = keys.map((k) => new Fernet(k));
  }

  encrypt(plaintext: string | Buffer): string {
    return this.#keys[0].encrypt(plaintext);
  }

  decrypt(token: string, options: DecryptOptions = {}): Buffer {
    return this.decryptWithTimestamp(token, options).plaintext;
  }

  decryptString(token: string, options: DecryptOptions = {}): string {
    return this.decrypt(token, options).toString('utf8');
  }

  /** Index of the key that decrypted, for rotation decisions. */
  decryptWithTimestamp(
    token: string,
    options: DecryptOptions = {},
  ): { plaintext: Buffer; timestamp: number; keyIndex: number } {
    for (const [keyIndex, key] of this.#keys.entries()) {
      try {
        return { ...key.decryptWithTimestamp(token, options), keyIndex };
      } catch (error) {
        if (!(error instanceof InvalidTokenError)) throw error;
      }
    }
    throw new InvalidTokenError('no key matched');
  }

  /** Re-encrypts under the first key, keeping the token's original timestamp. */
  rotate(token: string): string {
    const { plaintext, timestamp } = this.decryptWithTimestamp(token);
    return this.#keys[0].encryptAt(plaintext, timestamp);
  }

  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}
