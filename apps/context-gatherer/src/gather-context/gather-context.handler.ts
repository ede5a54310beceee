import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { trace } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';
import {
  StageError,
  TicketContextualizedSchema,
  publishMessage,
  readEnhancementPreferences,
  type ContextSource,
  type TicketContext,
  type TicketReceived,
  type Topology,
} from '@tep/contracts';
import {
  TenantDatabase,
  loadEnhancementPreferences,
  recordJobPending,
  type TenantTransaction,
} from '@tep/data';
import { JETSTREAM, TOPOLOGY } from '@tep/service-runtime';
import {
  extractMentions,
  findKbArticles,
  findMentionedSystems,
  findSimilarTickets,
  recordTicket,
} from '@tep/context-retrieval';

export interface GatherContextSettings {
  sourceTimeoutMs: number;
}
export const GATHER_CONTEXT_SETTINGS = Symbol('GATHER_CONTEXT_SETTINGS');

const tracer = trace.getTracer('context-gatherer');

/**
 * Records the ticket, then gathers the tenant's context from the sources
 * its preferences name — each under the tenant's RLS context, each with a
 * deadline — and hands the result to the synthesizer.
 */
@Injectable()
export class GatherContext {
  constructor(
    private readonly database: TenantDatabase,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    @Inject(GATHER_CONTEXT_SETTINGS) private readonly settings: GatherContextSettings,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(GatherContext.name);
  }

  async execute(message: TicketReceived): Promise<void> {
    const { tenant_id: tenantId, job_id: jobId, ticket } = message;
    const log = { tenant_id: tenantId, job_id: jobId, ticket_id: ticket.ticket_id };
    this.logger.info(log, `Gathering context for ticket_id=${ticket.ticket_id}`);

    const preferences = await this.database.withTenant(tenantId, async (tx) => {
      const stored = await loadEnhancementPreferences(tx);
      if (stored === undefined) throw new StageError('tenant_not_found', `No tenant ${tenantId}`);
      await recordJobPending(tx, {
        jobId,
        ticketId: ticket.ticket_id,
        receivedAt: message.received_at,
      });
      await recordTicket(tx, ticket);
      return readEnhancementPreferences(stored);
    });

    const context = await tracer.startActiveSpan('context_gathered', async (span) => {
      span.setAttributes({ tenant_id: tenantId, job_id: jobId });
      try {
        return await this.gather(tenantId, message, new Set(preferences.context_sources));
      } finally {
        span.end();
      }
    });
    this.logger.info(
      {
        ...log,
        similar_tickets: context.similar_tickets.length,
        kb_articles: context.kb_articles.length,
        systems: context.systems.length,
        degraded: context.degraded.map((d) => d.source),
      },
      'Context gathered',
    );

    await publishMessage(this.js, {
      subject: this.topology.subjects.contextualized(tenantId),
      schema: TicketContextualizedSchema,
      message: { ...message, context },
      msgId: `contextualized:${jobId}`,
      tenantId,
      jobId,
    });
  }

  private async gather(
    tenantId: string,
    message: TicketReceived,
    sources: Set<ContextSource>,
  ): Promise<TicketContext> {
    const { ticket } = message;
    const degraded: TicketContext['degraded'] = [];
    const run = async <T>(
      source: ContextSource,
      empty: T,
      query: (tx: TenantTransaction) => Promise<T>,
    ): Promise<T> => {
      if (!sources.has(source)) return empty;
      try {
        return await this.withDeadline(tenantId, query);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        degraded.push({ source, reason: `no context from ${source}: ${reason}`.slice(0, 500) });
        this.logger.warn(
          { tenant_id: tenantId, job_id: message.job_id, source, err: reason },
          'Context source failed',
        );
        return empty;
      }
    };
    const mentions = extractMentions(`${ticket.subject}\n${ticket.description_text}`);
    const [similar_tickets, kb_articles, systems] = await Promise.all([
      run('ticket_history', [], (tx) => findSimilarTickets(tx, ticket)),
      run('kb', [], (tx) => findKbArticles(tx, ticket)),
      run('monitoring', [], (tx) => findMentionedSystems(tx, mentions)),
    ]);
    return { similar_tickets, kb_articles, systems, degraded };
  }

  /** The statement timeout cancels the query in Postgres, not just the wait. */
  private withDeadline<T>(
    tenantId: string,
    query: (tx: TenantTransaction) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = this.settings.sourceTimeoutMs;
    return this.database.withTenant(tenantId, async (tx) => {
      await tx.query(`SELECT set_config('statement_timeout', $1, true)`, [`${timeoutMs}ms`]);
      return query(tx);
    });
  }
}
