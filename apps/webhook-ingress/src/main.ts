import 'reflect-metadata';
import { runService } from '@tep/service-runtime';
import { AppModule } from './app.module';
import { INGRESS_IGNORED_VARIABLES, loadIngressConfig } from './config/ingress.config';

runService({
  name: 'webhook-ingress',
  loadConfig: () => loadIngressConfig(),
  module: (config) => AppModule.register(config),
  bodyParser: false,
  ignoredVariables: INGRESS_IGNORED_VARIABLES,
  httpLimits: (config) => ({
    headersTimeoutMs: config.WEBHOOK_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.WEBHOOK_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: 5_000,
  }),
});
