import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { parseBody } from '@tep/service-runtime';
import { AdminAuthGuard } from '../admin-auth/admin-auth.guard';
import { CreateTenantCommandSchema, type CreatedTenant } from './create-tenant.command';
import { CreateTenant } from './create-tenant.handler';

@Controller('tenants')
@UseGuards(AdminAuthGuard)
export class TenantsController {
  constructor(private readonly createTenant: CreateTenant) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown): Promise<CreatedTenant> {
    return this.createTenant.execute(parseBody(CreateTenantCommandSchema, body));
  }
}
