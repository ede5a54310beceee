import {
  ServiceDeskOAuthSecretSchema,
  ServiceDeskSettingsSchema,
  StageError,
} from '@tep/contracts';
import type { TenantTransaction } from '@tep/data';
import type { SecretCipher } from '@tep/encryption';
import { ServiceDeskClient, ServiceDeskError, type ServiceDeskAuth } from '@tep/servicedesk-client';

export interface TenantServiceDeskRow {
  servicedesk_url: string;
  servicedesk_api_key_encrypted: string;
  servicedesk_settings: unknown;
  enhancement_preferences: unknown;
}

export async function loadTenantServiceDesk(
  tx: TenantTransaction,
): Promise<TenantServiceDeskRow | undefined> {
  const rows = await tx.query<TenantServiceDeskRow>(
    `SELECT servicedesk_url, servicedesk_api_key_encrypted, servicedesk_settings, enhancement_preferences
       FROM tenant_configs WHERE tenant_id = $1`,
    [tx.tenantId],
  );
  return rows[0];
}

/** A client for this tenant's SDP, credentials decrypted only here. */
export function clientForTenant(
  row: TenantServiceDeskRow,
  cipher: SecretCipher,
  options: { timeoutMs: number; beforeConnect?: (url: URL) => Promise<void> },
): ServiceDeskClient {
  const settings = ServiceDeskSettingsSchema.parse(row.servicedesk_settings ?? {});
  const secret = cipher.decrypt(row.servicedesk_api_key_encrypted);
  let auth: ServiceDeskAuth;
  if (settings.auth_kind === 'oauth') {
    const oauth = ServiceDeskOAuthSecretSchema.parse(JSON.parse(secret));
    auth = {
      kind: 'oauth',
      accountsUrl: settings.accounts_url ?? 'https://accounts.zoho.com',
      clientId: oauth.client_id,
      clientSecret: oauth.client_secret,
      refreshToken: oauth.refresh_token,
    };
  } else {
    auth = {
      kind: 'authtoken',
      apiKey: secret,
      header: settings.authtoken_header,
      portalId: settings.portal_id,
    };
  }
  return new ServiceDeskClient({
    baseUrl: row.servicedesk_url,
    portal: settings.portal,
    auth,
    noteWrapperKey: settings.note_wrapper_key,
    timeoutMs: options.timeoutMs,
    beforeConnect: options.beforeConnect,
  });
}

/** One exhaustive mapping from SDP failures to what the stage does next. */
export function toStageError(error: unknown): unknown {
  if (!(error instanceof ServiceDeskError)) return error;
  switch (error.kind) {
    case 'auth':
      return new StageError(
        'auth_rejected',
        `ServiceDesk Plus rejected the credentials: ${error.message}`,
      );
    case 'not_found':
      return new StageError(
        'ticket_not_found',
        `ServiceDesk Plus has no such request: ${error.message}`,
      );
    case 'validation':
    case 'unexpected_response':
      return new StageError(
        'validation_rejected',
        `ServiceDesk Plus refused the note: ${error.message}`,
      );
    case 'rate_limited':
      return new StageError('rate_limited', error.message, error.retryAfterMs);
    case 'unavailable':
    case 'timeout':
      return new StageError('upstream_unavailable', error.message, error.retryAfterMs);
  }
}
