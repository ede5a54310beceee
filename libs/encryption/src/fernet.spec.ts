import { inspect } from 'node:util';
// In-repo copies of the spec's vectors (github.com/fernet/spec): CI clones this repo alone.
import generate from './test-vectors/fernet/generate.json';
import invalid from './test-vectors/fernet/invalid.json';
import verify from './test-vectors/fernet/verify.json';
import {
  EncryptionKeyError,
  Fernet,
  InvalidTokenError,
  MultiFernet,
  SecretCipher,
  type InvalidTokenReason,
} from './index';

/** Runs `action`, which must throw, and returns the error for exact assertions. */
function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function invalidTokenReason(action: () => unknown): InvalidTokenReason {
  const error = thrownBy(action);
  expect(error).toBeInstanceOf(InvalidTokenError);
  const tokenError = error as InvalidTokenError;
  expect(tokenError.code).toBe('INVALID_TOKEN');
  expect(tokenError.message).toBe('Invalid Fernet token');
  return tokenError.reason;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

/** A token for `key` whose MAC is broken (last MAC byte flipped). */
function withBrokenMac(token: string): string {
  const bytes = Buffer.from(token, 'base64url');
  bytes[bytes.length - 1] ^= 0x01;
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

describe('Fernet spec vectors', () => {
  it('has the spec vector files with their full contents', () => {
    expect([generate.length, verify.length, invalid.length]).toEqual([1, 1, 8]);
  });

  it.each(generate)('generate: reproduces the spec token for "$src"', (vector) => {
    const token = new Fernet(vector.secret).encrypt(vector.src, {
      now: new Date(vector.now),
      iv: Buffer.from(vector.iv),
    });
    expect(token).toBe(vector.token);
  });

  it.each(verify)('verify: decrypts the spec token to "$src"', (vector) => {
    const plaintext = new Fernet(vector.secret).decryptString(vector.token, {
      now: new Date(vector.now),
      ttlSeconds: vector.ttl_sec,
    });
    expect(plaintext).toBe(vector.src);
  });

  const expectedReasons: Record<string, InvalidTokenReason> = {
    'incorrect mac': 'bad-signature',
    'too short': 'malformed',
    'invalid base64': 'malformed',
    'payload size not multiple of block size': 'malformed',
    'payload padding error': 'bad-padding',
    'far-future TS (unacceptable clock skew)': 'future-timestamp',
    'expired TTL': 'expired',
    'incorrect IV (causes padding error)': 'bad-padding',
  };

  it.each(invalid)('invalid: rejects "$desc" with INVALID_TOKEN', (vector) => {
    const fernet = new Fernet(vector.secret);
    const reason = invalidTokenReason(() =>
      fernet.decrypt(vector.token, { now: new Date(vector.now), ttlSeconds: vector.ttl_sec }),
    );
    expect(reason).toBe(expectedReasons[vector.desc]);
  });
});

describe('Fernet', () => {
  const vector = verify[0];
  const key = Fernet.generateKey();

  it('generates 32-byte keys, padded base64url like Python, different each time', () => {
    const other = Fernet.generateKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    expect(other).not.toBe(key);
  });

  it('round-trips binary and empty plaintexts with a fresh IV per token', () => {
    const fernet = new Fernet(key);
    const binary = Buffer.from([0, 255, 128, 10, 13]);
    const first = fernet.encrypt(binary);
    const second = fernet.encrypt(binary);
    expect(first).not.toBe(second);
    expect(first.startsWith('gAAAAA')).toBe(true);
    expect(fernet.decrypt(first)).toEqual(binary);
    expect(fernet.decrypt(second)).toEqual(binary);
    expect(fernet.decryptString(fernet.encrypt(''))).toBe('');
    expect(fernet.decryptString(fernet.encrypt('pässwörd ✓'))).toBe('pässwörd ✓');
  });

  it('records the encryption time', () => {
    const fernet = new Fernet(key);
    const token = fernet.encrypt('x', { now: new Date('2025-01-01T00:00:00Z') });
    expect(fernet.extractTimestamp(token)).toBe(seconds('2025-01-01T00:00:00Z'));
  });

  it('accepts the key with or without padding and surrounding whitespace', () => {
    const unpadded = vector.secret.replace(/=+$/, '');
    for (const form of [vector.secret, unpadded, ` ${vector.secret}\n`]) {
      expect(new Fernet(form).decryptString(vector.token)).toBe('hello');
    }
  });

  it.each([
    ['31 bytes', Buffer.alloc(31, 7).toString('base64url')],
    ['33 bytes', Buffer.alloc(33, 7).toString('base64url')],
    ['standard base64 alphabet', Buffer.alloc(32, 0xfb).toString('base64')],
    ['empty', ''],
  ])('rejects a key of %s with INVALID_KEY, without echoing it', (_case, badKey) => {
    const error = thrownBy(() => new Fernet(badKey));
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect((error as EncryptionKeyError).code).toBe('INVALID_KEY');
    if (badKey) expect((error as Error).message).not.toContain(badKey);
  });

  describe('strict token decoding', () => {
    const fernet = new Fernet(vector.secret);
    const decryptAtVectorTime = (token: string) =>
      fernet.decryptString(token, { now: new Date(vector.now), ttlSeconds: vector.ttl_sec });

    it('accepts the token without its padding', () => {
      expect(decryptAtVectorTime(vector.token.replace(/=+$/, ''))).toBe('hello');
    });

    it.each([
      ['a third padding character', `${vector.token}=`],
      ['padding that does not complete the quartet', vector.token.replace(/==$/, '=')],
      ['a standard-base64 character', vector.token.replace('_', '/')],
      ['whitespace', `${vector.token}\n`],
      ['non-canonical trailing bits', vector.token.replace(/A==$/, 'B==')],
      ['nothing at all', ''],
    ])('rejects a token with %s as malformed', (_case, token) => {
      expect(token).not.toBe(vector.token);
      expect(invalidTokenReason(() => decryptAtVectorTime(token))).toBe('malformed');
    });

    it('rejects another version byte', () => {
      const bytes = Buffer.from(vector.token, 'base64url');
      bytes[0] = 0x81;
      const token = bytes.toString('base64url');
      expect(invalidTokenReason(() => decryptAtVectorTime(token))).toBe('unsupported-version');
    });
  });

  describe('time checks', () => {
    const fernet = new Fernet(key);
    const madeAt = new Date('2025-01-01T00:00:00Z');
    const later = (s: number) => new Date(madeAt.getTime() + s * 1000);
    const token = fernet.encrypt('x', { now: madeAt });

    it('applies the TTL inclusively and the 60 s clock skew only with a TTL, as Python does', () => {
      expect(fernet.decryptString(token, { now: later(60), ttlSeconds: 60 })).toBe('x');
      expect(
        invalidTokenReason(() => fernet.decrypt(token, { now: later(61), ttlSeconds: 60 })),
      ).toBe('expired');
      expect(fernet.decryptString(token, { now: later(-60), ttlSeconds: 60 })).toBe('x');
      expect(
        invalidTokenReason(() => fernet.decrypt(token, { now: later(-61), ttlSeconds: 60 })),
      ).toBe('future-timestamp');
      // Without a TTL (credentials at rest) a writer's fast clock must not lock readers out.
      expect(fernet.decryptString(token, { now: later(-3600) })).toBe('x');
      expect(fernet.decryptString(token, { now: later(10 * 365 * 86400) })).toBe('x');
    });

    it('checks the time window before the MAC', () => {
      const forged = withBrokenMac(token);
      expect(invalidTokenReason(() => fernet.decrypt(forged))).toBe('bad-signature');
      expect(
        invalidTokenReason(() => fernet.decrypt(forged, { now: later(61), ttlSeconds: 60 })),
      ).toBe('expired');
      expect(
        invalidTokenReason(() => fernet.decrypt(forged, { now: later(-61), ttlSeconds: 60 })),
      ).toBe('future-timestamp');
    });

    it('refuses rather than skips the check when the clock or TTL is not a number', () => {
      expect(
        invalidTokenReason(() =>
          fernet.decrypt(token, { now: new Date('nonsense'), ttlSeconds: 60 }),
        ),
      ).toBe('expired');
      expect(invalidTokenReason(() => fernet.decrypt(token, { ttlSeconds: Number.NaN }))).toBe(
        'expired',
      );
    });
  });

  it('rejects a token made with another key as bad-signature', () => {
    const token = new Fernet(Fernet.generateKey()).encrypt('x');
    expect(invalidTokenReason(() => new Fernet(key).decrypt(token))).toBe('bad-signature');
  });

  it('keeps the reason out of what loggers and serialisers print', () => {
    const error = thrownBy(() =>
      new Fernet(key).decrypt(withBrokenMac(new Fernet(key).encrypt('x'))),
    );
    expect((error as InvalidTokenError).reason).toBe('bad-signature');
    expect(JSON.stringify(error)).toBe('{"code":"INVALID_TOKEN","name":"InvalidTokenError"}');
    expect(inspect(error)).not.toContain('bad-signature');
  });
});

describe('MultiFernet', () => {
  const oldKey = Fernet.generateKey();
  const newKey = Fernet.generateKey();

  it('encrypts with the first key and decrypts with any, reporting which', () => {
    const before = new MultiFernet([oldKey]).encrypt('SDPAPI_ABC123XYZ456');
    const during = new MultiFernet([newKey, oldKey]);
    const decrypted = during.decryptWithMetadata(before);
    expect(decrypted.plaintext.toString()).toBe('SDPAPI_ABC123XYZ456');
    expect(decrypted.keyIndex).toBe(1);

    const fresh = during.encrypt('x');
    expect(new Fernet(newKey).decryptString(fresh)).toBe('x');
    expect(during.decryptWithMetadata(fresh).keyIndex).toBe(0);
    expect(invalidTokenReason(() => new Fernet(oldKey).decrypt(fresh))).toBe('bad-signature');
  });

  it('reproduces the spec vector through the first key', () => {
    const [vector] = generate;
    const token = new MultiFernet([vector.secret, oldKey]).encrypt(vector.src, {
      now: new Date(vector.now),
      iv: Buffer.from(vector.iv),
    });
    expect(token).toBe(vector.token);
  });

  it('rotates to the first key keeping the original timestamp', () => {
    const madeAt = new Date('2025-01-01T00:00:00Z');
    const made = new Fernet(oldKey).encrypt('secret', { now: madeAt });
    const rotated = new MultiFernet([newKey, oldKey]).rotate(made);
    const rotatedFernet = new Fernet(newKey);
    expect(rotatedFernet.decryptString(rotated)).toBe('secret');
    expect(rotatedFernet.extractTimestamp(rotated)).toBe(seconds('2025-01-01T00:00:00Z'));
    expect(invalidTokenReason(() => new Fernet(oldKey).decrypt(rotated))).toBe('bad-signature');
  });

  it('refuses tokens no key decrypts, and format or time failures once for all keys', () => {
    const multi = new MultiFernet([newKey, oldKey]);
    const foreign = new Fernet(Fernet.generateKey()).encrypt('x');
    expect(invalidTokenReason(() => multi.decrypt(foreign))).toBe('no-matching-key');
    expect(invalidTokenReason(() => multi.rotate(foreign))).toBe('no-matching-key');
    expect(invalidTokenReason(() => multi.decrypt('not a token'))).toBe('malformed');
    const old = new Fernet(oldKey).encrypt('x', { now: new Date('2025-01-01T00:00:00Z') });
    expect(
      invalidTokenReason(() =>
        multi.decrypt(old, { ttlSeconds: 60, now: new Date('2025-01-01T01:00:00Z') }),
      ),
    ).toBe('expired');
  });

  it('needs at least one valid key', () => {
    const none = thrownBy(() => new MultiFernet([]));
    expect((none as EncryptionKeyError).code).toBe('MISSING_KEY');
    const bad = thrownBy(() => new MultiFernet([newKey, 'short']));
    expect((bad as EncryptionKeyError).code).toBe('INVALID_KEY');
  });
});

describe('SecretCipher', () => {
  const key = Fernet.generateKey();

  it('reads a comma-separated key list and reports which tokens need rotation', () => {
    const old = SecretCipher.fromEnv(key);
    const token = old.encrypt('webhook-secret');
    const next = SecretCipher.fromEnv(` ${Fernet.generateKey()} , ${key} `);
    expect(next.decrypt(token)).toBe('webhook-secret');
    expect(next.needsRotation(token)).toBe(true);
    const rotated = next.rotate(token);
    expect(next.needsRotation(rotated)).toBe(false);
    expect(next.decrypt(rotated)).toBe('webhook-secret');
    expect(old.needsRotation(token)).toBe(false);
  });

  it('throws INVALID_TOKEN from needsRotation for a token no key decrypts', () => {
    const foreign = SecretCipher.fromEnv(Fernet.generateKey()).encrypt('x');
    expect(invalidTokenReason(() => SecretCipher.fromEnv(key).needsRotation(foreign))).toBe(
      'no-matching-key',
    );
  });

  it.each([
    ['unset', undefined],
    ['empty', ''],
    ['only separators and spaces', ' , ,'],
  ])('reports a key list that is %s as MISSING_KEY naming the variable', (_case, value) => {
    const error = thrownBy(() => SecretCipher.fromEnv(value, 'REGISTRY_KEYS'));
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect((error as EncryptionKeyError).code).toBe('MISSING_KEY');
    expect((error as Error).message).toMatch(/^REGISTRY_KEYS is required/);
  });

  it('names the variable and the bad entry but never any key material', () => {
    const secretLooking = 'not-a-fernet-key-but-maybe-secret';
    const error = thrownBy(() => SecretCipher.fromEnv(`${key},${secretLooking}`));
    const message = (error as Error).message;
    expect((error as EncryptionKeyError).code).toBe('INVALID_KEY');
    expect(message).toMatch(/^TENANT_ENCRYPTION_KEY entry 2 of 2 is not a Fernet key/);
    expect(message).not.toContain(secretLooking);
    expect(message).not.toContain(key);
    expect(message).not.toContain(key.slice(0, 8));
    expect(inspect(error)).not.toContain(secretLooking);
  });

  it('never shows keys or plaintext when logged, inspected or serialised', () => {
    const cipher = SecretCipher.fromEnv(key);
    const fernet = new Fernet(key);
    const multi = new MultiFernet([key]);
    const plaintext = 'SDPAPI_ABC123XYZ456';
    cipher.encrypt(plaintext);
    const shown = [
      inspect(cipher),
      inspect(fernet),
      inspect(multi),
      inspect({ cipher, fernet, multi }, { showHidden: true, depth: 5 }),
      JSON.stringify({ cipher, fernet, multi }),
      String(cipher),
      [String(fernet), String(multi)].join(' '),
    ];
    expect(shown).toEqual([
      '[SecretCipher: keys redacted]',
      '[Fernet: key redacted]',
      '[MultiFernet: keys redacted]',
      expect.stringContaining('[SecretCipher: keys redacted]'),
      '{"cipher":"[SecretCipher: keys redacted]","fernet":"[Fernet: key redacted]","multi":"[MultiFernet: keys redacted]"}',
      '[SecretCipher: keys redacted]',
      '[Fernet: key redacted] [MultiFernet: keys redacted]',
    ]);
    const keyBytesHex = Buffer.from(key, 'base64url').toString('hex');
    for (const text of shown) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(keyBytesHex.slice(0, 16));
      expect(text).not.toContain(plaintext);
    }
  });

  it('rejects a tampered token with one error kind', () => {
    const cipher = SecretCipher.fromEnv(key);
    const token = cipher.encrypt('x');
    const tampered = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21);
    expect(invalidTokenReason(() => cipher.decrypt(tampered))).toBe('no-matching-key');
  });

  it('refuses non-string plaintext without echoing it', () => {
    const cipher = SecretCipher.fromEnv(key);
    const error = thrownBy(() => cipher.encrypt({ password: 'hunter2' } as unknown as string));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('SecretCipher encrypts strings only');
  });
});
