import 'reflect-metadata';
import { runService } from '@tep/service-runtime';
import { AppModule } from './app.module';
import { loadRegistryConfig } from './config/registry.config';

runService({
  name: 'tenant-registry',
  loadConfig: () => loadRegistryConfig(),
  module: (config) => AppModule.register(config),
});
