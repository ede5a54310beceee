import { EnhancementPreferencesSchema, RateLimitsSchema } from '@tep/contracts';
import { z } from 'zod';

/**
 * POST /tenants. Strict: unknown and privileged fields (tenant_id, the
 * encrypted columns, timestamps, status) are refused, not ignored.
 */
export const CreateTenantCommandSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    servicedesk_url: z.string().trim().url().max(2048),
    servicedesk_api_key: z.string().trim().min(1).max(1000),
    tier: z.enum(['basic', 'premium']).default('basic'),
    admin_email: z.string().trim().email().max(320).optional(),
    enhancement_preferences: EnhancementPreferencesSchema.default(
      EnhancementPreferencesSchema.parse({}),
    ),
    rate_limits: RateLimitsSchema.default({ requests_per_minute: null }),
  })
  .strict();
export type CreateTenantCommand = z.infer<typeof CreateTenantCommandSchema>;

export interface CreatedTenant {
  tenant_id: string;
  name: string;
  tier: 'basic' | 'premium';
  webhook_url: string;
  /** Shown once; stored only encrypted. */
  webhook_secret: string;
  signature_header: 'X-ServiceDesk-Signature';
  enhancement_preferences: z.infer<typeof EnhancementPreferencesSchema>;
  created_at: string;
}
