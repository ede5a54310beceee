import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';

export interface ServiceDefinition<C extends { HOST: string; PORT: number }> {
  name: string;
  /** Parses the environment; throws a ConfigError naming bad variables. */
  loadConfig(): C;
  module(config: C): DynamicModule;
  /** The ingress reads raw bytes itself (signatures cover exact bytes). */
  bodyParser?: boolean;
  /** Extra transports (e.g. gRPC) to attach before listening. */
  configure?(app: INestApplication, config: C): Promise<void>;
}

/** Builds the app, wires logs and shutdown hooks, listens. */
export async function startService<C extends { HOST: string; PORT: number }>(
  definition: ServiceDefinition<C>,
): Promise<INestApplication> {
  const config = definition.loadConfig();
  const app = await NestFactory.create(definition.module(config), {
    bufferLogs: true,
    bodyParser: definition.bodyParser ?? true,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await definition.configure?.(app, config);
  await app.listen(config.PORT, config.HOST);
  app.get(Logger).log(`${definition.name} listening on http://${config.HOST}:${config.PORT}`);
  return app;
}

/** main.ts of every service: start, or say why not and exit non-zero. */
export function runService<C extends { HOST: string; PORT: number }>(
  definition: ServiceDefinition<C>,
): void {
  startService(definition).catch((error: unknown) => {
    console.error(
      `[${definition.name}] failed to start: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  });
}
