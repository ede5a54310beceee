import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';
import {
  ServiceDeskWebhookPayloadSchema,
  TicketReceivedSchema,
  publishMessage,
  type Topology,
} from '@tep/contracts';
import { isUuid } from '@tep/data';
import { JETSTREAM, TOPOLOGY } from '@tep/service-runtime';
import { verifyHexSignature } from '@tep/webhook-signature';
import { TenantDirectory } from '../tenant-directory/tenant-directory';
import { jobIdFor } from './job-id';
import type { WebhookOutcome } from './webhook-outcome';
import { IngressMetrics } from './ingress-metrics';

export interface IncomingWebhook {
  /** `req.query.tenant_id` as parsed: a string, an array if repeated, or absent. */
  tenantIdParam: unknown;
  contentType: string | undefined;
  signatureHeader: string | undefined;
  /** Reads the raw body, failing with BodyReadError past `limit` bytes. */
  readBody(limit: number): Promise<Buffer>;
}

export class BodyReadError extends Error {
  constructor(
    readonly kind: 'too_large' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

export interface ReceiveWebhookSettings {
  maxBodyBytes: number;
  publishTimeoutMs: number;
}
export const RECEIVE_WEBHOOK_SETTINGS = Symbol('RECEIVE_WEBHOOK_SETTINGS');

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
const tracer = trace.getTracer('webhook-ingress');

/**
 * The runbook's webhook: check the tenant, the signature over the exact
 * bytes received, the payload, then store the job in JetStream and only
 * then answer 202. Checks run cheapest first; nothing is queued unless all
 * pass.
 */
@Injectable()
export class ReceiveWebhook {
  constructor(
    private readonly directory: TenantDirectory,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    @Inject(RECEIVE_WEBHOOK_SETTINGS) private readonly settings: ReceiveWebhookSettings,
    private readonly metrics: IngressMetrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(ReceiveWebhook.name);
  }

  async execute(input: IncomingWebhook): Promise<WebhookOutcome> {
    return tracer.startActiveSpan('webhook_received', async (span) => {
      const started = process.hrtime.bigint();
      try {
        const outcome = await this.receive(input, span);
        const tenantId = typeof input.tenantIdParam === 'string' ? input.tenantIdParam : undefined;
        this.metrics.record(
          outcome,
          tenantId && this.directory.get(tenantId) ? tenantId : undefined,
          started,
        );
        if (outcome.kind === 'rejected') span.setAttribute('rejection_reason', outcome.reason);
        return outcome;
      } finally {
        span.end();
      }
    });
  }

  private async receive(input: IncomingWebhook, span: Span): Promise<WebhookOutcome> {
    const { tenantIdParam } = input;
    if (tenantIdParam === undefined || tenantIdParam === '') {
      return { kind: 'rejected', reason: 'tenant_id_missing' };
    }
    if (!isUuid(tenantIdParam)) return { kind: 'rejected', reason: 'tenant_id_malformed' };
    const tenantId = tenantIdParam.toLowerCase();
    span.setAttribute('tenant_id', tenantId);
    this.logger.info({ tenant_id: tenantId }, `Webhook received from tenant_id=${tenantId}`);

    if (!input.contentType || !JSON_MEDIA_TYPE.test(input.contentType)) {
      return { kind: 'rejected', reason: 'unsupported_media_type' };
    }
    let rawBody: Buffer;
    try {
      rawBody = await input.readBody(this.settings.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyReadError && error.kind === 'too_large') {
        return {
          kind: 'rejected',
          reason: 'body_too_large',
          detail: `Request body exceeds ${this.settings.maxBodyBytes} bytes`,
        };
      }
      return { kind: 'rejected', reason: 'body_unreadable' };
    }

    if (!this.directory.isLoaded) return { kind: 'rejected', reason: 'directory_not_ready' };
    if (input.signatureHeader === undefined || input.signatureHeader.trim() === '') {
      this.logger.warn(
        { tenant_id: tenantId },
        `Webhook without signature from tenant_id=${tenantId}`,
      );
      return { kind: 'rejected', reason: 'signature_missing' };
    }

    const verdict = tracer.startActiveSpan('signature_validation', (sigSpan) => {
      sigSpan.setAttribute('tenant_id', tenantId);
      try {
        return this.verify(tenantId, rawBody, input.signatureHeader!);
      } finally {
        sigSpan.end();
      }
    });
    if (verdict) return verdict;

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { kind: 'rejected', reason: 'malformed_json' };
    }
    const parsed = ServiceDeskWebhookPayloadSchema.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || '(body)',
        message: issue.message,
      }));
      this.logger.warn({ tenant_id: tenantId, fields }, 'Webhook payload failed the schema');
      return { kind: 'rejected', reason: 'schema_violation', fields };
    }

    const jobId = jobIdFor(tenantId, rawBody);
    return tracer.startActiveSpan('job_queued', async (queueSpan) => {
      queueSpan.setAttributes({ tenant_id: tenantId, job_id: jobId });
      try {
        const ack = await publishMessage(this.js, {
          subject: this.topology.subjects.received(tenantId),
          schema: TicketReceivedSchema,
          message: {
            version: 1,
            job_id: jobId,
            tenant_id: tenantId,
            received_at: new Date().toISOString(),
            ticket: parsed.data,
          },
          msgId: `received:${jobId}`,
          tenantId,
          jobId,
          timeoutMs: this.settings.publishTimeoutMs,
        });
        this.logger.info(
          {
            tenant_id: tenantId,
            job_id: jobId,
            ticket_id: parsed.data.ticket_id,
            duplicate: ack.duplicate,
            seq: ack.seq,
          },
          ack.duplicate ? 'Duplicate webhook, same job' : 'Job queued',
        );
        return { kind: 'accepted', jobId, duplicate: ack.duplicate } as const;
      } catch (error) {
        queueSpan.setStatus({ code: SpanStatusCode.ERROR });
        this.logger.error(
          {
            tenant_id: tenantId,
            job_id: jobId,
            err: error instanceof Error ? error.message : String(error),
          },
          'JetStream did not store the job; answering 503',
        );
        return { kind: 'rejected', reason: 'queue_unavailable' } as const;
      } finally {
        queueSpan.end();
      }
    });
  }

  /** Returns a rejection, or undefined when the signature is valid. */
  private verify(
    tenantId: string,
    rawBody: Buffer,
    signatureHeader: string,
  ): WebhookOutcome | undefined {
    const tenant = this.directory.get(tenantId);
    if (!tenant) {
      this.logger.warn({ tenant_id: tenantId }, `Webhook rejected: unknown tenant_id=${tenantId}`);
      return { kind: 'rejected', reason: 'tenant_unknown' };
    }
    if (tenant.status !== 'active') {
      this.logger.warn(
        { tenant_id: tenantId },
        `Webhook rejected: tenant_id=${tenantId} is disabled`,
      );
      return { kind: 'rejected', reason: 'tenant_disabled' };
    }
    const check = verifyHexSignature({
      rawBody,
      signatureHeader,
      secrets: this.directory.activeSecrets(tenant),
    });
    if (!check.ok) {
      this.logger.warn(
        { tenant_id: tenantId, reason: check.reason, body_bytes: rawBody.length },
        `Signature mismatch for tenant_id=${tenantId}: the HMAC-SHA256 of the bytes received does not match ` +
          'X-ServiceDesk-Signature. Common cause: the body sent is not the bytes that were signed ' +
          '(curl -d strips newlines from a file; send it with --data-binary @file), or the secret differs.',
      );
      return { kind: 'rejected', reason: 'signature_invalid' };
    }
    this.logger.info(
      { tenant_id: tenantId, secret_index: check.matchedSecretIndex },
      `Webhook signature valid for tenant_id=${tenantId}`,
    );
    return undefined;
  }
}
