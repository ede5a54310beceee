import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { createTopology, ensureTopology, type Topology } from '@tep/contracts';
import { TenantDatabase, createDataSource } from '@tep/data';
import { HealthController, HealthService } from './health';
import { loggerParams } from './logging';
import { MetricsController, MetricsRegistry, PipelineMetrics } from './metrics';
import { shutdownTracing } from './tracing';
import { JETSTREAM, NATS_CONNECTION, SERVICE_OPTIONS, TOPOLOGY } from './tokens';

export interface PlatformOptions {
  service: string;
  logLevel: string;
  databaseUrl: string;
  databasePoolSize: number;
  natsUrl: string;
  /** Prefix for streams, subjects and buckets ('' in production). */
  natsNamespace: string;
  /** JetStream replicas for the streams this service ensures (3 in a cluster). */
  streamReplicas?: number;
  /** One log line per HTTP request (off for the ingress: it logs each webhook itself). */
  requestLogs?: boolean;
  /** How long boot waits for Postgres and NATS before giving up. */
  connectTimeoutMs?: number;
}

async function retryUntil<T>(
  what: string,
  deadlineMs: number,
  attempt: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(
          `${what} unreachable: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Closes connections last, after Nest has stopped the app's own work. */
@Injectable()
class ConnectionsLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.nats.isClosed()) await this.nats.drain().catch(() => this.nats.close());
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await shutdownTracing();
  }
}

/**
 * Everything a service shares with the others: logs, health, metrics, the
 * RLS-aware database and JetStream with the platform's topology in place.
 */
/** The base variables every service's config has (see @tep/config). */
export interface BaseServiceConfig {
  readonly LOG_LEVEL: string;
  readonly DATABASE_URL: string;
  readonly DATABASE_POOL_SIZE: number;
  readonly NATS_URL: string;
  readonly NATS_NAMESPACE: string;
  readonly NATS_STREAM_REPLICAS: number;
}

@Global()
@Module({})
export class PlatformModule {
  static forService(
    service: string,
    config: BaseServiceConfig,
    extra: Pick<PlatformOptions, 'requestLogs'> = {},
  ): DynamicModule {
    return PlatformModule.forRoot({
      service,
      logLevel: config.LOG_LEVEL,
      databaseUrl: config.DATABASE_URL,
      databasePoolSize: config.DATABASE_POOL_SIZE,
      natsUrl: config.NATS_URL,
      natsNamespace: config.NATS_NAMESPACE,
      streamReplicas: config.NATS_STREAM_REPLICAS,
      ...extra,
    });
  }

  static forRoot(options: PlatformOptions): DynamicModule {
    const timeout = options.connectTimeoutMs ?? 30_000;
    return {
      module: PlatformModule,
      imports: [
        LoggerModule.forRoot(
          loggerParams(options.service, options.logLevel, options.requestLogs ?? true),
        ),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_OPTIONS, useValue: options },
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = createDataSource({
              url: options.databaseUrl,
              poolSize: options.databasePoolSize,
              applicationName: options.service,
            });
            return retryUntil('PostgreSQL', timeout, () => dataSource.initialize());
          },
        },
        {
          provide: TenantDatabase,
          useFactory: (ds: DataSource) => new TenantDatabase(ds),
          inject: [DataSource],
        },
        { provide: TOPOLOGY, useValue: createTopology(options.natsNamespace) },
        {
          provide: NATS_CONNECTION,
          useFactory: () =>
            retryUntil('NATS', timeout, () =>
              connect({
                servers: options.natsUrl.split(',').map((s) => s.trim()),
                name: options.service,
                maxReconnectAttempts: -1,
                reconnectTimeWait: 1_000,
              }),
            ),
        },
        {
          provide: JETSTREAM,
          useFactory: async (nc: NatsConnection, topology: Topology): Promise<JetStreamClient> => {
            await ensureTopology(await jetstreamManager(nc), topology, {
              replicas: options.streamReplicas ?? 1,
            });
            return jetstream(nc);
          },
          inject: [NATS_CONNECTION, TOPOLOGY],
        },
        HealthService,
        MetricsRegistry,
        PipelineMetrics,
        ConnectionsLifecycle,
      ],
      exports: [
        SERVICE_OPTIONS,
        DataSource,
        TenantDatabase,
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
