import { z } from 'zod';

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
    /** Cloud: the Zoho accounts server of the tenant's data centre. */
    accounts_url: z.string().url().optional(),
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
