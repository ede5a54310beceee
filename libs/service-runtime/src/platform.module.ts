import {
  Global,
  Inject,
  Injectable,
  Module,
  Optional,
  RequestMethod,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { createTopology, type Topology } from '@tep/contracts';
import {
  awaitTopology,
  ensureTopology,
  natsConnectionOptions,
  natsSettingsOf,
  type NatsSettings,
} from '@tep/pipeline';
import { TenantDatabase, createDataSource } from '@tep/data';
import { HealthController, HealthService } from './health';
import { loggerParams } from './logging';
import { MetricsController, MetricsRegistry, PipelineMetrics } from './metrics';
import { shutdownTracing } from './tracing';
import { JETSTREAM, NATS_CONNECTION, SERVICE_OPTIONS, TOPOLOGY } from './tokens';

export interface PlatformOptions {
  service: string;
  logLevel: string;
  logFormat?: 'json' | 'pretty';
  /**
   * PostgreSQL: a DataSource and the RLS-aware TenantDatabase, connected at
   * boot and checked by /health and /readyz. Absent for a service that reads
   * no table (the ingress): nothing connects to Postgres, nothing checks it,
   * and injecting DataSource or TenantDatabase fails at boot.
   */
  database?: { url: string; poolSize: number; preparedStatements: boolean };
  /** URL list, and in production the service's NATS user and TLS trust. */
  nats: NatsSettings;
  /** Prefix for streams, subjects and buckets ('' in production). */
  natsNamespace: string;
  /** JetStream replicas for the streams the topology's owner creates (3 in a cluster). */
  streamReplicas?: number;
  /**
   * This service creates and updates the JetStream topology (the registry);
   * every other service waits until it is in place (awaitTopology).
   */
  ownsTopology?: boolean;
  /** One log line per HTTP request (off for the ingress: it logs each webhook itself). */
  requestLogs?: boolean;
  /**
   * How long boot waits for Postgres (if any) before giving up. NATS and
   * JetStream are waited for as long as it takes (a cluster forming), and
   * the wait is logged.
   */
  connectTimeoutMs?: number;
}

/** A wait is expected (a stream not created yet): its reason, not a stack trace. */
const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Tries every `everyMs` until `attempt` works. With `giveUp`, fails once
 * `giveUp.afterMs` has passed ("<what> unreachable: …"); without, tries
 * for as long as it takes. `onWait` hears every tenth failure.
 */
async function retry<T>(
  attempt: () => Promise<T>,
  options: {
    everyMs: number;
    giveUp?: { what: string; afterMs: number };
    onWait?: (error: unknown) => void;
  },
): Promise<T> {
  const deadline = options.giveUp ? Date.now() + options.giveUp.afterMs : Infinity;
  for (let failures = 0; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`${options.giveUp!.what} unreachable: ${reasonOf(error)}`);
      }
      if (failures % 10 === 0) options.onWait?.(error);
      await new Promise((resolve) => setTimeout(resolve, options.everyMs));
    }
  }
}

/** JetStream management calls (topology): a cluster's leader elections take seconds. */
const JETSTREAM_API_TIMEOUT_MS = 15_000;

/** Tries once a second for as long as it takes; `onWait` hears every tenth failure. */
const retryForever = <T>(attempt: () => Promise<T>, onWait: (error: unknown) => void) =>
  retry(attempt, { everyMs: 1_000, onWait });

/** Closes connections last, after Nest has stopped the app's own work. */
@Injectable()
class ConnectionsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Optional() private readonly dataSource?: DataSource,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.nats.isClosed()) await this.nats.drain().catch(() => this.nats.close());
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    await shutdownTracing();
  }
}

/** The base variables every service's config has (see @tep/config). */
export interface BaseServiceConfig {
  readonly LOG_LEVEL: string;
  /** Absent: JSON. */
  readonly LOG_FORMAT?: 'json' | 'pretty';
  readonly NATS_URL: string;
  readonly NATS_NAMESPACE: string;
  readonly NATS_STREAM_REPLICAS: number;
  readonly NATS_USER?: string;
  readonly NATS_PASSWORD?: string;
  readonly NATS_TLS_CA_FILE?: string;
}

/** …and those of a service with a database (@tep/config DATABASE_SERVICES). */
export interface DatabaseServiceConfig extends BaseServiceConfig {
  readonly DATABASE_URL: string;
  readonly DATABASE_POOL_SIZE: number;
  readonly DATABASE_PREPARED_STATEMENTS?: boolean;
}

type ServiceExtras = Pick<PlatformOptions, 'requestLogs' | 'ownsTopology'>;

/** The probes: never in request logs (like /health and /metrics, see logging.ts). */
const PROBE_ROUTES = [
  { path: 'livez', method: RequestMethod.GET },
  { path: 'readyz', method: RequestMethod.GET },
];

/**
 * Everything a service shares with the others: logs, health, metrics,
 * JetStream with the platform's topology in place and, for a service with a
 * database, the RLS-aware TenantDatabase.
 */
@Global()
@Module({})
export class PlatformModule {
  /** A service with a database (the default). */
  static forService(
    service: string,
    config: DatabaseServiceConfig,
    extra?: ServiceExtras & { database?: true },
  ): DynamicModule;
  /** A service that reads no table: no DataSource, no TenantDatabase, no Postgres check. */
  static forService(
    service: string,
    config: BaseServiceConfig,
    extra: ServiceExtras & { database: false },
  ): DynamicModule;
  static forService(
    service: string,
    config: BaseServiceConfig & Partial<DatabaseServiceConfig>,
    { database = true, ...extra }: ServiceExtras & { database?: boolean } = {},
  ): DynamicModule {
    if (database && config.DATABASE_URL === undefined) {
      throw new Error(
        `${service} has no DATABASE_URL in its config: give it one, or pass { database: false } if it reads no table`,
      );
    }
    return PlatformModule.forRoot({
      service,
      logLevel: config.LOG_LEVEL,
      logFormat: config.LOG_FORMAT,
      database: database
        ? {
            url: config.DATABASE_URL!,
            poolSize: config.DATABASE_POOL_SIZE ?? 10,
            preparedStatements: config.DATABASE_PREPARED_STATEMENTS ?? true,
          }
        : undefined,
      nats: natsSettingsOf(config),
      natsNamespace: config.NATS_NAMESPACE,
      streamReplicas: config.NATS_STREAM_REPLICAS,
      ...extra,
    });
  }

  static forRoot(options: PlatformOptions): DynamicModule {
    const timeout = options.connectTimeoutMs ?? 30_000;
    const database = options.database;
    const databaseProviders: Provider[] = database
      ? [
          {
            provide: DataSource,
            useFactory: async () => {
              const dataSource = createDataSource({
                url: database.url,
                poolSize: database.poolSize,
                applicationName: options.service,
              });
              return retry(() => dataSource.initialize(), {
                everyMs: 500,
                giveUp: { what: 'PostgreSQL', afterMs: timeout },
              });
            },
          },
          {
            provide: TenantDatabase,
            useFactory: (ds: DataSource) =>
              new TenantDatabase(ds, { preparedStatements: database.preparedStatements }),
            inject: [DataSource],
          },
        ]
      : [];
    return {
      module: PlatformModule,
      imports: [
        LoggerModule.forRoot({
          ...loggerParams(options.service, options.logLevel, {
            requestLogs: options.requestLogs ?? true,
            pretty: options.logFormat === 'pretty',
          }),
          exclude: PROBE_ROUTES,
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_OPTIONS, useValue: options },
        ...databaseProviders,
        { provide: TOPOLOGY, useValue: createTopology(options.natsNamespace) },
        {
          provide: NATS_CONNECTION,
          // Until NATS answers, however long: a JetStream cluster still forming (or
          // restarting) is a wait, not a reason to exit. Said every 10 attempts.
          useFactory: (logger: PinoLogger) =>
            retryForever(
              () =>
                connect({
                  ...natsConnectionOptions(options.nats, options.service),
                  maxReconnectAttempts: -1,
                  reconnectTimeWait: 1_000,
                  // Otherwise the client builds an Error, stack trace and all, for every
                  // request it sends, in case it times out: ~10 % of the ingress's CPU.
                  noAsyncTraces: true,
                }),
              (error) =>
                logger.warn(
                  { event: 'nats_wait', err: reasonOf(error) },
                  `NATS not reachable at ${options.nats.url} yet; retrying`,
                ),
            ),
          inject: [PinoLogger],
        },
        {
          provide: JETSTREAM,
          useFactory: async (
            nc: NatsConnection,
            topology: Topology,
            logger: PinoLogger,
          ): Promise<JetStreamClient> => {
            // A cluster answers management calls slower than one server (leader elections).
            const jsm = await retryForever(
              () => jetstreamManager(nc, { timeout: JETSTREAM_API_TIMEOUT_MS }),
              (error) =>
                logger.warn(
                  { event: 'jetstream_wait', err: reasonOf(error) },
                  'JetStream not ready yet; retrying',
                ),
            );
            if (options.ownsTopology) {
              await retryForever(
                () => ensureTopology(jsm, topology, { replicas: options.streamReplicas ?? 1 }),
                (error) =>
                  logger.warn(
                    { event: 'topology_retry', err: reasonOf(error) },
                    'creating the JetStream topology failed; retrying',
                  ),
              );
            } else {
              await awaitTopology(jsm, topology, {
                onWait: (missing, error) =>
                  logger.warn(
                    { event: 'topology_wait', missing, err: reasonOf(error) },
                    `waiting for JetStream stream ${missing} (the tenant registry creates the topology)`,
                  ),
              });
            }
            return jetstream(nc);
          },
          inject: [NATS_CONNECTION, TOPOLOGY, PinoLogger],
        },
        HealthService,
        MetricsRegistry,
        PipelineMetrics,
        ConnectionsLifecycle,
      ],
      exports: [
        SERVICE_OPTIONS,
        ...(database ? [DataSource, TenantDatabase] : []),
        TOPOLOGY,
        NATS_CONNECTION,
        JETSTREAM,
        HealthService,
        MetricsRegistry,
        PipelineMetrics,
      ],
    };
  }
}
