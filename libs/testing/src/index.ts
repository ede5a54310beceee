/** Test harness for integration specs: real Postgres and NATS, isolated per spec. Specs only. */
export {
  createTestDatabase,
  prepareTemplateDatabase,
  TEST_ADMIN_URL,
  type TestDatabase,
} from './database';
export {
  createTestNats,
  deleteNamespaceStreams,
  eventually,
  TEST_NATS_URL,
  type TestNats,
} from './nats';
export { testEncryptionKey } from './keys';
export { startServiceProcess, freePort, ServiceProcess } from './processes';
export { startTestPlatform, type TestPlatform } from './platform';
export { startPgBouncer, spawnPgBouncer, pgBouncerAvailable, type PgBouncer } from './pgbouncer';
export {
  TEST_JOB_ID,
  TEST_TENANT_ID,
  contextualizedMessage,
  testEnhancement,
  testTicket,
} from './messages';
