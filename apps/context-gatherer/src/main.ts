import 'reflect-metadata';
import { runService } from '@tep/service-runtime';
import { AppModule } from './app.module';
import { loadGathererConfig } from './config/gatherer.config';

runService({
  name: 'context-gatherer',
  loadConfig: () => loadGathererConfig(),
  module: (config) => AppModule.register(config),
});
