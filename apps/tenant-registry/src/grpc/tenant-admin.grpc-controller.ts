import { Controller, HttpException } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { status, type Metadata } from '@grpc/grpc-js';
import { isUuid } from '@tep/data';
import { parseBody } from '@tep/service-runtime';
import { AdminTokenVerifier } from '../admin-auth/admin-auth.guard';
import {
  CreateTenantCommandSchema,
  ListTenantsQuerySchema,
  RegistryError,
  RotateServiceDeskKeyCommandSchema,
  RotateWebhookSecretCommandSchema,
  TenantAdmin,
  UpdateTenantCommandSchema,
  type Actor,
  type TenantView,
} from '../tenant-admin';
import {
  FeedbackQuerySchema,
  FeedbackSummaryQuerySchema,
  TenantFeedback,
} from '../tenant-feedback';

const blankToUndefined = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
const json = (field: string, v: string | undefined): unknown => {
  if (!blankToUndefined(v)) return undefined;
  try {
    return JSON.parse(v!);
  } catch {
    throw new RegistryError('invalid', 'Request is invalid', [{ field, message: 'must be JSON' }]);
  }
};

function toMessage(t: TenantView) {
  return {
    tenant_id: t.tenant_id,
    name: t.name,
    tier: t.tier,
    status: t.status,
    servicedesk_url: t.servicedesk_url,
    webhook_url: t.webhook_url,
    webhook_auth_scheme: t.webhook_auth_scheme,
    enhancement_preferences_json: JSON.stringify(t.enhancement_preferences),
    rate_limits_json: JSON.stringify(t.rate_limits),
    admin_email: t.admin_email ?? '',
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

/** gRPC transport for the same use cases; errors map to gRPC status codes in one place. */
@Controller()
export class TenantAdminGrpcController {
  constructor(
    private readonly admin: TenantAdmin,
    private readonly verifier: AdminTokenVerifier,
    private readonly feedback: TenantFeedback,
  ) {}

  @GrpcMethod('TenantAdmin', 'ListFeedback')
  listFeedback(req: { tenant_id: string; limit?: number; since?: string }, metadata: Metadata) {
    return this.call(metadata, async () => {
      const page = await this.feedback.list(
        this.tenantId(req.tenant_id),
        parseBody(FeedbackQuerySchema, {
          limit: req.limit || undefined,
          since: blankToUndefined(req.since),
        }),
      );
      return {
        feedback: page.feedback.map((f) => ({
          job_id: f.job_id,
          ticket_id: f.ticket_id ?? '',
          rating: f.rating,
          relevant: f.relevant ?? '',
          helped: f.helped ?? '',
          quality: f.quality ?? 0,
          accuracy: f.accuracy ?? 0,
          reason: f.reason ?? '',
          submissions: f.submissions,
          submitted_at: f.submitted_at,
        })),
      };
    });
  }

  @GrpcMethod('TenantAdmin', 'GetFeedbackSummary')
  feedbackSummary(req: { tenant_id: string; since?: string }, metadata: Metadata) {
    return this.call(metadata, async () => {
      const summary = await this.feedback.summary(
        this.tenantId(req.tenant_id),
        parseBody(FeedbackSummaryQuerySchema, { since: blankToUndefined(req.since) }),
      );
      // Nested figures travel as JSON, like the other nested objects of this API.
      return { summary_json: JSON.stringify(summary) };
    });
  }

  private async call<T>(metadata: Metadata, work: (actor: Actor) => Promise<T>): Promise<T> {
    const actor = this.verifier.verify(metadata.get('authorization')[0]?.toString(), {
      transport: 'grpc',
      // The handlers are not given the peer: all refused gRPC calls share one
      // rate-limit key, and each entry counts the refusals since the last one.
      source: 'grpc-peer',
      operation: 'TenantAdmin',
    });
    if (!actor)
      throw new RpcException({
        code: status.UNAUTHENTICATED,
        message: 'A valid admin bearer token is required',
      });
    try {
      return await work(actor);
    } catch (error) {
      throw toRpcException(error);
    }
  }

  private tenantId(value: string): string {
    if (!isUuid(value)) throw new RegistryError('not_found', 'No such tenant');
    return value.toLowerCase();
  }

  @GrpcMethod('TenantAdmin', 'CreateTenant')
  createTenant(req: Record<string, string>, metadata: Metadata) {
    return this.call(metadata, async (actor) => {
      const command = parseBody(CreateTenantCommandSchema, {
        name: req['name'],
        servicedesk_url: req['servicedesk_url'],
        servicedesk_api_key: blankToUndefined(req['servicedesk_api_key']),
        tier: blankToUndefined(req['tier']),
        admin_email: blankToUndefined(req['admin_email']),
        enhancement_preferences: json(
          'enhancement_preferences_json',
          req['enhancement_preferences_json'],
        ),
        rate_limits: json('rate_limits_json', req['rate_limits_json']),
      });
      const created = await this.admin.create(actor, command);
      return { tenant: toMessage(created), webhook_secret: created.webhook_secret };
    });
  }

  @GrpcMethod('TenantAdmin', 'ListTenants')
  listTenants(req: { limit?: number; after?: string }, metadata: Metadata) {
    return this.call(metadata, async () => {
      const page = await this.admin.list(
        parseBody(ListTenantsQuerySchema, {
          limit: req.limit || undefined,
          after: blankToUndefined(req.after),
        }),
      );
      return { tenants: page.tenants.map(toMessage), next_cursor: page.next_cursor ?? '' };
    });
  }

  @GrpcMethod('TenantAdmin', 'GetTenant')
  getTenant(req: { tenant_id: string }, metadata: Metadata) {
    return this.call(metadata, async () =>
      toMessage(await this.admin.get(this.tenantId(req.tenant_id))),
    );
  }

  @GrpcMethod('TenantAdmin', 'UpdateTenant')
  updateTenant(req: { tenant_id: string; patch_json: string }, metadata: Metadata) {
    return this.call(metadata, async (actor) =>
      toMessage(
        await this.admin.update(
          actor,
          this.tenantId(req.tenant_id),
          parseBody(UpdateTenantCommandSchema, json('patch_json', req.patch_json) ?? {}),
        ),
      ),
    );
  }

  @GrpcMethod('TenantAdmin', 'DisableTenant')
  disableTenant(req: { tenant_id: string }, metadata: Metadata) {
    return this.call(metadata, async (actor) =>
      toMessage(await this.admin.setStatus(actor, this.tenantId(req.tenant_id), 'disabled')),
    );
  }

  @GrpcMethod('TenantAdmin', 'EnableTenant')
  enableTenant(req: { tenant_id: string }, metadata: Metadata) {
    return this.call(metadata, async (actor) =>
      toMessage(await this.admin.setStatus(actor, this.tenantId(req.tenant_id), 'active')),
    );
  }

  @GrpcMethod('TenantAdmin', 'RotateWebhookSecret')
  rotateWebhookSecret(req: { tenant_id: string; grace_seconds?: number }, metadata: Metadata) {
    return this.call(metadata, async (actor) => {
      const grace =
        req.grace_seconds !== undefined && req.grace_seconds >= 0 ? req.grace_seconds : undefined;
      const rotated = await this.admin.rotateWebhookSecret(
        actor,
        this.tenantId(req.tenant_id),
        parseBody(RotateWebhookSecretCommandSchema, { grace_seconds: grace }),
      );
      return { ...rotated, previous_secret_expires_at: rotated.previous_secret_expires_at ?? '' };
    });
  }

  @GrpcMethod('TenantAdmin', 'RotateServiceDeskKey')
  rotateServiceDeskKey(
    req: { tenant_id: string; servicedesk_api_key: string },
    metadata: Metadata,
  ) {
    return this.call(metadata, async (actor) =>
      toMessage(
        await this.admin.rotateServiceDeskKey(
          actor,
          this.tenantId(req.tenant_id),
          parseBody(RotateServiceDeskKeyCommandSchema, {
            servicedesk_api_key: blankToUndefined(req.servicedesk_api_key),
          }),
        ),
      ),
    );
  }

  @GrpcMethod('TenantAdmin', 'OffboardTenant')
  offboardTenant(req: { tenant_id: string; purge?: boolean }, metadata: Metadata) {
    return this.call(metadata, (actor) =>
      this.admin.offboard(actor, this.tenantId(req.tenant_id), req.purge === true),
    );
  }
}

/** RegistryError and HTTP-style validation errors → gRPC status, in one place. */
function toRpcException(error: unknown): RpcException {
  if (error instanceof RpcException) return error;
  if (error instanceof RegistryError) {
    switch (error.code) {
      case 'not_found':
        return new RpcException({ code: status.NOT_FOUND, message: error.message });
      case 'invalid':
        return new RpcException({
          code: status.INVALID_ARGUMENT,
          message: describe(error.message, error.fields),
        });
      case 'unauthenticated':
        return new RpcException({ code: status.UNAUTHENTICATED, message: error.message });
    }
  }
  if (error instanceof HttpException && error.getStatus() === 422) {
    const body = error.getResponse() as {
      message?: string;
      fields?: { field: string; message: string }[];
    };
    return new RpcException({
      code: status.INVALID_ARGUMENT,
      message: describe(body.message ?? 'invalid', body.fields ?? []),
    });
  }
  return new RpcException({ code: status.INTERNAL, message: 'Internal error' });
}

function describe(message: string, fields: { field: string; message: string }[]): string {
  return fields.length
    ? `${message}: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`
    : message;
}
