import {
  EnhancementPreferencesSchema,
  RateLimitsSchema,
  ServiceDeskOAuthSecretSchema,
  ServiceDeskSettingsSchema,
} from '@tep/contracts';
import { z } from 'zod';

/**
 * The admin commands, shared by the HTTP and gRPC transports. All strict:
 * unknown and privileged fields (tenant_id, encrypted columns, timestamps,
 * status) are refused, never silently ignored.
 */
const credentials = {
  /** On-premises API key (authtoken). */
  servicedesk_api_key: z.string().trim().min(1).max(1000).optional(),
  /** Cloud OAuth client and refresh token; stored encrypted. */
  servicedesk_oauth: ServiceDeskOAuthSecretSchema.strict().optional(),
};

function requireCredentials(
  value: {
    servicedesk_settings?: { auth_kind: 'authtoken' | 'oauth' };
    servicedesk_api_key?: string;
    servicedesk_oauth?: unknown;
  },
  ctx: z.RefinementCtx,
): void {
  const kind = value.servicedesk_settings?.auth_kind ?? 'authtoken';
  if (kind === 'oauth' && !value.servicedesk_oauth) {
    ctx.addIssue({
      code: 'custom',
      path: ['servicedesk_oauth'],
      message: 'is required when auth_kind is oauth',
    });
  }
  if (kind === 'authtoken' && !value.servicedesk_api_key) {
    ctx.addIssue({ code: 'custom', path: ['servicedesk_api_key'], message: 'is required' });
  }
}

export const CreateTenantCommandSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    servicedesk_url: z.string().trim().url().max(2048),
    ...credentials,
    servicedesk_settings: ServiceDeskSettingsSchema.default(ServiceDeskSettingsSchema.parse({})),
    tier: z.enum(['basic', 'premium']).default('basic'),
    admin_email: z.string().trim().email().max(320).optional(),
    enhancement_preferences: EnhancementPreferencesSchema.default(
      EnhancementPreferencesSchema.parse({}),
    ),
    rate_limits: RateLimitsSchema.default(RateLimitsSchema.parse({})),
  })
  .strict()
  .superRefine(requireCredentials);
export type CreateTenantCommand = z.infer<typeof CreateTenantCommandSchema>;

export const UpdateTenantCommandSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    admin_email: z.string().trim().email().max(320).nullable().optional(),
    servicedesk_url: z.string().trim().url().max(2048).optional(),
    servicedesk_settings: ServiceDeskSettingsSchema.optional(),
    /**
     * A new credential (rotation); required whenever the request changes
     * where the stored one would be sent (servicedesk_url, the auth kind or
     * the Zoho accounts server): a credential only goes to the host it was
     * entered for.
     */
    ...credentials,
    /** Replaces the preferences; omitted keys take their defaults. */
    enhancement_preferences: EnhancementPreferencesSchema.optional(),
    rate_limits: RateLimitsSchema.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field is required' });
export type UpdateTenantCommand = z.infer<typeof UpdateTenantCommandSchema>;

export const RotateWebhookSecretCommandSchema = z
  .object({
    /** How long the previous secret keeps working; default from configuration. */
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .optional(),
  })
  .strict();
export type RotateWebhookSecretCommand = z.infer<typeof RotateWebhookSecretCommandSchema>;

export const RotateServiceDeskKeyCommandSchema = z
  .object(credentials)
  .strict()
  .refine((v) => v.servicedesk_api_key || v.servicedesk_oauth, {
    message: 'servicedesk_api_key or servicedesk_oauth is required',
  });
export type RotateServiceDeskKeyCommand = z.infer<typeof RotateServiceDeskKeyCommandSchema>;

export const SetWebhookAuthSchemeCommandSchema = z
  .object({
    scheme: z.enum(['hmac', 'static_header']),
    /** The weaker scheme must be asked for knowingly. */
    acknowledge_weaker_security: z.boolean().optional(),
  })
  .strict()
  .refine((v) => v.scheme === 'hmac' || v.acknowledge_weaker_security === true, {
    path: ['acknowledge_weaker_security'],
    message: 'must be true to use static_header: anyone who sees the header can forge webhooks',
  });
export type SetWebhookAuthSchemeCommand = z.infer<typeof SetWebhookAuthSchemeCommandSchema>;

export const ListTenantsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    after: z.string().uuid().optional(),
  })
  .strict();
export type ListTenantsQuery = z.infer<typeof ListTenantsQuerySchema>;

export const OffboardQuerySchema = z
  .object({
    purge: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  })
  .strict();

export const OnboardingRecordSchema = z
  .object({
    completed_at: z.string().datetime(),
    operator: z.string().max(200).optional(),
    checklist: z
      .array(
        z.object({
          item: z.string().max(300),
          section: z.string().max(100),
          passed: z.boolean(),
          detail: z.string().max(1000).optional(),
        }),
      )
      .max(100),
  })
  .strict();
export type OnboardingRecord = z.infer<typeof OnboardingRecordSchema>;

export const AuditQuerySchema = z
  .object({
    tenant_id: z.string().uuid().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    before: z.string().regex(/^\d+$/).optional(),
  })
  .strict();
