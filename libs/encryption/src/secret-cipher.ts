import { inspect } from 'node:util';
import { MultiFernet } from './fernet';

const REDACTED = '[SecretCipher redacted]';

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
      .map((k) => k.trim())
      .filter(Boolean);
    if (keys.length === 0)
      throw new Error(`${variableName} is required (comma-separated Fernet keys)`);
    try {
      return new SecretCipher(new MultiFernet(keys));
    } catch {
      throw new Error(
        `${variableName} must hold Fernet keys: 32 url-safe base64-encoded bytes each`,
      );
    }
  }

  encrypt(plaintext: string): string {
    return this.#fernet.encrypt(plaintext);
  }

  decrypt(token: string): string {
    return this.#fernet.decryptString(token);
  }

  rotate(token: string): string {
    return this.#fernet.rotate(token);
  }

  /** True when the token was not made with the current (first) key. */
  needsRotation(token: string): boolean {
    return this.#fernet.decryptWithTimestamp(token).keyIndex !== 0;
  }

  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}
