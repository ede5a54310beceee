import { RateLimitsSchema, readEnhancementPreferences } from '@tep/contracts';
import type { TenantConfigRow } from '@tep/data';

/** A tenant as the admin API shows it: never a secret, encrypted or not. */
export function tenantView(row: TenantConfigRow, publicWebhookBaseUrl: string) {
  return {
    tenant_id: row.tenant_id,
    name: row.name,
    tier: row.tier,
    status: row.status,
    admin_email: row.admin_email,
    servicedesk_url: row.servicedesk_url,
    servicedesk_settings: row.servicedesk_settings,
    webhook_url: webhookUrl(publicWebhookBaseUrl, row.tenant_id),
    webhook_auth_scheme: row.webhook_auth_scheme,
    /** Flagged so nobody mistakes the fallback for signed webhooks. */
    webhook_auth_weaker: row.webhook_auth_scheme === 'static_header',
    previous_webhook_secret_expires_at: activePreviousSecretExpiry(row)?.toISOString() ?? null,
    enhancement_preferences: readEnhancementPreferences(row.enhancement_preferences),
    rate_limits: rateLimitsOf(row),
    onboarding_record: row.onboarding_record,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
export type TenantView = ReturnType<typeof tenantView>;

export function webhookUrl(base: string, tenantId: string): string {
  const url = new URL('/webhook/servicedesk', base);
  url.searchParams.set('tenant_id', tenantId);
  return url.toString();
}

export function activePreviousSecretExpiry(
  row: TenantConfigRow,
  now = Date.now(),
): Date | undefined {
  const expires = row.webhook_signing_secret_previous_expires_at;
  if (!row.webhook_signing_secret_previous_encrypted || !expires) return undefined;
  const at = new Date(expires);
  return at.getTime() > now ? at : undefined;
}

/** Stored limits read leniently: a hand-written row with bad JSON gets the default limit. */
export function rateLimitsOf(row: TenantConfigRow): { requests_per_minute: number | null } {
  const limits = RateLimitsSchema.safeParse(row.rate_limits);
  return limits.success ? limits.data : RateLimitsSchema.parse({});
}
