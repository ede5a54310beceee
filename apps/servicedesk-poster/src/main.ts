import 'reflect-metadata';
import { runService } from '@tep/service-runtime';
import { AppModule } from './app.module';
import { loadPosterConfig } from './config/poster.config';

runService({
  name: 'servicedesk-poster',
  loadConfig: () => loadPosterConfig(),
  module: (config) => AppModule.register(config),
});
