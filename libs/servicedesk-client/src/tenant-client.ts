import {
  ServiceDeskOAuthSecretSchema,
  ServiceDeskSettingsSchema,
  type ServiceDeskSettings,
} from '@tep/contracts';
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

export type TenantClientOptions = Pick<
  ServiceDeskClientOptions,
  'timeoutMs' | 'maxRetries' | 'beforeConnect' | 'onResult' | 'tokenStore' | 'fetch'
> & {
  timeoutMs: number;
};

/** Cloud: the Zoho accounts server a tenant's settings name (its data centre's, default us). */
export function tenantAccountsUrl(
  settings: Pick<ServiceDeskSettings, 'accounts_url' | 'data_centre'>,
): string {
  return settings.accounts_url ?? zohoAccountsUrl(settings.data_centre ?? 'us');
}

/**
 * A client for one tenant's SDP: settings say on-premises `authtoken` or
 * Cloud OAuth; the credential is decrypted here and nowhere else.
 */
export function clientForTenant(
  tenant: TenantServiceDeskConfig,
  cipher: SecretCipher,
  options: TenantClientOptions,
): ServiceDeskClient {
  return clientForServiceDesk(
    {
      servicedesk_url: tenant.servicedesk_url,
      servicedesk_settings: tenant.servicedesk_settings,
      credential: cipher.decrypt(tenant.servicedesk_api_key_encrypted),
    },
    options,
  );
}

/**
 * The client `clientForTenant` builds, from the plaintext credential: the
 * API key (on-premises) or the OAuth secret as JSON (Cloud), exactly as the
 * registry stores it encrypted. For callers that hold the credential before
 * the tenant exists (`tep onboard`).
 */
export function clientForServiceDesk(
  tenant: { servicedesk_url: string; servicedesk_settings: unknown; credential: string },
  options: TenantClientOptions,
): ServiceDeskClient {
  const settings = ServiceDeskSettingsSchema.parse(tenant.servicedesk_settings ?? {});
  let auth: ServiceDeskAuth;
  if (settings.auth_kind === 'oauth') {
    const oauth = ServiceDeskOAuthSecretSchema.parse(JSON.parse(tenant.credential));
    auth = {
      kind: 'oauth',
      accountsUrl: tenantAccountsUrl(settings),
      clientId: oauth.client_id,
      clientSecret: oauth.client_secret,
      refreshToken: oauth.refresh_token,
    };
  } else {
    auth = {
      kind: 'authtoken',
      apiKey: tenant.credential,
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
    maxRetries: options.maxRetries,
    beforeConnect: options.beforeConnect,
    fetch: options.fetch,
    onResult: options.onResult,
    tokenStore: options.tokenStore,
  });
}
