import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import { PinoLogger } from 'nestjs-pino';
import { TenantDirectoryEntrySchema, type Topology } from '@tep/contracts';
import type { SecretCipher } from '@tep/encryption';
import { HealthService, NATS_CONNECTION, TOPOLOGY } from '@tep/service-runtime';
import { IngressMetrics } from '../receive-webhook/ingress-metrics';

export const SECRET_CIPHER = Symbol('SECRET_CIPHER');

export interface CachedTenant {
  tenantId: string;
  status: 'active' | 'disabled';
  authScheme: 'hmac' | 'static_header';
  /** Decrypted once per change, not per request. */
  secrets: { value: string; expiresAt: number | null }[];
  requestsPerMinute: number | null;
}

/**
 * The ingress's view of the tenants: a NATS KV bucket the registry writes
 * and this cache watches, so changes (rotation, disable, limits) arrive in
 * milliseconds and the hot path never queries Postgres.
 */
@Injectable()
export class TenantDirectory implements OnModuleInit, OnApplicationShutdown {
  private readonly tenants = new Map<string, CachedTenant>();
  private watcher?: QueuedIterator<KvWatchEntry>;
  private loaded = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    @Inject(SECRET_CIPHER) private readonly cipher: SecretCipher,
    private readonly logger: PinoLogger,
    private readonly metrics: IngressMetrics,
    health: HealthService,
  ) {
    this.logger.setContext(TenantDirectory.name);
    health.register('tenant_directory', () =>
      this.loaded ? Promise.resolve() : Promise.reject(new Error('not loaded yet')),
    );
  }

  async onModuleInit(): Promise<void> {
    // Created by the topology's owner (ensureTopology); the ingress only reads it.
    const kv: KV = await new Kvm(this.nats).open(this.topology.tenantDirectoryBucket);
    this.watcher = await kv.watch();
    if ((await kv.status()).values === 0) this.loaded = true;
    void this.follow(this.watcher);
  }

  async onApplicationShutdown(): Promise<void> {
    this.watcher?.stop();
    return Promise.resolve();
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  get(tenantId: string): CachedTenant | undefined {
    return this.tenants.get(tenantId);
  }

  /** Secrets still valid at `now` (a rotated-out one stops after its grace). */
  activeSecrets(tenant: CachedTenant, now = Date.now()): string[] {
    return tenant.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => s.value);
  }

  private async follow(watcher: QueuedIterator<KvWatchEntry>): Promise<void> {
    for await (const entry of watcher) {
      this.apply(entry);
      if (entry.isUpdate) this.loaded = true;
    }
  }

  private apply(entry: KvWatchEntry): void {
    if (entry.operation !== 'PUT') {
      this.tenants.delete(entry.key);
      this.metrics.forgetTenant(entry.key);
      this.logger.info({ tenant_id: entry.key }, 'Tenant removed from directory');
      return;
    }
    try {
      const parsed = TenantDirectoryEntrySchema.parse(entry.json());
      this.tenants.set(parsed.tenant_id, {
        tenantId: parsed.tenant_id,
        status: parsed.status,
        authScheme: parsed.auth_scheme,
        secrets: parsed.webhook_secrets.map((s) => ({
          value: this.cipher.decrypt(s.encrypted),
          expiresAt: s.expires_at ? Date.parse(s.expires_at) : null,
        })),
        requestsPerMinute: parsed.rate_limits.requests_per_minute,
      });
      // Its series at zero now, so its first webhook is an increase Prometheus sees.
      this.metrics.initTenant(parsed.tenant_id);
      this.logger.info(
        { tenant_id: parsed.tenant_id, status: parsed.status },
        'Tenant directory updated',
      );
    } catch (error) {
      // Fail closed: a tenant whose entry cannot be read gets no webhooks in.
      this.tenants.delete(entry.key);
      this.logger.error(
        { tenant_id: entry.key, err: error instanceof Error ? error.message : String(error) },
        'Unreadable tenant directory entry; tenant rejected until fixed',
      );
    }
  }
}
