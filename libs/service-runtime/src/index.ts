export {
  PlatformModule,
  type PlatformOptions,
  type BaseServiceConfig,
  type DatabaseServiceConfig,
} from './platform.module';
export {
  HealthService,
  HealthController,
  type HealthReport,
  type LivenessReport,
  type ReadinessReport,
} from './health';
export { MetricsRegistry, PipelineMetrics } from './metrics';
export { TenantSeries } from './tenant-series';
export { REDACTED_PATHS, SECRET_LOG_KEYS, censorSecrets, loggerParams } from './logging';
export {
  runService,
  startService,
  applyHttpLimits,
  serveInFront,
  DEFAULT_HTTP_LIMITS,
  type HttpLimits,
  type ServiceDefinition,
} from './bootstrap';
export { JETSTREAM, NATS_CONNECTION, SERVICE_OPTIONS, TOPOLOGY } from './tokens';
export { parseBody, fieldProblems } from './zod-body';
export { StageWorker, stageWorker, WORKER_CONCURRENCY, type StageHandler } from './stage-worker';
export { initTracing, shutdownTracing } from './tracing';
