/**
 * The tenant registry's admin API, the only way `tep` changes tenants (never
 * direct SQL: the registry encrypts, audits and publishes every change to the
 * ingress's directory in one transaction). Replies are checked with zod.
 */
import { z } from 'zod';
import { CheckFailedError, UnreachableError, UsageError, errorMessage } from './errors';

const REQUEST_TIMEOUT_MS = 15_000;

export const TenantViewSchema = z
  .object({
    tenant_id: z.string().uuid(),
    name: z.string(),
    tier: z.enum(['basic', 'premium']),
    status: z.enum(['active', 'disabled']),
    admin_email: z.string().nullable(),
    servicedesk_url: z.string(),
    webhook_url: z.string(),
    webhook_auth_scheme: z.enum(['hmac', 'static_header']),
    webhook_auth_weaker: z.boolean(),
    previous_webhook_secret_expires_at: z.string().nullable(),
    enhancement_preferences: z.record(z.string(), z.unknown()),
    rate_limits: z.object({ requests_per_minute: z.number().nullable() }).loose(),
    onboarding_record: z
      .object({
        completed_at: z.string(),
        operator: z.string().optional(),
        checklist: z.array(
          z
            .object({
              item: z.string(),
              section: z.string(),
              passed: z.boolean(),
              detail: z.string().optional(),
            })
            .loose(),
        ),
      })
      .loose()
      .nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .loose();
export type TenantView = z.infer<typeof TenantViewSchema>;

const FeedbackSummarySchema = z
  .object({
    ratings: z.number(),
    helpful: z.number(),
    not_helpful: z.number(),
    helpful_rate: z.number().nullable(),
    relevance_yes_rate: z.number().nullable(),
    average_quality: z.number().nullable(),
    average_accuracy: z.number().nullable(),
  })
  .loose();
export type FeedbackSummary = z.infer<typeof FeedbackSummarySchema>;

const CreatedTenantSchema = TenantViewSchema.extend({
  webhook_secret: z.string().min(1),
  signature_header: z.string(),
});
export type CreatedTenant = z.infer<typeof CreatedTenantSchema>;

const TenantListSchema = z.object({
  tenants: z.array(TenantViewSchema),
  next_cursor: z.string().nullable(),
});

const OffboardSchema = z.object({
  tenant_id: z.string(),
  deleted: z.record(z.string(), z.number()),
});
export type OffboardResult = z.infer<typeof OffboardSchema>;

const RotatedSecretSchema = z.object({
  tenant_id: z.string(),
  webhook_secret: z.string().min(1),
  previous_secret_expires_at: z.string().nullable(),
});
export type RotatedSecret = z.infer<typeof RotatedSecretSchema>;

export interface CreateTenantInput {
  name: string;
  servicedesk_url: string;
  /** On-premises: the technician's API key. */
  servicedesk_api_key?: string;
  /** How to talk to the tenant's SDP (`auth_kind`, Cloud `portal`, `data_centre`, `accounts_url`). */
  servicedesk_settings?: Record<string, unknown>;
  /** Cloud: the Zoho OAuth client and refresh token, stored encrypted. */
  servicedesk_oauth?: { client_id: string; client_secret: string; refresh_token: string };
  tier: 'basic' | 'premium';
  admin_email?: string;
  enhancement_preferences?: Record<string, unknown>;
  rate_limits?: { requests_per_minute: number | null };
}

export interface OnboardingRecordInput {
  completed_at: string;
  operator?: string;
  checklist: { item: string; section: string; passed: boolean; detail?: string }[];
}

/** The registry said there is no such tenant. */
export class TenantNotFoundError extends CheckFailedError {
  constructor(readonly tenantId: string) {
    super(`No tenant ${tenantId} in the registry`);
    this.name = 'TenantNotFoundError';
  }
}

interface ErrorBody {
  message?: string;
  fields?: { field: string; message: string }[];
}

export class RegistryClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async createTenant(input: CreateTenantInput): Promise<CreatedTenant> {
    return this.call('POST', '/tenants', CreatedTenantSchema, input);
  }

  async getTenant(tenantId: string): Promise<TenantView | undefined> {
    try {
      return await this.call('GET', `/tenants/${encodeURIComponent(tenantId)}`, TenantViewSchema);
    } catch (error) {
      if (error instanceof TenantNotFoundError) return undefined;
      throw error;
    }
  }

  /** The tenant's feedback summary (runbook step 6.3) since `since`. */
  async feedbackSummary(tenantId: string, since: string): Promise<FeedbackSummary> {
    return this.call(
      'GET',
      `/tenants/${encodeURIComponent(tenantId)}/feedback/summary?since=${encodeURIComponent(since)}`,
      FeedbackSummarySchema,
    );
  }

  /** Every tenant, page after page (the API pages by tenant_id). */
  async listTenants(): Promise<TenantView[]> {
    const all: TenantView[] = [];
    let after: string | null = null;
    do {
      const query: string = `?limit=200${after ? `&after=${after}` : ''}`;
      const page: z.infer<typeof TenantListSchema> = await this.call(
        'GET',
        `/tenants${query}`,
        TenantListSchema,
      );
      all.push(...page.tenants);
      after = page.next_cursor;
    } while (after);
    return all;
  }

  async offboard(tenantId: string, purge: boolean): Promise<OffboardResult> {
    return this.call(
      'DELETE',
      `/tenants/${encodeURIComponent(tenantId)}?purge=${purge ? 'true' : 'false'}`,
      OffboardSchema,
      undefined,
      tenantId,
    );
  }

  async disable(tenantId: string): Promise<TenantView> {
    return this.call(
      'POST',
      `/tenants/${encodeURIComponent(tenantId)}/disable`,
      TenantViewSchema,
      undefined,
      tenantId,
    );
  }

  async rotateWebhookSecret(tenantId: string, graceSeconds?: number): Promise<RotatedSecret> {
    return this.call(
      'POST',
      `/tenants/${encodeURIComponent(tenantId)}/webhook-secret/rotate`,
      RotatedSecretSchema,
      graceSeconds === undefined ? {} : { grace_seconds: graceSeconds },
      tenantId,
    );
  }

  async setWebhookAuthScheme(
    tenantId: string,
    scheme: 'hmac' | 'static_header',
  ): Promise<TenantView> {
    return this.call(
      'PUT',
      `/tenants/${encodeURIComponent(tenantId)}/webhook-auth-scheme`,
      TenantViewSchema,
      scheme === 'static_header'
        ? { scheme, acknowledge_weaker_security: true }
        : { scheme: 'hmac' },
      tenantId,
    );
  }

  async putOnboardingRecord(tenantId: string, record: OnboardingRecordInput): Promise<TenantView> {
    return this.call(
      'PUT',
      `/tenants/${encodeURIComponent(tenantId)}/onboarding-record`,
      TenantViewSchema,
      record,
      tenantId,
    );
  }

  private async call<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    schema: S,
    body?: unknown,
    tenantId?: string,
  ): Promise<z.output<S>> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new UnreachableError(
        `tenant registry unreachable at ${this.baseUrl}: ${causeOf(error)}`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) {
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new CheckFailedError(
          `tenant registry answered ${method} ${path.split('?')[0]} with an unexpected body`,
        );
      }
      return parsed.data;
    }
    const problem = (json ?? {}) as ErrorBody;
    switch (res.status) {
      case 401:
      case 403:
        throw new UsageError(
          'the tenant registry refused the admin token (set TEP_ADMIN_TOKEN or --admin-token)',
        );
      case 404:
        if (tenantId || path.startsWith('/tenants/')) {
          throw new TenantNotFoundError(tenantId ?? decodeURIComponent(path.split('/')[2]));
        }
        throw new CheckFailedError(`tenant registry has no ${path}`);
      case 400:
      case 422: {
        const fields = (problem.fields ?? []).map((f) => `${f.field}: ${f.message}`).join('; ');
        throw new UsageError(
          `the tenant registry refused the request: ${problem.message ?? res.statusText}${fields ? ` (${fields})` : ''}`,
        );
      }
      default:
        if (res.status >= 500) {
          throw new UnreachableError(
            `tenant registry at ${this.baseUrl} failed: HTTP ${res.status} ${problem.message ?? ''}`.trim(),
          );
        }
        throw new CheckFailedError(
          `tenant registry answered HTTP ${res.status}: ${problem.message ?? res.statusText}`,
        );
    }
  }
}

/** fetch hides the socket error in `cause`; that is what an operator needs to see. */
export function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? errorMessage(error);
}
