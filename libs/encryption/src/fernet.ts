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
 * `cryptography.fernet`: operators decrypt our tokens with it in the
 * runbook's troubleshooting steps.
 *
 * key   = base64url(signing key(16) ‖ encryption key(16))
 * token = base64url(0x80 ‖ timestamp(8, BE) ‖ IV(16) ‖ AES-128-CBC(PKCS7) ‖ HMAC-SHA256(all before))
 */
const VERSION = 0x80;
const HEADER_BYTES = 1 + 8;
const IV_BYTES = 16;
const BLOCK_BYTES = 16;
const MAC_BYTES = 32;
const MIN_TOKEN_BYTES = HEADER_BYTES + IV_BYTES + BLOCK_BYTES + MAC_BYTES;
const MAX_CLOCK_SKEW_SECONDS = 60;

export type EncryptionErrorCode = 'INVALID_TOKEN' | 'INVALID_KEY' | 'MISSING_KEY';

/** Which check refused a token: for tests and debugging, never shown to callers. */
export type InvalidTokenReason =
  | 'malformed'
  | 'unsupported-version'
  | 'expired'
  | 'future-timestamp'
  | 'bad-signature'
  | 'bad-padding'
  | 'no-matching-key';

/** The single error for every refused token, so callers learn nothing about which check failed. */
export class InvalidTokenError extends Error {
  readonly code = 'INVALID_TOKEN' satisfies EncryptionErrorCode;
  declare readonly reason: InvalidTokenReason;

  constructor(reason: InvalidTokenReason) {
    super('Invalid Fernet token');
    this.name = 'InvalidTokenError';
    // Not enumerable: loggers and JSON serialisers that walk the error do not print it.
    Object.defineProperty(this, 'reason', { value: reason, enumerable: false });
  }
}

/** A missing or unusable key; the message never contains key material. */
export class EncryptionKeyError extends Error {
  constructor(
    readonly code: Extract<EncryptionErrorCode, 'INVALID_KEY' | 'MISSING_KEY'>,
    message = code === 'MISSING_KEY'
      ? 'At least one Fernet key is required'
      : 'A Fernet key must be 32 url-safe base64-encoded bytes',
  ) {
    super(message);
    this.name = 'EncryptionKeyError';
  }
}

const BASE64URL_ALPHABET = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url: only the url-safe alphabet, `=` padding either absent or
 * exactly completing the last quartet, and a canonical encoding (the
 * round-trip rejects impossible lengths and stray bits that Buffer ignores).
 */
function decodeBase64Url(text: string): Buffer | undefined {
  const unpadded = text.replace(/=+$/, '');
  const paddingLength = text.length - unpadded.length;
  if (!BASE64URL_ALPHABET.test(unpadded)) return undefined;
  if (paddingLength > 2 || (paddingLength > 0 && text.length % 4 !== 0)) return undefined;
  const bytes = Buffer.from(unpadded, 'base64url');
  return bytes.toString('base64url') === unpadded ? bytes : undefined;
}

/** base64url with `=` padding, as Python's urlsafe_b64encode writes it. */
function encodeBase64Url(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export interface EncryptOptions {
  /** Timestamp to record; for reproducing spec vectors. */
  now?: Date;
  /** Fixed IV; for reproducing spec vectors only, never in production. */
  iv?: Buffer;
}

export interface DecryptOptions {
  /** Maximum token age; without it the timestamp is not checked (as in Python). */
  ttlSeconds?: number;
  now?: Date;
}

interface UnverifiedToken {
  /** Everything the MAC covers. */
  signed: Buffer;
  mac: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  timestamp: number;
}

/**
 * The key-independent checks, in the spec's order and all before any HMAC:
 * encoding, length, version, then the time window.
 */
function parseToken(token: string, options: DecryptOptions): UnverifiedToken {
  const data = decodeBase64Url(token);
  if (!data || data.length < MIN_TOKEN_BYTES) throw new InvalidTokenError('malformed');
  if (data[0] !== VERSION) throw new InvalidTokenError('unsupported-version');
  if ((data.length - HEADER_BYTES - IV_BYTES - MAC_BYTES) % BLOCK_BYTES !== 0) {
    throw new InvalidTokenError('malformed');
  }
  const timestamp = Number(data.readBigUInt64BE(1));
  // Like Python's cryptography, the time window applies only when a TTL is
  // asked for: credentials at rest have none and must survive a fast clock
  // on the host that wrote them. Written as "accept only inside" so that a
  // NaN (invalid Date or TTL) refuses instead of skipping the check.
  if (options.ttlSeconds !== undefined) {
    const now = unixSeconds(options.now ?? new Date());
    if (!(timestamp + options.ttlSeconds >= now)) throw new InvalidTokenError('expired');
    if (!(timestamp <= now + MAX_CLOCK_SKEW_SECONDS)) {
      throw new InvalidTokenError('future-timestamp');
    }
  }
  const macStart = data.length - MAC_BYTES;
  return {
    signed: data.subarray(0, macStart),
    mac: data.subarray(macStart),
    iv: data.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES),
    ciphertext: data.subarray(HEADER_BYTES + IV_BYTES, macStart),
    timestamp,
  };
}

/** One signing + encryption key pair; shared by Fernet and MultiFernet. */
class FernetKey {
  readonly #signingKey: Buffer;
  readonly #encryptionKey: Buffer;

  constructor(key: string) {
    const raw = decodeBase64Url(key.trim());
    if (!raw || raw.length !== 32) throw new EncryptionKeyError('INVALID_KEY');
    this.#signingKey = raw.subarray(0, 16);
    this.#encryptionKey = raw.subarray(16);
  }

  seal(plaintext: string | Buffer, timestamp: number, iv: Buffer = randomBytes(IV_BYTES)): string {
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(timestamp), 1);
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv);
    const signed = Buffer.concat([header, iv, cipher.update(plaintext), cipher.final()]);
    const mac = createHmac('sha256', this.#signingKey).update(signed).digest();
    return encodeBase64Url(Buffer.concat([signed, mac]));
  }

  /** MAC first, in constant time; only an authentic token is decrypted. */
  open(token: UnverifiedToken): Buffer {
    const expected = createHmac('sha256', this.#signingKey).update(token.signed).digest();
    // timingSafeEqual throws on unequal lengths; parseToken guarantees 32, but never rely on it.
    if (expected.length !== token.mac.length || !timingSafeEqual(expected, token.mac)) {
      throw new InvalidTokenError('bad-signature');
    }
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, token.iv);
      return Buffer.concat([decipher.update(token.ciphertext), decipher.final()]);
    } catch {
      throw new InvalidTokenError('bad-padding');
    }
  }
}

const REDACTED_FERNET = '[Fernet: key redacted]';
const REDACTED_MULTI_FERNET = '[MultiFernet: keys redacted]';

export class Fernet {
  readonly #key: FernetKey;

  constructor(key: string) {
    this.#key = new FernetKey(key);
  }

  static generateKey(): string {
    return encodeBase64Url(randomBytes(32));
  }

  encrypt(plaintext: string | Buffer, options: EncryptOptions = {}): string {
    return this.#key.seal(plaintext, unixSeconds(options.now ?? new Date()), options.iv);
  }

  decrypt(token: string, options: DecryptOptions = {}): Buffer {
    return this.#key.open(parseToken(token, options));
  }

  decryptString(token: string, options: DecryptOptions = {}): string {
    return this.decrypt(token, options).toString('utf8');
  }

  /** Unix seconds recorded in an authentic token (like Python's extract_timestamp). */
  extractTimestamp(token: string): number {
    const parsed = parseToken(token, {});
    this.#key.open(parsed);
    return parsed.timestamp;
  }

  toString(): string {
    return REDACTED_FERNET;
  }
  toJSON(): string {
    return REDACTED_FERNET;
  }
  [inspect.custom](): string {
    return REDACTED_FERNET;
  }
}

export interface DecryptedToken {
  plaintext: Buffer;
  /** Unix seconds recorded when the token was made. */
  timestamp: number;
  /** Which key (0 = current) decrypted it: anything else needs rotation. */
  keyIndex: number;
}

/** Several keys: the first encrypts, any decrypts (key rotation without downtime). */
export class MultiFernet {
  readonly #keys: FernetKey[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new EncryptionKeyError('MISSING_KEY');
    this.#keys = keys.map((key) => new FernetKey(key));
  }

  encrypt(plaintext: string | Buffer, options: EncryptOptions = {}): string {
    return this.#currentKey.seal(plaintext, unixSeconds(options.now ?? new Date()), options.iv);
  }

  decrypt(token: string, options: DecryptOptions = {}): Buffer {
    return this.decryptWithMetadata(token, options).plaintext;
  }

  decryptString(token: string, options: DecryptOptions = {}): string {
    return this.decrypt(token, options).toString('utf8');
  }

  decryptWithMetadata(token: string, options: DecryptOptions = {}): DecryptedToken {
    // Format and time do not depend on the key: one failure there is final.
    const parsed = parseToken(token, options);
    for (const [keyIndex, key] of this.#keys.entries()) {
      try {
        return { plaintext: key.open(parsed), timestamp: parsed.timestamp, keyIndex };
      } catch (error) {
        if (!(error instanceof InvalidTokenError)) throw error;
      }
    }
    throw new InvalidTokenError('no-matching-key');
  }

  extractTimestamp(token: string): number {
    return this.decryptWithMetadata(token).timestamp;
  }

  /** Re-encrypts under the first key, keeping the token's original timestamp (as Python does). */
  rotate(token: string): string {
    const { plaintext, timestamp } = this.decryptWithMetadata(token);
    return this.#currentKey.seal(plaintext, timestamp);
  }

  get #currentKey(): FernetKey {
    return this.#keys[0];
  }

  toString(): string {
    return REDACTED_MULTI_FERNET;
  }
  toJSON(): string {
    return REDACTED_MULTI_FERNET;
  }
  [inspect.custom](): string {
    return REDACTED_MULTI_FERNET;
  }
}
