import { Inject, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import { RegistryAdminStore } from '@tep/data';
import type { SecretCipher } from '@tep/encryption';
import { TenantDirectoryPublisher } from '../tenant-directory/tenant-directory.publisher';
import type { CreateTenantCommand, CreatedTenant } from './create-tenant.command';
import { UnsafeUrlError, assertPublicUrl } from '@tep/url-guard';

export const REGISTRY_CIPHER = Symbol('REGISTRY_CIPHER');
export interface CreateTenantSettings {
  publicWebhookBaseUrl: string;
  allowInsecureServiceDeskUrls: boolean;
}
export const CREATE_TENANT_SETTINGS = Symbol('CREATE_TENANT_SETTINGS');

/**
 * The runbook's steps 1–2 in one call: generate the tenant id and the
 * webhook secret (32 random bytes, hex), encrypt the credentials, store the
 * row and publish the tenant to the ingress — all or nothing.
 */
@Injectable()
export class CreateTenant {
  constructor(
    private readonly store: RegistryAdminStore,
    private readonly directory: TenantDirectoryPublisher,
    @Inject(REGISTRY_CIPHER) private readonly cipher: SecretCipher,
    @Inject(CREATE_TENANT_SETTINGS) private readonly settings: CreateTenantSettings,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(CreateTenant.name);
  }

  async execute(command: CreateTenantCommand): Promise<CreatedTenant> {
    try {
      await assertPublicUrl(command.servicedesk_url, {
        allowInsecure: this.settings.allowInsecureServiceDeskUrls,
      });
    } catch (error) {
      if (!(error instanceof UnsafeUrlError)) throw error;
      throw new UnprocessableEntityException({
        status: 'rejected',
        error: 'validation_failed',
        message: 'Request body is invalid',
        fields: [{ field: 'servicedesk_url', message: error.message }],
      });
    }
    const tenantId = randomUUID();
    const webhookSecret = randomBytes(32).toString('hex');
    const row = await this.store.insert(
      {
        tenant_id: tenantId,
        name: command.name,
        servicedesk_url: command.servicedesk_url.replace(/\/+$/, ''),
        servicedesk_api_key_encrypted: this.cipher.encrypt(command.servicedesk_api_key),
        webhook_signing_secret_encrypted: this.cipher.encrypt(webhookSecret),
        enhancement_preferences: command.enhancement_preferences,
        rate_limits: command.rate_limits,
        tier: command.tier,
        admin_email: command.admin_email ?? null,
      },
      (inserted) => this.directory.publish(inserted),
    );
    this.logger.info(
      { tenant_id: tenantId, tier: row.tier },
      `Tenant created: tenant_id=${tenantId}`,
    );
    const webhookUrl = new URL('/webhook/servicedesk', this.settings.publicWebhookBaseUrl);
    webhookUrl.searchParams.set('tenant_id', tenantId);
    return {
      tenant_id: tenantId,
      name: row.name,
      tier: row.tier,
      webhook_url: webhookUrl.toString(),
      webhook_secret: webhookSecret,
      signature_header: 'X-ServiceDesk-Signature',
      enhancement_preferences: command.enhancement_preferences,
      created_at: new Date(row.created_at).toISOString(),
    };
  }
}
