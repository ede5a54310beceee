import 'reflect-metadata';
import { runService } from '@tep/service-runtime';
import { AppModule } from './app.module';
import { loadRegistryConfig } from './config/registry.config';
import { attachGrpc } from './grpc/grpc-transport';

runService({
  name: 'tenant-registry',
  loadConfig: () => loadRegistryConfig(),
  module: (config) => AppModule.register(config),
  configure: (app, config) => attachGrpc(app, config.HOST, config.GRPC_PORT),
});
