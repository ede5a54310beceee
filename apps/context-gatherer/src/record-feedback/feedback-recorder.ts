import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { PinoLogger } from 'nestjs-pino';
import { FeedbackSubmittedSchema, type Topology } from '@tep/contracts';
import { TenantDatabase, recordFeedback } from '@tep/data';
import { HEADER } from '@tep/pipeline';
import { JETSTREAM, PipelineMetrics, TOPOLOGY } from '@tep/service-runtime';

/**
 * Records the technicians' feedback the ingress queued (tickets.feedback.<tenant>)
 * in enhancement_feedback, under the tenant's RLS context, and counts it in
 * enhancement_feedback_total. Acks after the row is written; a database
 * outage is a redelivery, a message that is not a valid answer is dropped.
 */
@Injectable()
export class FeedbackRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private messages?: ConsumerMessages;
  private done?: Promise<void>;

  constructor(
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    private readonly database: TenantDatabase,
    private readonly metrics: PipelineMetrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(FeedbackRecorder.name);
  }

  async onApplicationBootstrap(): Promise<void> {
    const consumer = await this.js.consumers.get(
      this.topology.ticketsStream,
      this.topology.feedbackConsumer.durable,
    );
    this.messages = await consumer.consume({ max_messages: 16 });
    this.done = (async () => {
      for await (const msg of this.messages!) await this.record(msg);
    })();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
    await this.done?.catch(() => undefined);
  }

  /** Visible for tests: one delivery. */
  async record(msg: JsMsg): Promise<void> {
    let parsed;
    try {
      parsed = FeedbackSubmittedSchema.parse(msg.json());
    } catch {
      this.logger.warn({ subject: msg.subject }, 'Unreadable feedback message dropped');
      msg.term();
      return;
    }
    // The subject, the header and the body must name the same tenant (the ingress sets all three).
    if (
      msg.subject !== this.topology.subjects.feedback(parsed.tenant_id) ||
      msg.headers?.get(HEADER.tenantId) !== parsed.tenant_id
    ) {
      this.logger.warn({ subject: msg.subject }, 'Feedback naming another tenant dropped');
      msg.term();
      return;
    }
    const { tenant_id: tenantId, job_id: jobId, answers } = parsed;
    try {
      const recorded = await this.database.withTenant(tenantId, (tx) =>
        recordFeedback(tx, { jobId, ...answers, submittedAt: parsed.submitted_at }),
      );
      if (recorded) {
        this.metrics.feedback.inc({ tenant_id: tenantId, rating: answers.rating });
        this.logger.info(
          {
            event: 'feedback_recorded',
            tenant_id: tenantId,
            job_id: jobId,
            rating: answers.rating,
          },
          'Feedback recorded',
        );
      } else {
        this.logger.warn(
          { event: 'feedback_unknown_job', tenant_id: tenantId, job_id: jobId },
          'Feedback for a job this tenant does not have: not recorded',
        );
      }
      msg.ack();
    } catch (error) {
      this.logger.warn(
        { tenant_id: tenantId, job_id: jobId, err: error },
        'Feedback not recorded yet',
      );
      msg.nak(5_000);
    }
  }
}
