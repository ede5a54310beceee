import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { PinoLogger } from 'nestjs-pino';
import {
  TenantDirectoryEntrySchema,
  type TenantDirectoryEntry,
  type Topology,
} from '@tep/contracts';
import { RegistryAdminStore, type TenantConfigRow } from '@tep/data';
import { NATS_CONNECTION, TOPOLOGY } from '@tep/service-runtime';
import { activePreviousSecretExpiry, rateLimitsOf } from '../tenant-admin/tenant-view';

/** The KV entry the ingress reads for a tenant (secrets stay encrypted). */
export function directoryEntryFor(row: TenantConfigRow): TenantDirectoryEntry {
  const previousExpiry = activePreviousSecretExpiry(row);
  const previous = previousExpiry
    ? [
        {
          encrypted: row.webhook_signing_secret_previous_encrypted!,
          expires_at: previousExpiry.toISOString(),
        },
      ]
    : [];
  return TenantDirectoryEntrySchema.parse({
    tenant_id: row.tenant_id,
    status: row.status,
    auth_scheme: row.webhook_auth_scheme,
    // The ingress stops accepting the previous secret at expires_at on its own.
    webhook_secrets: [
      { encrypted: row.webhook_signing_secret_encrypted, expires_at: null },
      ...previous,
    ],
    rate_limits: rateLimitsOf(row),
    updated_at: new Date(row.updated_at).toISOString(),
  });
}

/**
 * Keeps the ingress's tenant directory (a NATS KV bucket) in step with
 * tenant_configs: every change is published, and at start every tenant is
 * republished so a fresh NATS is filled again.
 */
@Injectable()
export class TenantDirectoryPublisher implements OnApplicationBootstrap {
  private kv?: Promise<KV>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    private readonly store: RegistryAdminStore,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(TenantDirectoryPublisher.name);
  }

  private bucket(): Promise<KV> {
    this.kv ??= new Kvm(this.nats).open(this.topology.tenantDirectoryBucket);
    return this.kv;
  }

  async publish(row: TenantConfigRow): Promise<void> {
    const kv = await this.bucket();
    await kv.put(row.tenant_id, JSON.stringify(directoryEntryFor(row)));
  }

  async remove(tenantId: string): Promise<void> {
    const kv = await this.bucket();
    // Purge, not delete: no earlier value of the tenant's entry stays in the bucket.
    await kv.purge(tenantId);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.store.assertRegistryRole();
    let after: string | undefined;
    let count = 0;
    for (;;) {
      const page = await this.store.list({ limit: 200, after });
      for (const row of page) {
        try {
          await this.publish(row);
          count++;
        } catch (error) {
          this.logger.error(
            { tenant_id: row.tenant_id, err: String(error) },
            'Could not publish tenant',
          );
        }
      }
      if (page.length < 200) break;
      after = page[page.length - 1].tenant_id;
    }
    this.logger.info({ tenants: count }, 'Tenant directory synchronised');
  }
}
