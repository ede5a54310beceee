import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from '@tep/contracts';
import { NATS_CONNECTION, TOPOLOGY } from '@tep/service-runtime';

/** Senders retry for days (Standard Webhooks' schedule spans ~75 h): keep keys longer. */
export const IDEMPOTENCY_TTL_MS = 96 * 3600 * 1000;
const MINUTE_MS = 60_000;
const MAX_CAS_ATTEMPTS = 8;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * State the ingress replicas share through NATS KV, so it holds across
 * processes: the durable idempotency keys (tenant + delivery → job id) that
 * back JetStream's 2-minute de-duplication window, and per-tenant
 * requests-per-minute counters updated with compare-and-set.
 */
@Injectable()
export class DeliveryGuard implements OnModuleInit {
  private idempotency!: KV;
  private counters!: KV;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(TOPOLOGY) private readonly topology: Topology,
  ) {}

  async onModuleInit(): Promise<void> {
    const kvm = new Kvm(this.nats);
    const prefix = this.topology.namespace ? `${this.topology.namespace}_` : '';
    this.idempotency = await kvm.create(`${prefix}webhook_deliveries`, {
      history: 1,
      ttl: IDEMPOTENCY_TTL_MS,
    });
    this.counters = await kvm.create(`${prefix}webhook_rate_limits`, {
      history: 1,
      ttl: 2 * MINUTE_MS,
    });
  }

  private static key(tenantId: string, deliveryKey: string): string {
    return `${tenantId}.${createHash('sha256').update(deliveryKey).digest('hex').slice(0, 32)}`;
  }

  /** The job id an earlier delivery with this key became, if any. */
  async previousJob(tenantId: string, deliveryKey: string): Promise<string | undefined> {
    const entry = await this.idempotency.get(DeliveryGuard.key(tenantId, deliveryKey));
    return entry && entry.operation === 'PUT' ? entry.string() : undefined;
  }

  async remember(tenantId: string, deliveryKey: string, jobId: string): Promise<void> {
    await this.idempotency.put(DeliveryGuard.key(tenantId, deliveryKey), jobId);
  }

  /** Fixed one-minute windows shared by every replica. */
  async take(tenantId: string, perMinute: number, now = Date.now()): Promise<RateDecision> {
    const window = Math.floor(now / MINUTE_MS);
    const key = `${tenantId}.${window}`;
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * MINUTE_MS - now) / 1000));
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.counters.get(key);
      try {
        if (!entry || entry.operation !== 'PUT') {
          await this.counters.create(key, '1');
          return { allowed: true };
        }
        const count = Number(entry.string());
        if (count >= perMinute) return { allowed: false, retryAfterSeconds };
        await this.counters.update(key, String(count + 1), entry.revision);
        return { allowed: true };
      } catch {
        // Another replica changed the counter first: read it again.
      }
    }
    // Heavy contention on one tenant's counter: ask the sender to come back shortly.
    return { allowed: false, retryAfterSeconds: 1 };
  }
}
