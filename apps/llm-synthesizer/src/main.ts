import 'reflect-metadata';
import { runService } from '@tep/service-runtime';
import { AppModule } from './app.module';
import { loadSynthesizerConfig } from './config/synthesizer.config';

runService({
  name: 'llm-synthesizer',
  loadConfig: () => loadSynthesizerConfig(),
  module: (config) => AppModule.register(config),
});
