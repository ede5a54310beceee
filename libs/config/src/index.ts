export { ConfigError, loadConfig } from './load-config';
export {
  PLATFORM_DEFAULTS,
  baseServiceSchema,
  booleanFlag,
  encryptionKeySchema,
  postgresUrl,
  resolveInsecureServiceDeskUrls,
  workerConcurrency,
  type ServiceName,
} from './schemas';
