import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from '@tep/contracts';
import { NATS_CONNECTION, TOPOLOGY } from '@tep/service-runtime';

const MINUTE_MS = 60_000;
const MAX_CAS_ATTEMPTS = 8;
/**
 * A replica takes a tenant's allowance from the shared counter in blocks of
 * 1/20 of the limit, so a busy tenant costs one KV round trip per block
 * instead of two per webhook. The shared count never exceeds the limit; a
 * replica's unused part of a block is lost at the window's end, so with R
 * replicas a tenant may get up to R/20 of its limit less, never more.
 * Limits under 20 a minute take one request at a time (exact).
 */
const BLOCKS_PER_WINDOW = 20;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Allowance {
  window: number;
  /** The limit it was taken under: a changed limit applies at once, not next window. */
  perMinute: number;
  left: number;
  /** The shared count reached the limit: counts only grow, so deny until the window ends. */
  exhausted: boolean;
}

/**
 * Per-tenant requests-per-minute, shared by every ingress replica through a
 * NATS KV counter per fixed one-minute window, updated with compare-and-set.
 */
@Injectable()
export class TenantRateLimiter implements OnModuleInit {
  private counters!: KV;
  private readonly allowances = new Map<string, Allowance>();
  /** One block reservation per tenant at a time; concurrent requests wait for it. */
  private readonly reserving = new Map<string, Promise<void>>();

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(TOPOLOGY) private readonly topology: Topology,
  ) {}

  async onModuleInit(): Promise<void> {
    // Created (two-minute TTL) by the topology's owner, ensureTopology.
    this.counters = await new Kvm(this.nats).open(this.topology.rateLimitBucket);
  }

  async take(tenantId: string, perMinute: number, now = Date.now()): Promise<RateDecision> {
    const window = Math.floor(now / MINUTE_MS);
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * MINUTE_MS - now) / 1000));
    // Lost compare-and-set races; waiting for this replica's own reservation is not one.
    let races = 0;
    while (races < MAX_CAS_ATTEMPTS) {
      const allowance = this.allowances.get(tenantId);
      if (allowance && allowance.window === window && allowance.perMinute === perMinute) {
        if (allowance.left > 0) {
          allowance.left--;
          return { allowed: true };
        }
        if (allowance.exhausted) return { allowed: false, retryAfterSeconds };
      }
      const pending = this.reserving.get(tenantId);
      if (pending) {
        await pending;
        continue;
      }
      const reservation = this.reserve(tenantId, perMinute, window);
      // Waiters only need to know it ended; the caller below sees its error.
      this.reserving.set(
        tenantId,
        reservation.then(
          () => undefined,
          () => undefined,
        ),
      );
      let granted: number | undefined;
      try {
        granted = await reservation;
      } finally {
        this.reserving.delete(tenantId);
      }
      if (granted === 0) {
        this.allowances.set(tenantId, { window, perMinute, left: 0, exhausted: true });
        return { allowed: false, retryAfterSeconds };
      }
      if (granted === undefined) races++;
      else this.allowances.set(tenantId, { window, perMinute, left: granted, exhausted: false });
    }
    // Heavy contention on one tenant's counter: ask the sender to come back shortly.
    return { allowed: false, retryAfterSeconds: 1 };
  }

  /** Takes up to one block from the shared counter: how many (0 when the window is used up), undefined on a lost race. */
  private async reserve(
    tenantId: string,
    perMinute: number,
    window: number,
  ): Promise<number | undefined> {
    const key = `${tenantId}.${window}`;
    const block = Math.max(1, Math.floor(perMinute / BLOCKS_PER_WINDOW));
    const entry = await this.counters.get(key);
    const count = entry && entry.operation === 'PUT' ? Number(entry.string()) : 0;
    const granted = Math.min(block, perMinute - count);
    if (granted <= 0) return 0;
    try {
      if (!entry || entry.operation !== 'PUT') await this.counters.create(key, String(granted));
      else await this.counters.update(key, String(count + granted), entry.revision);
      return granted;
    } catch {
      // Another replica changed the counter first: read it again.
      return undefined;
    }
  }
}
