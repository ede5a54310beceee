import { Inject, Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';
import { StageError, readEnhancementPreferences, type TicketEnhanced } from '@tep/contracts';
import type { StageResult } from '@tep/pipeline';
import {
  TenantDatabase,
  claimJobPost,
  findJob,
  loadTenantServiceDesk,
  recordJobPosted,
} from '@tep/data';
import type { SecretCipher } from '@tep/encryption';
import { PipelineMetrics } from '@tep/service-runtime';
import { clientForTenant, type AccessTokenStore } from '@tep/servicedesk-client';
import type { FeedbackTokens } from '@tep/feedback-token';
import { jobMarker, noteToPost } from './render-note';
import { toStageError } from './servicedesk-errors';

export const POSTER_CIPHER = Symbol('POSTER_CIPHER');
export const POSTER_TOKEN_STORE = Symbol('POSTER_TOKEN_STORE');
export interface PostEnhancementSettings {
  sdpTimeoutMs: number;
  beforeConnect?: (url: URL) => Promise<void>;
  /** How the client reaches SDP (production: publicOnlyFetch, checked at connect). */
  fetch?: typeof fetch;
  /** Signs each note's feedback links, served at `<publicBaseUrl>/feedback/<token>` by the ingress. */
  feedback?: { tokens: FeedbackTokens; publicBaseUrl: string };
}
export const POST_ENHANCEMENT_SETTINGS = Symbol('POST_ENHANCEMENT_SETTINGS');

const tracer = trace.getTracer('servicedesk-poster');

/**
 * Posts the enhancement as a note, at most once per job: a job first checks
 * enhancement_history (and counts the attempt there) and, unless it is
 * recorded as posted or this is the job's first attempt, the ticket's notes
 * for the job's marker (a crash between posting and recording, a lost
 * reply, a replay). A disabled tenant's job is a dead letter, never posted. An update of an earlier
 * enhancement (context.update_of) edits that note in place or adds a short
 * follow-up; a confidence below the tenant's min_confidence becomes a short
 * "no confident suggestion" note or, with low_confidence_action skip, none.
 */
@Injectable()
export class PostEnhancement {
  constructor(
    private readonly database: TenantDatabase,
    @Inject(POSTER_CIPHER) private readonly cipher: SecretCipher,
    @Inject(POSTER_TOKEN_STORE) private readonly tokenStore: AccessTokenStore,
    @Inject(POST_ENHANCEMENT_SETTINGS) private readonly settings: PostEnhancementSettings,
    private readonly metrics: PipelineMetrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(PostEnhancement.name);
  }

  /** The note's Helpful / Not helpful links: one signed token per job, 30 days. */
  private feedbackLinks(tenantId: string, jobId: string) {
    const feedback = this.settings.feedback;
    if (!feedback) return undefined;
    const base = `${feedback.publicBaseUrl.replace(/\/+$/, '')}/feedback/`;
    const page = `${base}${feedback.tokens.sign(tenantId, jobId)}`;
    return {
      base,
      helpfulUrl: `${page}?rating=helpful`,
      notHelpfulUrl: `${page}?rating=not_helpful`,
    };
  }

  async execute(message: TicketEnhanced): Promise<StageResult<'servicedesk-poster'>> {
    const { tenant_id: tenantId, job_id: jobId, ticket, enhancement } = message;
    // tenant_id, job_id and trace_id come from the job's async context (the
    // logger's mixin); `event`: the runbook greps worker lines for task_processing (step 5.3).
    const log = { ticket_id: ticket.ticket_id, event: 'task_processing' };

    // Sent together (pipelined): one round trip for both.
    const [tenant, job] = await this.database.withTenant(tenantId, (tx) =>
      Promise.all([
        loadTenantServiceDesk(tx),
        claimJobPost(tx, { jobId, ticketId: ticket.ticket_id }),
      ]),
    );
    if (!tenant) throw new StageError('tenant_not_found', `No tenant ${tenantId}`);
    // Disabled while the job was on its way: a visible dead letter, replayable once enabled.
    if (tenant.status !== 'active') {
      throw new StageError('tenant_disabled', `Tenant ${tenantId} is disabled; nothing posted`);
    }
    if (job?.status === 'posted' && job.note_id) {
      this.logger.info({ ...log, note_id: job.note_id }, 'Already posted; nothing to do');
      return posted(message, job.note_id);
    }
    if (job?.status === 'skipped') {
      return { kind: 'ended', reason: 'skipped on an earlier delivery' };
    }
    // The job's preferences as the gatherer read them (older messages: the tenant's row).
    const preferences =
      message.preferences ?? readEnhancementPreferences(tenant.enhancement_preferences);
    const lowConfidence =
      enhancement.confidence !== null && enhancement.confidence < preferences.min_confidence;
    if (lowConfidence && preferences.low_confidence_action === 'skip') {
      return {
        kind: 'skipped',
        ticketId: ticket.ticket_id,
        reason: `confidence ${enhancement.confidence} is below min_confidence ${preferences.min_confidence}`,
      };
    }
    const updateOf = message.context.update_of;
    const descriptionHtml = noteToPost(
      lowConfidence
        ? 'low_confidence'
        : updateOf?.mode === 'new_note'
          ? 'follow_up'
          : 'enhancement',
      {
        enhancement,
        context: message.context,
        format: preferences.output_format,
        visibility: preferences.note_visibility,
        sources: preferences.context_sources,
        jobId,
        at: new Date(),
        feedback: this.feedbackLinks(tenantId, jobId),
      },
    );
    const showToRequester = preferences.note_visibility === 'requester';
    const client = clientForTenant(tenant, this.cipher, {
      timeoutMs: this.settings.sdpTimeoutMs,
      beforeConnect: this.settings.beforeConnect,
      fetch: this.settings.fetch,
      tokenStore: this.tokenStore,
      onResult: (operation, outcome) => this.metrics.sdpCalls.inc({ operation, outcome }),
    });

    const noteId = await tracer.startActiveSpan('enhancement_posted', async (span) => {
      span.setAttributes({ tenant_id: tenantId, job_id: jobId });
      try {
        if (updateOf?.mode === 'refresh') {
          // The earlier job may have posted after this one was planned.
          const target =
            updateOf.note_id ??
            (
              await this.database.withTenant(tenantId, (tx) =>
                findJob(tx, { jobId: updateOf.job_id, ticketId: ticket.ticket_id }),
              )
            )?.note_id;
          if (target) {
            this.logger.info({ ...log, note_id: target }, 'Refreshing the enhancement note');
            await client.editNote(ticket.ticket_id, target, { descriptionHtml, showToRequester });
            return target;
          }
        }
        // Any attempt but a pending job's first (a redelivery after a crash between
        // posting and recording or after a lost reply, a replay, a second writer):
        // the note may be there. The first cannot have posted anything yet.
        const firstAttempt = job?.status === 'pending' && job.attempt === 1;
        const existing = firstAttempt
          ? undefined
          : (await client.listNotes(ticket.ticket_id)).find((n) =>
              n.descriptionHtml.includes(jobMarker(jobId)),
            );
        if (existing) {
          this.logger.info(
            { ...log, note_id: existing.id },
            'Note for this job already on the ticket',
          );
          return existing.id;
        }
        this.logger.info(log, 'Posting enhancement to ServiceDesk Plus');
        const note = await client.addNote(ticket.ticket_id, { descriptionHtml, showToRequester });
        return note.id;
      } catch (error) {
        throw toStageError(error);
      } finally {
        span.end();
      }
    });

    await this.database.withTenant(tenantId, (tx) =>
      recordJobPosted(tx, {
        jobId,
        ticketId: ticket.ticket_id,
        noteId,
        enhancement,
        synthesizer: enhancement.synthesizer,
        model: enhancement.model,
        promptTokens: enhancement.usage?.prompt_tokens ?? null,
        completionTokens: enhancement.usage?.completion_tokens ?? null,
      }),
    );
    const seconds = Math.max(0, (Date.now() - Date.parse(message.received_at)) / 1000);
    this.logger.info(
      { ...log, note_id: noteId, duration_s: Number(seconds.toFixed(3)) },
      `Enhancement posted: ticket_id=${ticket.ticket_id}, duration=${seconds.toFixed(1)}s`,
    );
    this.metrics.outcomes.inc({ tenant_id: tenantId, outcome: 'posted' });
    this.metrics.requestDuration.observe({ tenant_id: tenantId }, seconds);
    return posted(message, noteId);
  }
}

/** The announcement that the job's note is on the ticket (tickets.posted). */
function posted(message: TicketEnhanced, noteId: string): StageResult<'servicedesk-poster'> {
  return {
    kind: 'next',
    message: {
      version: 1,
      job_id: message.job_id,
      tenant_id: message.tenant_id,
      received_at: message.received_at,
      ticket_id: message.ticket.ticket_id,
      note_id: noteId,
      posted_at: new Date().toISOString(),
    },
  };
}
