export { ConfigError, loadConfig } from './load-config';
export {
  PLATFORM_DEFAULTS,
  baseServiceSchema,
  booleanFlag,
  encryptionKeySchema,
  postgresUrl,
  workerConcurrency,
  type ServiceName,
} from './schemas';
