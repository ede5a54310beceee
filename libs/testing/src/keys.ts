import { randomBytes } from 'node:crypto';

/** A Fernet key as Python's Fernet.generate_key() prints it. */
export function testEncryptionKey(): string {
  return Buffer.from(randomBytes(32)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
