import { createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';
import {
  ServiceDeskWebhookPayloadSchema,
  TicketReceivedSchema,
  type Topology,
} from '@tep/contracts';
import { ServerSwitch, publishMessage } from '@tep/pipeline';
import { isUuid } from '@tep/data';
import { JETSTREAM, TOPOLOGY, fieldProblems } from '@tep/service-runtime';
import { TenantDirectory, type CachedTenant } from '../tenant-directory/tenant-directory';
import { authenticateWebhook, hasCredential, type HeaderReader } from './authenticate-webhook';
import { TenantRateLimiter } from './rate-limiter';
import { IngressMetrics } from './ingress-metrics';
import { jobIdFor } from './job-id';
import type { WebhookOutcome } from './webhook-outcome';

export interface IncomingWebhook {
  /** `req.query.tenant_id` as parsed: a string, an array if repeated, or absent. */
  tenantIdParam: unknown;
  contentType: string | undefined;
  header: HeaderReader;
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

/** A secret no tenant has: signature work for requests that will be refused anyway. */
const DECOY_SECRET = randomBytes(32).toString('hex');
const spendSignatureWork = (rawBody: Buffer) =>
  createHmac('sha256', DECOY_SECRET).update(rawBody).digest();

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
const tracer = trace.getTracer('webhook-ingress');
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The runbook's webhook: check the tenant, the signature over the exact
 * bytes received, the rate limit and the payload, then store the job in
 * JetStream and only then answer 202. Checks run cheapest first; nothing is
 * queued unless all pass. The tenant comes only from the verified route —
 * never from the body or other headers.
 */
@Injectable()
export class ReceiveWebhook {
  constructor(
    private readonly directory: TenantDirectory,
    private readonly rateLimiter: TenantRateLimiter,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    @Inject(RECEIVE_WEBHOOK_SETTINGS) private readonly settings: ReceiveWebhookSettings,
    private readonly metrics: IngressMetrics,
    private readonly serverSwitch: ServerSwitch,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(ReceiveWebhook.name);
  }

  async execute(input: IncomingWebhook): Promise<WebhookOutcome> {
    return tracer.startActiveSpan('webhook_received', async (span) => {
      const started = process.hrtime.bigint();
      try {
        const outcome = await this.receive(input, span);
        const tenantId =
          typeof input.tenantIdParam === 'string' ? input.tenantIdParam.toLowerCase() : undefined;
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
    if (tenantIdParam === undefined || tenantIdParam === '')
      return { kind: 'rejected', reason: 'tenant_id_missing' };
    if (!isUuid(tenantIdParam)) return { kind: 'rejected', reason: 'tenant_id_malformed' };
    const tenantId = tenantIdParam.toLowerCase();
    span.setAttribute('tenant_id', tenantId);
    // `event`: the name the runbook greps for (step 4.4).
    this.logger.info(
      { tenant_id: tenantId, event: 'webhook_received' },
      `Webhook received from tenant_id=${tenantId}`,
    );

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
    if (!hasCredential(input.header)) {
      this.logger.warn(
        { tenant_id: tenantId },
        `Webhook without signature from tenant_id=${tenantId}`,
      );
      return { kind: 'rejected', reason: 'signature_missing' };
    }
    const tenant = this.directory.get(tenantId);
    if (!tenant || tenant.status !== 'active') {
      // The signature work a known tenant's request costs, so neither the reply
      // nor its timing tells a prober which tenant ids exist or are active.
      authenticateWebhook({
        scheme: 'hmac',
        secrets: [DECOY_SECRET],
        rawBody,
        header: input.header,
      });
      this.logger.warn(
        { tenant_id: tenantId },
        tenant
          ? `Webhook rejected: tenant_id=${tenantId} is disabled`
          : `Webhook rejected: unknown tenant_id=${tenantId}`,
      );
      return { kind: 'rejected', reason: tenant ? 'tenant_disabled' : 'tenant_unknown' };
    }
    const auth = tracer.startActiveSpan('signature_validation', (sigSpan) => {
      sigSpan.setAttribute('tenant_id', tenantId);
      try {
        return this.authenticate(tenant, rawBody, input.header);
      } finally {
        sigSpan.end();
      }
    });
    if (!auth.ok) return auth.outcome;

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { kind: 'rejected', reason: 'malformed_json' };
    }
    const parsed = ServiceDeskWebhookPayloadSchema.safeParse(json);
    if (!parsed.success) {
      const fields = fieldProblems(parsed.error);
      this.logger.warn({ tenant_id: tenantId, fields }, 'Webhook payload failed the schema');
      return { kind: 'rejected', reason: 'schema_violation', fields };
    }

    if (tenant.requestsPerMinute !== null) {
      let decision;
      try {
        decision = await this.rateLimiter.take(tenantId, tenant.requestsPerMinute);
      } catch (error) {
        this.serverSwitch.failed();
        this.logger.error(
          { tenant_id: tenantId, err: errorText(error) },
          'Rate-limit counter unavailable; answering 503',
        );
        return { kind: 'rejected', reason: 'queue_unavailable' };
      }
      if (!decision.allowed) {
        this.logger.warn(
          { tenant_id: tenantId, limit: tenant.requestsPerMinute },
          `Rate limit reached for tenant_id=${tenantId}`,
        );
        return {
          kind: 'rejected',
          reason: 'rate_limited',
          retryAfterSeconds: decision.retryAfterSeconds,
        };
      }
    }
    // The sender's delivery id when it has one, else the exact bytes: same key,
    // same job id. JetStream drops a repeat within its window; a later replay
    // is queued again and the context-gatherer drops it, because
    // enhancement_history already holds the job (the durable check lives
    // there, off the request path).
    const deliveryKey = auth.deliveryId
      ? `delivery:${auth.deliveryId}`
      : `body:${jobIdFor(tenantId, rawBody)}`;
    const jobId = jobIdFor(tenantId, Buffer.from(deliveryKey));
    return this.enqueue(tenantId, jobId, parsed.data);
  }

  private authenticate(
    tenant: CachedTenant,
    rawBody: Buffer,
    header: HeaderReader,
  ): { ok: true; deliveryId?: string } | { ok: false; outcome: WebhookOutcome } {
    const tenantId = tenant.tenantId;
    const auth = authenticateWebhook({
      scheme: tenant.authScheme,
      secrets: this.directory.activeSecrets(tenant),
      rawBody,
      header,
    });
    if (auth.ok) {
      this.logger.info(
        {
          tenant_id: tenantId,
          event: 'signature_valid',
          method: auth.method,
          secret_index: auth.matchedSecretIndex,
        },
        `Webhook signature valid for tenant_id=${tenantId}`,
      );
      return { ok: true, deliveryId: auth.deliveryId };
    }
    if (auth.reason === 'timestamp_out_of_tolerance') {
      // Refused before any HMAC: spend it anyway, as for a wrong signature.
      spendSignatureWork(rawBody);
      this.logger.warn(
        { tenant_id: tenantId, detail: auth.detail },
        `Webhook timestamp out of tolerance for tenant_id=${tenantId}`,
      );
      return { ok: false, outcome: { kind: 'rejected', reason: 'timestamp_out_of_tolerance' } };
    }
    this.logger.warn(
      { tenant_id: tenantId, method: auth.method, reason: auth.detail, body_bytes: rawBody.length },
      `Signature mismatch for tenant_id=${tenantId}: the HMAC-SHA256 of the bytes received does not match ` +
        'X-ServiceDesk-Signature. Common cause: the body sent is not the bytes that were signed ' +
        '(curl -d strips newlines from a file; send it with --data-binary @file), or the secret differs.',
    );
    return { ok: false, outcome: { kind: 'rejected', reason: 'signature_invalid' } };
  }

  private async enqueue(
    tenantId: string,
    jobId: string,
    ticket: ReturnType<typeof ServiceDeskWebhookPayloadSchema.parse>,
  ): Promise<WebhookOutcome> {
    return tracer.startActiveSpan('job_queued', async (span) => {
      span.setAttributes({ tenant_id: tenantId, job_id: jobId });
      try {
        const ack = await publishMessage(this.js, {
          subject: this.topology.subjects.received(tenantId),
          schema: TicketReceivedSchema,
          message: {
            version: 1,
            job_id: jobId,
            tenant_id: tenantId,
            received_at: new Date().toISOString(),
            ticket,
          },
          msgId: `received:${jobId}`,
          tenantId,
          jobId,
          timeoutMs: this.settings.publishTimeoutMs,
        });
        this.serverSwitch.succeeded();
        this.logger.info(
          {
            tenant_id: tenantId,
            job_id: jobId,
            ticket_id: ticket.ticket_id,
            duplicate: ack.duplicate,
            seq: ack.seq,
          },
          ack.duplicate ? 'Duplicate webhook, same job' : 'Job queued',
        );
        return { kind: 'accepted', jobId, duplicate: ack.duplicate } as const;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        this.serverSwitch.failed();
        this.logger.error(
          { tenant_id: tenantId, job_id: jobId, err: errorText(error) },
          'JetStream did not store the job; answering 503',
        );
        return { kind: 'rejected', reason: 'queue_unavailable' } as const;
      } finally {
        span.end();
      }
    });
  }
}
