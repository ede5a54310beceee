export { ConfigError, loadConfig } from './load-config';
export {
  DATABASE_SERVICES,
  PLATFORM_DEFAULTS,
  baseServiceSchema,
  databaseShape,
  booleanFlag,
  encryptionKeySchema,
  postgresUrl,
  resolveInsecureServiceDeskUrls,
  resolveCredentialKey,
  requireSecureNats,
  usesDatabase,
  workerConcurrency,
  type DatabaseServiceName,
  type ServiceName,
} from './schemas';
