export {
  Fernet,
  MultiFernet,
  InvalidTokenError,
  InvalidKeyError,
  type DecryptOptions,
} from './fernet';
export { SecretCipher } from './secret-cipher';
