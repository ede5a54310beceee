import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { isUuid } from '@tep/data';
import { parseBody } from '@tep/service-runtime';
import { AdminAuthGuard, type AuthenticatedRequest } from '../admin-auth/admin-auth.guard';
import {
  AuditQuerySchema,
  CreateTenantCommandSchema,
  ListTenantsQuerySchema,
  OffboardQuerySchema,
  OnboardingRecordSchema,
  RegistryError,
  RotateServiceDeskKeyCommandSchema,
  RotateWebhookSecretCommandSchema,
  SetWebhookAuthSchemeCommandSchema,
  TenantAdmin,
  UpdateTenantCommandSchema,
} from '../tenant-admin';
import {
  FeedbackQuerySchema,
  FeedbackSummaryQuerySchema,
  TenantFeedback,
} from '../tenant-feedback';
import { RegistryExceptionFilter } from './registry-exception.filter';

function tenantIdOf(value: string): string {
  if (!isUuid(value)) throw new RegistryError('not_found', 'No such tenant');
  return value.toLowerCase();
}

/** HTTP transport: builds each command, calls the use case, nothing else. */
@Controller()
@UseGuards(AdminAuthGuard)
@UseFilters(RegistryExceptionFilter)
export class TenantsController {
  constructor(
    private readonly admin: TenantAdmin,
    private readonly feedback: TenantFeedback,
  ) {}

  @Post('tenants')
  @HttpCode(201)
  create(@Req() req: AuthenticatedRequest, @Body() body: unknown) {
    return this.admin.create(req.actor, parseBody(CreateTenantCommandSchema, body));
  }

  @Get('tenants')
  list(@Query() query: unknown) {
    return this.admin.list(parseBody(ListTenantsQuerySchema, query));
  }

  @Get('tenants/:tenantId')
  get(@Param('tenantId') tenantId: string) {
    return this.admin.get(tenantIdOf(tenantId));
  }

  @Patch('tenants/:tenantId')
  update(
    @Req() req: AuthenticatedRequest,
    @Param('tenantId') tenantId: string,
    @Body() body: unknown,
  ) {
    return this.admin.update(
      req.actor,
      tenantIdOf(tenantId),
      parseBody(UpdateTenantCommandSchema, body),
    );
  }

  @Post('tenants/:tenantId/disable')
  @HttpCode(200)
  disable(@Req() req: AuthenticatedRequest, @Param('tenantId') tenantId: string) {
    return this.admin.setStatus(req.actor, tenantIdOf(tenantId), 'disabled');
  }

  @Post('tenants/:tenantId/enable')
  @HttpCode(200)
  enable(@Req() req: AuthenticatedRequest, @Param('tenantId') tenantId: string) {
    return this.admin.setStatus(req.actor, tenantIdOf(tenantId), 'active');
  }

  @Post('tenants/:tenantId/webhook-secret/rotate')
  @HttpCode(200)
  rotateWebhookSecret(
    @Req() req: AuthenticatedRequest,
    @Param('tenantId') tenantId: string,
    @Body() body: unknown,
  ) {
    return this.admin.rotateWebhookSecret(
      req.actor,
      tenantIdOf(tenantId),
      parseBody(RotateWebhookSecretCommandSchema, body ?? {}),
    );
  }

  @Post('tenants/:tenantId/servicedesk-key/rotate')
  @HttpCode(200)
  rotateServiceDeskKey(
    @Req() req: AuthenticatedRequest,
    @Param('tenantId') tenantId: string,
    @Body() body: unknown,
  ) {
    return this.admin.rotateServiceDeskKey(
      req.actor,
      tenantIdOf(tenantId),
      parseBody(RotateServiceDeskKeyCommandSchema, body),
    );
  }

  @Put('tenants/:tenantId/webhook-auth-scheme')
  setWebhookAuthScheme(
    @Req() req: AuthenticatedRequest,
    @Param('tenantId') tenantId: string,
    @Body() body: unknown,
  ) {
    return this.admin.setWebhookAuthScheme(
      req.actor,
      tenantIdOf(tenantId),
      parseBody(SetWebhookAuthSchemeCommandSchema, body),
    );
  }

  @Put('tenants/:tenantId/onboarding-record')
  recordOnboarding(
    @Req() req: AuthenticatedRequest,
    @Param('tenantId') tenantId: string,
    @Body() body: unknown,
  ) {
    return this.admin.recordOnboarding(
      req.actor,
      tenantIdOf(tenantId),
      parseBody(OnboardingRecordSchema, body),
    );
  }

  @Delete('tenants/:tenantId')
  offboard(
    @Req() req: AuthenticatedRequest,
    @Param('tenantId') tenantId: string,
    @Query() query: unknown,
  ) {
    return this.admin.offboard(
      req.actor,
      tenantIdOf(tenantId),
      parseBody(OffboardQuerySchema, query).purge,
    );
  }

  /** The technicians' answers about the tenant's notes, newest first. */
  @Get('tenants/:tenantId/feedback')
  listFeedback(@Param('tenantId') tenantId: string, @Query() query: unknown) {
    return this.feedback.list(tenantIdOf(tenantId), parseBody(FeedbackQuerySchema, query));
  }

  /** Runbook step 6.3's figures (relevance, quality, accuracy, helpful rate) against its targets. */
  @Get('tenants/:tenantId/feedback/summary')
  feedbackSummary(@Param('tenantId') tenantId: string, @Query() query: unknown) {
    return this.feedback.summary(
      tenantIdOf(tenantId),
      parseBody(FeedbackSummaryQuerySchema, query),
    );
  }

  @Get('audit')
  audit(@Query() query: unknown) {
    return this.admin.auditLog(parseBody(AuditQuerySchema, query));
  }
}
