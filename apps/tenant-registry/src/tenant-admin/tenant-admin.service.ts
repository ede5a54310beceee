import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import { RegistryAdminStore, type NewAuditEntry, type TenantConfigRow } from '@tep/data';
import type { SecretCipher } from '@tep/encryption';
import { UnsafeUrlError, assertPublicUrl } from '@tep/url-guard';
import { ServiceDeskSettingsSchema } from '@tep/contracts';
import { tenantAccountsUrl, zohoAccountsUrlProblem } from '@tep/servicedesk-client';
import { TenantDirectoryPublisher } from '../tenant-directory/tenant-directory.publisher';
import type {
  CreateTenantCommand,
  ListTenantsQuery,
  OnboardingRecord,
  RotateServiceDeskKeyCommand,
  RotateWebhookSecretCommand,
  SetWebhookAuthSchemeCommand,
  UpdateTenantCommand,
} from './commands';
import { RegistryError } from './registry-error';
import { tenantView, type TenantView } from './tenant-view';

/** Webhook secrets (TENANT_ENCRYPTION_KEY, shared with the ingress). */
export const REGISTRY_CIPHER = Symbol('REGISTRY_CIPHER');
/** SDP credentials (SERVICEDESK_CREDENTIAL_KEY, shared with the poster only). */
export const CREDENTIAL_CIPHER = Symbol('CREDENTIAL_CIPHER');
export const TENANT_ADMIN_SETTINGS = Symbol('TENANT_ADMIN_SETTINGS');
export interface TenantAdminSettings {
  publicWebhookBaseUrl: string;
  allowInsecureServiceDeskUrls: boolean;
  webhookSecretGraceSeconds: number;
}

/** Who did it, for the audit log (a token's name, never the token). */
export interface Actor {
  name: string;
}

/** 32 random bytes, hex — as the runbook's `openssl rand -hex 32`. */
const newWebhookSecret = () => randomBytes(32).toString('hex');

/**
 * The registry's use cases. Both transports (HTTP and gRPC) call these and
 * nothing else; every change is audited (never with secret values) and
 * published to the ingress's tenant directory inside the same transaction.
 */
@Injectable()
export class TenantAdmin {
  constructor(
    private readonly store: RegistryAdminStore,
    private readonly directory: TenantDirectoryPublisher,
    @Inject(REGISTRY_CIPHER) private readonly cipher: SecretCipher,
    @Inject(CREDENTIAL_CIPHER) private readonly credentialCipher: SecretCipher,
    @Inject(TENANT_ADMIN_SETTINGS) private readonly settings: TenantAdminSettings,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(TenantAdmin.name);
  }

  async create(
    actor: Actor,
    command: CreateTenantCommand,
  ): Promise<TenantView & { webhook_secret: string; signature_header: string }> {
    await this.checkServiceDeskUrl(command.servicedesk_url);
    this.checkAccountsUrl(command.servicedesk_settings);
    const tenantId = randomUUID();
    const webhookSecret = newWebhookSecret();
    const row = await this.store.insert(
      {
        tenant_id: tenantId,
        name: command.name,
        servicedesk_url: command.servicedesk_url.replace(/\/+$/, ''),
        servicedesk_api_key_encrypted: this.encryptCredential(command),
        servicedesk_settings: command.servicedesk_settings,
        webhook_signing_secret_encrypted: this.cipher.encrypt(webhookSecret),
        webhook_auth_scheme: 'hmac',
        enhancement_preferences: command.enhancement_preferences,
        rate_limits: command.rate_limits,
        tier: command.tier,
        admin_email: command.admin_email ?? null,
      },
      auditEntry(actor, 'tenant.created', tenantId, { name: command.name, tier: command.tier }),
      (inserted) => this.directory.publish(inserted),
    );
    this.logger.info(
      { tenant_id: tenantId, tier: row.tier },
      `Tenant created: tenant_id=${tenantId}`,
    );
    return {
      ...this.view(row),
      webhook_secret: webhookSecret,
      signature_header: 'X-ServiceDesk-Signature',
    };
  }

  async list(
    query: ListTenantsQuery,
  ): Promise<{ tenants: TenantView[]; next_cursor: string | null }> {
    const rows = await this.store.list({ limit: query.limit + 1, after: query.after });
    const page = rows.slice(0, query.limit);
    return {
      tenants: page.map((r) => this.view(r)),
      next_cursor: rows.length > query.limit ? page[page.length - 1].tenant_id : null,
    };
  }

  async get(tenantId: string): Promise<TenantView> {
    return this.view(await this.require(tenantId));
  }

  async update(actor: Actor, tenantId: string, command: UpdateTenantCommand): Promise<TenantView> {
    if (command.servicedesk_url) await this.checkServiceDeskUrl(command.servicedesk_url);
    this.checkAccountsUrl(command.servicedesk_settings);
    const credential = this.credentialForUpdate(await this.require(tenantId), command);
    const row = await this.change(
      tenantId,
      {
        name: command.name,
        admin_email: command.admin_email,
        servicedesk_url: command.servicedesk_url?.replace(/\/+$/, ''),
        servicedesk_api_key_encrypted: credential,
        servicedesk_settings: command.servicedesk_settings,
        enhancement_preferences: command.enhancement_preferences,
        rate_limits: command.rate_limits,
      },
      // Field names only: never a credential's value.
      auditEntry(actor, 'tenant.updated', tenantId, { fields: Object.keys(command) }),
    );
    return this.view(row);
  }

  async setStatus(
    actor: Actor,
    tenantId: string,
    status: 'active' | 'disabled',
  ): Promise<TenantView> {
    const row = await this.change(
      tenantId,
      { status },
      auditEntry(actor, status === 'active' ? 'tenant.enabled' : 'tenant.disabled', tenantId),
    );
    return this.view(row);
  }

  /** New secret now; the old one keeps working for the grace period, then stops. */
  async rotateWebhookSecret(
    actor: Actor,
    tenantId: string,
    command: RotateWebhookSecretCommand,
  ): Promise<{
    tenant_id: string;
    webhook_secret: string;
    previous_secret_expires_at: string | null;
  }> {
    const current = await this.require(tenantId);
    const graceSeconds = command.grace_seconds ?? this.settings.webhookSecretGraceSeconds;
    const expiresAt = new Date(Date.now() + graceSeconds * 1000);
    const secret = newWebhookSecret();
    await this.change(
      tenantId,
      {
        webhook_signing_secret_encrypted: this.cipher.encrypt(secret),
        webhook_signing_secret_previous_encrypted:
          graceSeconds > 0 ? current.webhook_signing_secret_encrypted : null,
        webhook_signing_secret_previous_expires_at: graceSeconds > 0 ? expiresAt : null,
      },
      auditEntry(actor, 'tenant.webhook_secret_rotated', tenantId, { grace_seconds: graceSeconds }),
    );
    return {
      tenant_id: tenantId,
      webhook_secret: secret,
      previous_secret_expires_at: graceSeconds > 0 ? expiresAt.toISOString() : null,
    };
  }

  async rotateServiceDeskKey(
    actor: Actor,
    tenantId: string,
    command: RotateServiceDeskKeyCommand,
  ): Promise<TenantView> {
    const row = await this.change(
      tenantId,
      { servicedesk_api_key_encrypted: this.encryptCredential(command) },
      auditEntry(actor, 'tenant.servicedesk_key_rotated', tenantId),
    );
    return this.view(row);
  }

  async setWebhookAuthScheme(
    actor: Actor,
    tenantId: string,
    command: SetWebhookAuthSchemeCommand,
  ): Promise<TenantView> {
    const row = await this.change(
      tenantId,
      { webhook_auth_scheme: command.scheme },
      auditEntry(actor, 'tenant.webhook_auth_scheme_set', tenantId, { scheme: command.scheme }),
    );
    if (command.scheme === 'static_header') {
      this.logger.warn(
        { tenant_id: tenantId },
        `Tenant ${tenantId} now uses the weaker static-header webhook authentication`,
      );
    }
    return this.view(row);
  }

  async recordOnboarding(
    actor: Actor,
    tenantId: string,
    record: OnboardingRecord,
  ): Promise<TenantView> {
    const failed = record.checklist.filter((c) => !c.passed).length;
    const row = await this.change(
      tenantId,
      { onboarding_record: record },
      auditEntry(actor, 'tenant.onboarding_recorded', tenantId, {
        items: record.checklist.length,
        failed,
      }),
    );
    return this.view(row);
  }

  /** Offboarding: configuration removed (and with `purge`, every tenant row), counts reported. */
  async offboard(
    actor: Actor,
    tenantId: string,
    purge: boolean,
  ): Promise<{ tenant_id: string; deleted: Record<string, number> }> {
    const deleted = await this.store.delete(
      tenantId,
      { purge },
      (counts) => auditEntry(actor, 'tenant.offboarded', tenantId, { purge, deleted: counts }),
      () => this.directory.remove(tenantId),
    );
    if (!deleted) throw new RegistryError('not_found', `No tenant ${tenantId}`);
    this.logger.info({ tenant_id: tenantId, deleted }, `Tenant offboarded: tenant_id=${tenantId}`);
    return { tenant_id: tenantId, deleted };
  }

  async auditLog(query: { tenant_id?: string; limit: number; before?: string }) {
    const entries = await this.store.listAudit({
      tenantId: query.tenant_id,
      limit: query.limit,
      before: query.before,
    });
    return {
      entries: entries.map((e) => ({ ...e, occurred_at: new Date(e.occurred_at).toISOString() })),
      next_cursor: entries.length === query.limit ? entries[entries.length - 1].id : null,
    };
  }

  private view(row: TenantConfigRow): TenantView {
    return tenantView(row, this.settings.publicWebhookBaseUrl);
  }

  private async require(tenantId: string): Promise<TenantConfigRow> {
    const row = await this.store.get(tenantId);
    if (!row) throw new RegistryError('not_found', `No tenant ${tenantId}`);
    return row;
  }

  /** The change, its audit entry and the directory update commit together or not at all. */
  private async change(
    tenantId: string,
    patch: Parameters<RegistryAdminStore['update']>[1],
    audit: NewAuditEntry,
  ): Promise<TenantConfigRow> {
    const row = await this.store.update(tenantId, patch, audit, (updated) =>
      this.directory.publish(updated),
    );
    if (!row) throw new RegistryError('not_found', `No tenant ${tenantId}`);
    return row;
  }

  /**
   * The encrypted new credential, if the update carries one. A change of
   * where the stored credential would go (the ServiceDesk URL, the auth
   * kind, the Zoho accounts server) requires it: a stolen admin token must
   * not be able to point a tenant's credential at another host.
   */
  private credentialForUpdate(
    current: TenantConfigRow,
    command: UpdateTenantCommand,
  ): string | undefined {
    const before = ServiceDeskSettingsSchema.parse(current.servicedesk_settings ?? {});
    const after = command.servicedesk_settings ?? before;
    const redirected =
      (command.servicedesk_url !== undefined &&
        command.servicedesk_url.replace(/\/+$/, '') !== current.servicedesk_url) ||
      after.auth_kind !== before.auth_kind ||
      (after.auth_kind === 'oauth' && tenantAccountsUrl(after) !== tenantAccountsUrl(before));
    const given =
      after.auth_kind === 'oauth' ? command.servicedesk_oauth : command.servicedesk_api_key;
    const field = after.auth_kind === 'oauth' ? 'servicedesk_oauth' : 'servicedesk_api_key';
    if (command.servicedesk_oauth && after.auth_kind !== 'oauth') {
      throw new RegistryError('invalid', 'Request body is invalid', [
        { field: 'servicedesk_oauth', message: 'is only for auth_kind oauth' },
      ]);
    }
    if (command.servicedesk_api_key && after.auth_kind === 'oauth') {
      throw new RegistryError('invalid', 'Request body is invalid', [
        { field: 'servicedesk_api_key', message: 'is only for auth_kind authtoken' },
      ]);
    }
    if (redirected && !given) {
      throw new RegistryError('invalid', 'Request body is invalid', [
        {
          field,
          message:
            'is required in the same request when servicedesk_url, the auth kind or the accounts server changes: a stored credential is never sent to a host it was not entered for',
        },
      ]);
    }
    return given ? this.encryptCredential(command) : undefined;
  }

  private encryptCredential(command: {
    servicedesk_api_key?: string;
    servicedesk_oauth?: object;
  }): string {
    return this.credentialCipher.encrypt(
      command.servicedesk_oauth
        ? JSON.stringify(command.servicedesk_oauth)
        : command.servicedesk_api_key!,
    );
  }

  private async checkServiceDeskUrl(url: string): Promise<void> {
    try {
      await assertPublicUrl(url, { allowInsecure: this.settings.allowInsecureServiceDeskUrls });
    } catch (error) {
      if (!(error instanceof UnsafeUrlError)) throw error;
      throw new RegistryError('invalid', 'Request body is invalid', [
        { field: 'servicedesk_url', message: error.message },
      ]);
    }
  }

  /** A refresh token may only ever go to an allow-listed Zoho accounts server. */
  private checkAccountsUrl(settings: { accounts_url?: string } | undefined): void {
    if (settings?.accounts_url === undefined) return;
    const problem = zohoAccountsUrlProblem(
      settings.accounts_url,
      this.settings.allowInsecureServiceDeskUrls,
    );
    if (problem) {
      throw new RegistryError('invalid', 'Request body is invalid', [
        { field: 'servicedesk_settings.accounts_url', message: problem },
      ]);
    }
  }
}

const auditEntry = (
  actor: Actor,
  action: string,
  tenantId: string,
  details: Record<string, unknown> = {},
): NewAuditEntry => ({ actor: actor.name, action, tenantId, details });
