import { ServiceDeskOAuthSecretSchema, ServiceDeskSettingsSchema } from '@tep/contracts';
import type { SecretCipher } from '@tep/encryption';
import type { ServiceDeskAuth } from './auth';
import { ServiceDeskClient, type ServiceDeskClientOptions } from './client';
import { zohoAccountsUrl } from './zoho';

/** The tenant_configs columns a client is built from. */
export interface TenantServiceDeskConfig {
  servicedesk_url: string;
  servicedesk_api_key_encrypted: string;
  servicedesk_settings: unknown;
}

/**
 * A client for one tenant's SDP: settings say on-premises `authtoken` or
 * Cloud OAuth; the credential is decrypted here and nowhere else.
 */
export function clientForTenant(
  tenant: TenantServiceDeskConfig,
  cipher: SecretCipher,
  options: Pick<
    ServiceDeskClientOptions,
    'timeoutMs' | 'beforeConnect' | 'onResult' | 'tokenStore'
  > & {
    timeoutMs: number;
  },
): ServiceDeskClient {
  const settings = ServiceDeskSettingsSchema.parse(tenant.servicedesk_settings ?? {});
  const secret = cipher.decrypt(tenant.servicedesk_api_key_encrypted);
  let auth: ServiceDeskAuth;
  if (settings.auth_kind === 'oauth') {
    const oauth = ServiceDeskOAuthSecretSchema.parse(JSON.parse(secret));
    auth = {
      kind: 'oauth',
      accountsUrl: settings.accounts_url ?? zohoAccountsUrl(settings.data_centre ?? 'us'),
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
    baseUrl: tenant.servicedesk_url,
    portal: settings.portal,
    auth,
    noteWrapperKey:
      settings.note_wrapper_key ?? (settings.auth_kind === 'oauth' ? 'request_note' : 'note'),
    timeoutMs: options.timeoutMs,
    beforeConnect: options.beforeConnect,
    onResult: options.onResult,
    tokenStore: options.tokenStore,
  });
}
