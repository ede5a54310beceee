import { Controller, Get, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AdminAuthGuard } from '../admin-auth/admin-auth.guard';
import {
  CreateTenantCommandSchema,
  OnboardingRecordSchema,
  RotateServiceDeskKeyCommandSchema,
  RotateWebhookSecretCommandSchema,
  SetWebhookAuthSchemeCommandSchema,
  UpdateTenantCommandSchema,
} from '../tenant-admin';

/** Request schemas come from the same zod schemas the API validates with. */
const body = (schema: z.ZodType) => ({
  required: true,
  content: {
    'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) },
  },
});

const tenantId = {
  name: 'tenantId',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};
const errors = {
  '401': { description: 'Missing or invalid admin bearer token' },
  '404': { description: 'No such tenant' },
  '422': { description: 'Invalid body; `fields` names each field' },
};
const ok = (description: string) => ({ '200': { description }, ...errors });

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Ticket Enhancement Platform — tenant registry admin API',
    version: '1',
    description:
      'Every route needs `Authorization: Bearer <admin token>`. Secrets are returned once and never again.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  servers: [
    { url: 'http://127.0.0.1:8081', description: 'Development (`npm start`)' },
    {
      url: 'http://tenant-registry.production.svc.cluster.local:8081',
      description: 'Inside the production cluster (deploy/k8s); never exposed publicly',
    },
  ],
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  security: [{ bearer: [] }],
  paths: {
    '/tenants': {
      post: {
        operationId: 'createTenant',
        summary: 'Create a tenant (returns the webhook secret once)',
        requestBody: body(CreateTenantCommandSchema),
        responses: { '201': { description: 'Created' }, ...errors },
      },
      get: {
        operationId: 'listTenants',
        summary: 'List tenants (keyset paging)',
        parameters: [
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          },
          {
            name: 'after',
            in: 'query',
            schema: { type: 'string', format: 'uuid' },
            description: '`next_cursor` of the previous page',
          },
        ],
        responses: ok('A page of tenants'),
      },
    },
    '/tenants/{tenantId}': {
      get: {
        operationId: 'getTenant',
        summary: 'Get a tenant',
        parameters: [tenantId],
        responses: ok('The tenant'),
      },
      patch: {
        operationId: 'updateTenant',
        summary: 'Update name, contact, SDP URL/settings, preferences or rate limits',
        parameters: [tenantId],
        requestBody: body(UpdateTenantCommandSchema),
        responses: ok('The tenant'),
      },
      delete: {
        operationId: 'deleteTenant',
        summary:
          'Offboard: remove the configuration (and with purge=true every tenant row); reports counts',
        parameters: [
          tenantId,
          { name: 'purge', in: 'query', schema: { type: 'boolean', default: false } },
        ],
        responses: ok('Deleted row counts per table'),
      },
    },
    '/tenants/{tenantId}/disable': {
      post: {
        operationId: 'disableTenant',
        summary: 'Disable (webhooks answered 403)',
        parameters: [tenantId],
        responses: ok('The tenant'),
      },
    },
    '/tenants/{tenantId}/enable': {
      post: {
        operationId: 'enableTenant',
        summary: 'Enable',
        parameters: [tenantId],
        responses: ok('The tenant'),
      },
    },
    '/tenants/{tenantId}/webhook-secret/rotate': {
      post: {
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the webhook secret; the old one works for the grace period',
        parameters: [tenantId],
        requestBody: body(RotateWebhookSecretCommandSchema),
        responses: ok('The new secret (shown once)'),
      },
    },
    '/tenants/{tenantId}/servicedesk-key/rotate': {
      post: {
        operationId: 'rotateServiceDeskCredential',
        summary: 'Replace the SDP API key or OAuth credentials',
        parameters: [tenantId],
        requestBody: body(RotateServiceDeskKeyCommandSchema),
        responses: ok('The tenant'),
      },
    },
    '/tenants/{tenantId}/webhook-auth-scheme': {
      put: {
        operationId: 'setWebhookAuthScheme',
        summary: 'Switch between signed webhooks (hmac) and the weaker static header',
        parameters: [tenantId],
        requestBody: body(SetWebhookAuthSchemeCommandSchema),
        responses: ok('The tenant'),
      },
    },
    '/tenants/{tenantId}/onboarding-record': {
      put: {
        operationId: 'recordOnboarding',
        summary: 'Store the onboarding checklist result',
        parameters: [tenantId],
        requestBody: body(OnboardingRecordSchema),
        responses: ok('The tenant'),
      },
    },
    '/tenants/{tenantId}/feedback': {
      get: {
        operationId: 'listTenantFeedback',
        summary:
          "The technicians' answers about the tenant's notes (latest per note), newest first",
        parameters: [
          tenantId,
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: ok('Feedback entries'),
      },
    },
    '/tenants/{tenantId}/feedback/summary': {
      get: {
        operationId: 'getTenantFeedbackSummary',
        summary:
          'Ratings, helpful rate, relevance, average quality and accuracy against the runbook targets (step 6.3)',
        parameters: [
          tenantId,
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: ok('The summary'),
      },
    },
    '/audit': {
      get: {
        operationId: 'listAuditEntries',
        summary: 'The append-only audit log, newest first',
        parameters: [
          { name: 'tenant_id', in: 'query', schema: { type: 'string', format: 'uuid' } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
          { name: 'before', in: 'query', schema: { type: 'string' } },
        ],
        responses: ok('Audit entries'),
      },
    },
  },
};

@Controller('openapi.json')
@UseGuards(AdminAuthGuard)
export class OpenApiController {
  @Get()
  document() {
    return OPENAPI_DOCUMENT;
  }
}
