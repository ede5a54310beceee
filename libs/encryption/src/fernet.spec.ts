import { inspect } from 'node:util';
import generate from './test-vectors/fernet/generate.json';
import invalid from './test-vectors/fernet/invalid.json';
import verify from './test-vectors/fernet/verify.json';
import { Fernet, InvalidTokenError, MultiFernet, SecretCipher } from './index';

describe('Fernet spec vectors', () => {
  it.each(generate)('generate: reproduces the spec token for "$src"', (v) => {
    const token = new Fernet(v.secret).encrypt(v.src, {
      now: new Date(v.now),
      iv: Buffer.from(v.iv),
    });
    expect(token).toBe(v.token);
  });

  it.each(verify)('verify: decrypts the spec token to "$src"', (v) => {
    const plaintext = new Fernet(v.secret).decryptString(v.token, {
      now: new Date(v.now),
      ttlSeconds: v.ttl_sec,
    });
    expect(plaintext).toBe(v.src);
  });

  it('has all 8 invalid vectors', () => expect(invalid).toHaveLength(8));

  it.each(invalid)('invalid: rejects "$desc"', (v) => {
    const fernet = new Fernet(v.secret);
    expect(() => fernet.decrypt(v.token, { now: new Date(v.now), ttlSeconds: v.ttl_sec })).toThrow(
      InvalidTokenError,
    );
  });
});

describe('MultiFernet', () => {
  const oldKey = Fernet.generateKey();
  const newKey = Fernet.generateKey();

  it('encrypts with the first key and decrypts with any', () => {
    const before = new MultiFernet([oldKey]).encrypt('SDPAPI_ABC123XYZ456');
    const during = new MultiFernet([newKey, oldKey]);
    expect(during.decryptString(before)).toBe('SDPAPI_ABC123XYZ456');
    expect(() => new Fernet(newKey).decrypt(during.encrypt('x'))).not.toThrow();
    expect(() => new Fernet(oldKey).decrypt(during.encrypt('x'))).toThrow(InvalidTokenError);
  });

  it('rotates to the first key keeping the original timestamp', () => {
    const made = new Fernet(oldKey).encrypt('secret', { now: new Date('2025-01-01T00:00:00Z') });
    const rotated = new MultiFernet([newKey, oldKey]).rotate(made);
    const { timestamp, plaintext } = new Fernet(newKey).decryptWithTimestamp(rotated);
    expect(plaintext.toString()).toBe('secret');
    expect(timestamp).toBe(Date.parse('2025-01-01T00:00:00Z') / 1000);
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
    expect(next.needsRotation(next.rotate(token))).toBe(false);
  });

  it('names the variable but never the key material in errors', () => {
    expect(() => SecretCipher.fromEnv(undefined)).toThrow(/TENANT_ENCRYPTION_KEY is required/);
    const bad = 'not-a-fernet-key-but-maybe-secret';
    let message = '';
    try {
      SecretCipher.fromEnv(bad);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/TENANT_ENCRYPTION_KEY/);
    expect(message).not.toContain(bad);
  });

  it('never shows keys when logged, inspected or serialised', () => {
    const cipher = SecretCipher.fromEnv(key);
    const fernet = new Fernet(key);
    for (const shown of [
      inspect(cipher),
      JSON.stringify({ cipher, fernet }),
      String(cipher),
      inspect(fernet),
    ]) {
      expect(shown).not.toContain(key);
      expect(shown).toMatch(/redacted/);
    }
  });

  it('rejects a tampered token with one error kind', () => {
    const cipher = SecretCipher.fromEnv(key);
    const token = cipher.encrypt('x');
    const tampered = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21);
    expect(() => cipher.decrypt(tampered)).toThrow(InvalidTokenError);
  });
});
