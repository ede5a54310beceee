import { Inject, Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';
import {
  StageError,
  noteLanguageOf,
  readEnhancementPreferences,
  type TicketContextualized,
} from '@tep/contracts';
import type { StageContext, StageResult } from '@tep/pipeline';
import { TenantDatabase, loadEnhancementPreferences } from '@tep/data';
import type { EnhancementProvider } from '@tep/enhancement-synthesis';
import type { RedactionKind } from '@tep/redaction';
import { PipelineMetrics } from '@tep/service-runtime';

export const SYNTHESIZER = Symbol('SYNTHESIZER');
export interface LlmPrices {
  promptPerMillionUsd: number;
  completionPerMillionUsd: number;
}
export const LLM_PRICES = Symbol('LLM_PRICES');

const tracer = trace.getTracer('llm-synthesizer');

/** Asks the tenant's model (or the offline synthesizer) for the enhancement. */
@Injectable()
export class SynthesizeEnhancement {
  constructor(
    private readonly database: TenantDatabase,
    @Inject(SYNTHESIZER) private readonly synthesizer: EnhancementProvider,
    @Inject(LLM_PRICES) private readonly prices: LlmPrices,
    private readonly metrics: PipelineMetrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(SynthesizeEnhancement.name);
  }

  /** Only for messages queued before the gatherer carried the job's preferences. */
  private async loadPreferences(tenantId: string) {
    const stored = await this.database.withTenant(tenantId, loadEnhancementPreferences);
    if (stored === undefined) throw new StageError('tenant_not_found', `No tenant ${tenantId}`);
    return readEnhancementPreferences(stored);
  }

  async execute(
    message: TicketContextualized,
    ctx: StageContext,
  ): Promise<StageResult<'llm-synthesizer'>> {
    const { tenant_id: tenantId, job_id: jobId, ticket, context } = message;
    const preferences = message.preferences ?? (await this.loadPreferences(tenantId));
    // tenant_id, job_id and trace_id come from the job's async context (the
    // logger's mixin); `event`: the runbook greps worker lines for task_processing (step 5.3).
    const log = { ticket_id: ticket.ticket_id, event: 'task_processing' };
    this.logger.info(
      { ...log, model: preferences.llm_model },
      `Synthesizing enhancement with LLM (model: ${preferences.llm_model})`,
    );

    // The offline fallback means synthesis itself never fails the job.
    const enhancement = await tracer.startActiveSpan('ticket_enhanced', async (span) => {
      span.setAttributes({ tenant_id: tenantId, job_id: jobId });
      try {
        return await this.synthesizer.synthesize({
          ticket,
          context,
          preferences,
          language: noteLanguageOf(preferences, context),
          onProgress: () => ctx.working(),
          onRedactions: (counts) => this.countRedactions(tenantId, counts),
        });
      } finally {
        span.end();
      }
    });
    this.logger.info(
      {
        ...log,
        synthesizer: enhancement.synthesizer,
        fallback_reason: enhancement.fallback_reason,
        completion_tokens: enhancement.usage?.completion_tokens,
      },
      `Enhancement generated: ${enhancement.usage?.completion_tokens ?? 0} tokens`,
    );

    if (enhancement.usage) {
      const { prompt_tokens: prompt, completion_tokens: completion } = enhancement.usage;
      this.metrics.llmTokens.inc({ tenant_id: tenantId, kind: 'prompt' }, prompt);
      this.metrics.llmTokens.inc({ tenant_id: tenantId, kind: 'completion' }, completion);
      this.metrics.llmCost.inc(
        { tenant_id: tenantId },
        (prompt * this.prices.promptPerMillionUsd +
          completion * this.prices.completionPerMillionUsd) /
          1e6,
      );
    }

    return { kind: 'next', message: { ...message, enhancement } };
  }

  private countRedactions(tenantId: string, counts: Readonly<Record<RedactionKind, number>>) {
    for (const [kind, count] of Object.entries(counts)) {
      // Kinds a job did not redact stay out, so a tenant's series exist only for what occurred.
      if (count > 0) this.metrics.redactions.inc({ tenant_id: tenantId, kind }, count);
    }
  }
}
