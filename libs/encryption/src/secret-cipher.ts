import { inspect } from 'node:util';
import { EncryptionKeyError, Fernet, MultiFernet } from './fernet';

const REDACTED = '[SecretCipher: keys redacted]';

/**
 * What services use for credentials at rest. Keys come from
 * TENANT_ENCRYPTION_KEY (the runbook's name): a comma-separated list during
 * rotation, the first one encrypts. Errors name the variable, never a key.
 */
export class SecretCipher {
  readonly #fernet: MultiFernet;

  private constructor(fernet: MultiFernet) {
    this.#fernet = fernet;
  }

  static fromEnv(value: string | undefined, variableName = 'TENANT_ENCRYPTION_KEY'): SecretCipher {
    const keys = (value ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key.length > 0);
    if (keys.length === 0) {
      throw new EncryptionKeyError(
        'MISSING_KEY',
        `${variableName} is required: a comma-separated list of Fernet keys, the first one encrypts`,
      );
    }
    try {
      return new SecretCipher(new MultiFernet(keys));
    } catch (error) {
      if (!(error instanceof EncryptionKeyError)) throw error;
      // The position helps the operator; the value would leak the key.
      const position = keys.findIndex((key) => !isFernetKey(key)) + 1;
      throw new EncryptionKeyError(
        'INVALID_KEY',
        `${variableName} entry ${position} of ${keys.length} is not a Fernet key ` +
          '(32 url-safe base64-encoded bytes, e.g. from Fernet.generate_key())',
      );
    }
  }

  encrypt(plaintext: string): string {
    // A non-string would reach node:crypto, whose error message prints the value.
    if (typeof plaintext !== 'string') throw new TypeError('SecretCipher encrypts strings only');
    return this.#fernet.encrypt(plaintext);
  }

  decrypt(token: string): string {
    return this.#fernet.decryptString(token);
  }

  /** Re-encrypts under the current key, keeping the original timestamp. */
  rotate(token: string): string {
    return this.#fernet.rotate(token);
  }

  /**
   * True when the token decrypts only with an older key. A token no key
   * decrypts throws InvalidTokenError: that is corrupt data, not a rotation.
   */
  needsRotation(token: string): boolean {
    return this.#fernet.decryptWithMetadata(token).keyIndex !== 0;
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

function isFernetKey(key: string): boolean {
  try {
    new Fernet(key);
    return true;
  } catch {
    return false;
  }
}
