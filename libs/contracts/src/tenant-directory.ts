import { z } from 'zod';

/**
 * What the ingress needs to know about a tenant, published by the registry
 * to a NATS KV bucket so the webhook hot path never waits on Postgres.
 * Secrets stay Fernet-encrypted here; only the ingress holds the key.
 */
export const TenantDirectoryEntrySchema = z.object({
  tenant_id: z.string().uuid(),
  status: z.enum(['active', 'disabled']),
  /** Active webhook secrets, newest first; two during a rotation. */
  webhook_secrets: z
    .array(
      z.object({
        encrypted: z.string().min(1),
        /** After this instant the secret stops being accepted (rotation grace). */
        expires_at: z.string().datetime().nullable(),
      }),
    )
    .min(1),
  /**
   * hmac: X-ServiceDesk-Signature over the body (default). static_header:
   * the secret itself in X-ServiceDesk-Token — weaker, an explicit per-tenant
   * choice for SDPs that cannot sign.
   */
  auth_scheme: z.enum(['hmac', 'static_header']).default('hmac'),
  rate_limits: z.object({ requests_per_minute: z.number().int().positive().nullable() }),
  updated_at: z.string().datetime(),
});
export type TenantDirectoryEntry = z.infer<typeof TenantDirectoryEntrySchema>;
