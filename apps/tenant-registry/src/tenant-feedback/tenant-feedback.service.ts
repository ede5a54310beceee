import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import {
  RegistryAdminStore,
  TenantDatabase,
  feedbackSummary,
  listFeedback,
  type FeedbackRow,
  type FeedbackSummary,
} from '@tep/data';
import { RegistryError } from '../tenant-admin';

export const FeedbackQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    /** ISO date-time: only answers submitted since then. */
    since: z.string().datetime({ offset: true }).optional(),
  })
  .strict();
export type FeedbackQuery = z.infer<typeof FeedbackQuerySchema>;

export const FeedbackSummaryQuerySchema = FeedbackQuerySchema.pick({ since: true }).strict();

/** The runbook's step 6.3 targets, reported beside the figures. */
export const FEEDBACK_TARGETS = {
  relevance_yes_rate: 0.8,
  average_quality: 4,
  average_accuracy: 4,
};

/**
 * A tenant's technician feedback for the admin API (HTTP and gRPC) and
 * `tep report`: read under the tenant's RLS context, like every tenant read.
 */
@Injectable()
export class TenantFeedback {
  constructor(
    private readonly store: RegistryAdminStore,
    private readonly database: TenantDatabase,
  ) {}

  async list(tenantId: string, query: FeedbackQuery): Promise<{ feedback: FeedbackRow[] }> {
    await this.requireTenant(tenantId);
    return {
      feedback: await this.database.withTenant(tenantId, (tx) =>
        listFeedback(tx, { since: query.since, limit: query.limit }),
      ),
    };
  }

  async summary(
    tenantId: string,
    query: { since?: string },
  ): Promise<FeedbackSummary & { since: string | null; targets: typeof FEEDBACK_TARGETS }> {
    await this.requireTenant(tenantId);
    const summary = await this.database.withTenant(tenantId, (tx) =>
      feedbackSummary(tx, { since: query.since }),
    );
    return { ...summary, since: query.since ?? null, targets: FEEDBACK_TARGETS };
  }

  private async requireTenant(tenantId: string): Promise<void> {
    if (!(await this.store.get(tenantId))) throw new RegistryError('not_found', 'No such tenant');
  }
}
