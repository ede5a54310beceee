import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Kvm, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import { PinoLogger } from 'nestjs-pino';
import type { Topology } from '@tep/contracts';
import { PipelineMetrics } from './metrics';
import { NATS_CONNECTION, TOPOLOGY } from './tokens';

/**
 * Keeps a worker's per-tenant series in step with the tenant directory:
 * every known tenant's series exist at zero (PipelineMetrics.initTenant),
 * a removed tenant's go. Watches keys only (headers), never the entries'
 * values.
 */
@Injectable()
export class TenantSeries implements OnApplicationBootstrap, OnApplicationShutdown {
  private watcher?: QueuedIterator<KvWatchEntry>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    private readonly metrics: PipelineMetrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(TenantSeries.name);
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      const kv = await new Kvm(this.nats).open(this.topology.tenantDirectoryBucket);
      this.watcher = await kv.watch({ headers_only: true });
      void this.follow(this.watcher);
    } catch (error) {
      // Metrics only: the stage works without it, and says why series start late.
      this.logger.error(
        { err: error },
        'cannot watch the tenant directory; per-tenant series start at their first event',
      );
    }
  }

  onApplicationShutdown(): void {
    this.watcher?.stop();
  }

  private async follow(watcher: QueuedIterator<KvWatchEntry>): Promise<void> {
    try {
      for await (const entry of watcher) {
        if (entry.operation === 'PUT') this.metrics.initTenant(entry.key);
        else this.metrics.forgetTenant(entry.key);
      }
    } catch (error) {
      this.logger.warn(
        { err: error },
        'tenant directory watch ended; per-tenant series may start late',
      );
    }
  }
}
