import type { TenantDirectoryEntry } from '@tep/contracts';
import type { SecretCipher } from '@tep/encryption';

/** Test-only: a tenant directory entry as the registry publishes it (JSON, secrets encrypted). */
export function directoryEntry(
  cipher: SecretCipher,
  tenantId: string,
  secrets: string[],
  status: 'active' | 'disabled' = 'active',
  extra: { auth_scheme?: 'hmac' | 'static_header'; requests_per_minute?: number } = {},
): string {
  return JSON.stringify({
    tenant_id: tenantId,
    status,
    auth_scheme: extra.auth_scheme ?? 'hmac',
    webhook_secrets: secrets.map((s) => ({ encrypted: cipher.encrypt(s), expires_at: null })),
    rate_limits: { requests_per_minute: extra.requests_per_minute ?? null },
    updated_at: new Date().toISOString(),
  } satisfies TenantDirectoryEntry);
}
