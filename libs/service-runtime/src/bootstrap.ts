import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { initTracing } from './tracing';

/** Cut-offs for slow or stuck clients (slow-loris): Node answers 408 or closes. */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

/** Applies the limits before listening; Node checks them every second instead of every 30 s. */
export function applyHttpLimits(server: Server, limits: HttpLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 1_000;
}

export interface ServiceDefinition<C extends { HOST: string; PORT: number }> {
  name: string;
  /** Parses the environment; throws a ConfigError naming bad variables. */
  loadConfig(): C;
  module(config: C): DynamicModule;
  /** The ingress reads raw bytes itself (signatures cover exact bytes). */
  bodyParser?: boolean;
  httpLimits?(config: C): HttpLimits;
  /** Extra transports (e.g. gRPC) to attach before listening. */
  configure?(app: INestApplication, config: C): Promise<void>;
  /**
   * Variables the shared tooling may set for every service that this one does
   * not read (the ingress: DATABASE_URL). Ignored; one warning at start when set.
   */
  ignoredVariables?: readonly string[];
}

/** Builds the app, wires logs and shutdown hooks, listens. */
export async function startService<C extends { HOST: string; PORT: number }>(
  definition: ServiceDefinition<C>,
): Promise<INestApplication> {
  const config = definition.loadConfig();
  initTracing(definition.name);
  const app = await NestFactory.create(definition.module(config), {
    bufferLogs: true,
    bodyParser: definition.bodyParser ?? true,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  applyHttpLimits(
    app.getHttpServer() as Server,
    definition.httpLimits?.(config) ?? DEFAULT_HTTP_LIMITS,
  );
  await definition.configure?.(app, config);
  await app.listen(config.PORT, config.HOST);
  const logger = app.get(Logger);
  const ignored = (definition.ignoredVariables ?? []).filter((v) => process.env[v] !== undefined);
  if (ignored.length > 0) {
    logger.warn(
      `${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} set but ${definition.name} does not use ${ignored.length === 1 ? 'it' : 'them'}: ignored`,
    );
  }
  logger.log(`${definition.name} listening on http://${config.HOST}:${config.PORT}`);
  return app;
}

/**
 * A plain `node:http` handler in front of the framework, for a hot route
 * (the ingress's webhook): `front` answers and returns true, or returns
 * false and the request goes to the framework's listener (attached when
 * Nest created the server) as usual.
 */
export function serveInFront(
  server: Server,
  front: (req: IncomingMessage, res: ServerResponse) => boolean,
): void {
  const framework = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  if (framework.length !== 1) {
    throw new Error(`expected one framework request listener, found ${framework.length}`);
  }
  const next = framework[0];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!front(req, res)) next(req, res);
  });
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
