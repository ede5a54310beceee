import { Inject, Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';
import {
  StageError,
  readEnhancementPreferences,
  type ContextSource,
  type EnhancementPreferences,
  type TicketContext,
  type TicketReceived,
} from '@tep/contracts';
import type { StageResult } from '@tep/pipeline';
import {
  TenantDatabase,
  findTicketEnhancement,
  loadPreferencesLockingTicket,
  recordJobPending,
  type TenantTransaction,
} from '@tep/data';
import { PipelineMetrics } from '@tep/service-runtime';
import {
  extractMentions,
  findKbArticles,
  findMentionedSystems,
  findOpenSimilarTickets,
  findSimilarTickets,
  recordTicket,
  searchInputOf,
  type SearchInput,
} from '@tep/context-retrieval';
import { planEnhancement } from './enhancement-plan';
import { SOURCES_SAVEPOINT, lookUpSources } from './source-lookups';

export interface GatherContextSettings {
  sourceTimeoutMs: number;
}
export const GATHER_CONTEXT_SETTINGS = Symbol('GATHER_CONTEXT_SETTINGS');

const tracer = trace.getTracer('context-gatherer');

/**
 * A job in one of these states has ended: a delivery of it now is a sender's
 * replay (dead-lettered `failed` jobs are not here: `tep dead-letters replay`
 * sends them through again on purpose).
 */
const ENDED: ReadonlySet<string> = new Set(['posted', 'skipped']);

/** How many of a possible outage's open tickets the note lists. */
const OUTAGE_LISTED = 10;

/**
 * Records the ticket and decides whether it gets an enhancement (one note
 * per ticket: enhancement-plan.ts); if so, gathers the tenant's context
 * from the sources its preferences name — each under the tenant's RLS
 * context, each with a deadline — and hands the result to the synthesizer.
 */
@Injectable()
export class GatherContext {
  constructor(
    private readonly database: TenantDatabase,
    @Inject(GATHER_CONTEXT_SETTINGS) private readonly settings: GatherContextSettings,
    private readonly metrics: PipelineMetrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(GatherContext.name);
  }

  async execute(message: TicketReceived): Promise<StageResult<'context-gatherer'>> {
    const { tenant_id: tenantId, job_id: jobId, ticket } = message;
    // tenant_id, job_id and trace_id come from the job's async context (the
    // logger's mixin); `event`: the runbook greps worker lines for task_processing (step 5.3).
    const log = { ticket_id: ticket.ticket_id, event: 'task_processing' };
    this.logger.info(log, `Gathering context for ticket_id=${ticket.ticket_id}`);

    const search = searchInputOf(ticket);
    // One transaction for the whole stage: record, decide, gather.
    const outcome = await this.database.withTenant(tenantId, async (tx) => {
      // Sent together (pipelined: one round trip), run in this order. The
      // ticket's lock first: a create and an update of one ticket arriving
      // together decide one at a time. Then the job's record and the ticket's
      // earlier enhancement: each statement takes its snapshot when it starts,
      // after the lock, so they see what the lock's previous holder committed.
      const [stored, { earlierStatus }, earlier] = await Promise.all([
        loadPreferencesLockingTicket(tx, ticket.ticket_id),
        recordJobPending(tx, {
          jobId,
          ticketId: ticket.ticket_id,
          receivedAt: message.received_at,
          enhancedText: search.text,
        }),
        findTicketEnhancement(tx, ticket.ticket_id, jobId),
      ]);
      if (stored === undefined) throw new StageError('tenant_not_found', `No tenant ${tenantId}`);
      const preferences = readEnhancementPreferences(stored);
      if (earlierStatus !== undefined && ENDED.has(earlierStatus)) {
        return { kind: 'replay', status: earlierStatus } as const;
      }
      const plan = planEnhancement({
        status: ticket.status,
        text: search.text,
        earlier,
        onUpdate: preferences.on_update,
      });
      const recorded = recordTicket(tx, ticket);
      if (plan.kind === 'skip') {
        await recorded;
        return plan;
      }
      const context = await tracer.startActiveSpan('context_gathered', async (span) => {
        span.setAttributes({ tenant_id: tenantId, job_id: jobId });
        try {
          return await this.gather(tx, message, preferences, plan.updateOf, search, recorded);
        } finally {
          span.end();
        }
      });
      return { kind: 'enhance', preferences, context } as const;
    });
    if (outcome.kind === 'replay') {
      // A sender's replay after JetStream's duplicate window: the job ended
      // already, so nothing is recorded again, not even the ticket's (older) state.
      return { kind: 'ended', reason: `replayed webhook: the job is already ${outcome.status}` };
    }
    if (outcome.kind === 'skip') {
      return { kind: 'skipped', ticketId: ticket.ticket_id, reason: outcome.reason };
    }
    const { preferences, context } = outcome;
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

    return { kind: 'next', message: { ...message, context, preferences } };
  }

  private async gather(
    tx: TenantTransaction,
    message: TicketReceived,
    preferences: EnhancementPreferences,
    updateOf: TicketContext['update_of'],
    search: SearchInput,
    recorded: Promise<void>,
  ): Promise<TicketContext> {
    const { ticket } = message;
    const tenantId = message.tenant_id;
    const sources = new Set<ContextSource>(preferences.context_sources);
    const degraded: TicketContext['degraded'] = [];
    const mentions = extractMentions(`${ticket.subject}\n${ticket.description_text}`);
    // Each source's statements get the deadline; the timeout cancels the query
    // in Postgres, not just the wait. One statement (no parameters: the simple
    // protocol takes two); the timeout is an integer from the validated configuration.
    const timeoutMs = Math.trunc(this.settings.sourceTimeoutMs);
    const savepoint = tx.query(
      `SELECT set_config('statement_timeout', '${timeoutMs}ms', true); SAVEPOINT ${SOURCES_SAVEPOINT}`,
    );
    const window = {
      minutes: preferences.outage_window_minutes,
      threshold: preferences.outage_threshold,
    };
    const [history, kb_articles, systems] = await lookUpSources(
      tx,
      Promise.all([recorded, savepoint]),
      [
        {
          source: 'ticket_history',
          empty: { similar: [], open: [] },
          query: async (tx) => {
            const [similar, open] = await Promise.all([
              findSimilarTickets(tx, ticket, { search }),
              findOpenSimilarTickets(tx, ticket, window, search),
            ]);
            return { similar, open };
          },
        },
        { source: 'kb', empty: [], query: (tx) => findKbArticles(tx, ticket) },
        { source: 'monitoring', empty: [], query: (tx) => findMentionedSystems(tx, mentions) },
      ],
      {
        enabled: (source) => sources.has(source),
        onFailure: (source, reason) => {
          degraded.push({ source, reason: `no context from ${source}: ${reason}`.slice(0, 500) });
          this.logger.warn({ source, err: reason }, 'Context source failed');
        },
      },
    );
    const outage = history.open.length >= preferences.outage_threshold;
    if (outage) {
      this.metrics.possibleOutages.inc({ tenant_id: tenantId });
      this.logger.info({ open_similar: history.open.length }, 'Possible outage');
    }
    return {
      similar_tickets: history.similar,
      kb_articles,
      systems,
      degraded,
      language: search.language,
      possible_outage: outage
        ? {
            window_minutes: preferences.outage_window_minutes,
            count: history.open.length,
            tickets: history.open.slice(0, OUTAGE_LISTED).map((t) => ({
              ticket_id: t.ticket_id,
              display_id: t.display_id,
              subject: t.subject,
            })),
          }
        : null,
      update_of: updateOf,
    };
  }
}
