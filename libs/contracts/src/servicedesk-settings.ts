import { z } from 'zod';

/** Zoho data centres that host ServiceDesk Plus Cloud (hosts: @tep/servicedesk-client's zoho.ts). */
export const ZOHO_DATA_CENTRE_IDS = [
  'us',
  'eu',
  'in',
  'au',
  'jp',
  'ca',
  'uk',
  'sa',
  'ae',
  'cn',
] as const;
export type ZohoDataCentre = (typeof ZOHO_DATA_CENTRE_IDS)[number];

/**
 * `tenant_configs.servicedesk_settings`: how to talk to this tenant's SDP.
 * Non-secret; the API key (on-premises) or the OAuth client secret and
 * refresh token (Cloud, as JSON) live encrypted in
 * `servicedesk_api_key_encrypted`.
 */
export const ServiceDeskSettingsSchema = z
  .object({
    auth_kind: z.enum(['authtoken', 'oauth']).default('authtoken'),
    /** Older on-premises builds want TECHNICIAN_KEY instead of authtoken. */
    authtoken_header: z.enum(['authtoken', 'TECHNICIAN_KEY']).default('authtoken'),
    portal: z.string().trim().min(1).max(100).optional(),
    portal_id: z.string().trim().min(1).max(100).optional(),
    /**
     * Cloud: request_note; current on-premises: note (the other is tried once).
     * Unset: chosen by auth_kind, so on-premises tenants are not sent the
     * wrong wrapper first on every note.
     */
    note_wrapper_key: z.enum(['request_note', 'note']).optional(),
    /** Cloud: the tenant's Zoho data centre; picks the accounts server (default us). */
    data_centre: z.enum(ZOHO_DATA_CENTRE_IDS).optional(),
    /**
     * Cloud: the Zoho accounts server itself, when it must be named; only
     * the allow-listed Zoho accounts hosts (the registry checks it).
     */
    accounts_url: z.string().url().max(300).optional(),
  })
  .strict();
export type ServiceDeskSettings = z.infer<typeof ServiceDeskSettingsSchema>;

/** Cloud OAuth credentials, stored encrypted as JSON. */
export const ServiceDeskOAuthSecretSchema = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  refresh_token: z.string().min(1),
});
export type ServiceDeskOAuthSecret = z.infer<typeof ServiceDeskOAuthSecretSchema>;
