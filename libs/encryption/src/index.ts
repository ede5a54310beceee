export {
  Fernet,
  MultiFernet,
  InvalidTokenError,
  EncryptionKeyError,
  type DecryptOptions,
  type DecryptedToken,
  type EncryptOptions,
  type EncryptionErrorCode,
  type InvalidTokenReason,
} from './fernet';
export { SecretCipher } from './secret-cipher';
