/** Every way a webhook can end, and the one place they become HTTP. */
export type RejectionReason =
  | 'tenant_id_missing'
  | 'tenant_id_malformed'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'body_unreadable'
  | 'signature_missing'
  | 'signature_invalid'
  | 'timestamp_out_of_tolerance'
  | 'rate_limited'
  | 'tenant_unknown'
  | 'tenant_disabled'
  | 'malformed_json'
  | 'schema_violation'
  | 'directory_not_ready'
  | 'queue_unavailable';

export type WebhookOutcome =
  | { kind: 'accepted'; jobId: string; duplicate: boolean }
  | {
      kind: 'rejected';
      reason: RejectionReason;
      detail?: string;
      fields?: FieldProblem[];
      retryAfterSeconds?: number;
    };

export interface FieldProblem {
  field: string;
  message: string;
}

export interface HttpReply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * Wrong signature, stale or future timestamp, unknown tenant and disabled
 * tenant share one status and one body (and, in the handler, the same
 * signature work) so a caller cannot probe which tenant ids exist or are
 * active; the log and the metric's reason say which it was.
 */
const FORBIDDEN = { status: 'rejected', error: 'forbidden', message: 'Invalid webhook signature' };

export function toHttpReply(outcome: WebhookOutcome): HttpReply {
  if (outcome.kind === 'accepted') {
    return { status: 202, body: { status: 'accepted', job_id: outcome.jobId } };
  }
  const reject = (
    status: number,
    error: string,
    message: string,
    extra: object = {},
  ): HttpReply => ({
    status,
    body: { status: 'rejected', error, message, ...extra },
  });
  switch (outcome.reason) {
    case 'tenant_id_missing':
      return reject(400, outcome.reason, 'Query parameter tenant_id is required');
    case 'tenant_id_malformed':
      return reject(400, outcome.reason, 'Query parameter tenant_id must be one UUID');
    case 'unsupported_media_type':
      return reject(415, outcome.reason, 'Content-Type must be application/json');
    case 'body_too_large':
      return reject(413, outcome.reason, outcome.detail ?? 'Request body is too large');
    case 'body_unreadable':
      return reject(400, outcome.reason, outcome.detail ?? 'Request body could not be read');
    case 'signature_missing':
      return reject(401, outcome.reason, 'Missing X-ServiceDesk-Signature header');
    case 'signature_invalid':
    case 'timestamp_out_of_tolerance':
    case 'tenant_unknown':
    case 'tenant_disabled':
      return { status: 403, body: FORBIDDEN };
    case 'rate_limited': {
      const retryAfter = String(outcome.retryAfterSeconds ?? 60);
      return {
        ...reject(429, outcome.reason, 'Rate limit reached for this tenant; retry later'),
        headers: { 'Retry-After': retryAfter },
      };
    }
    case 'malformed_json':
      return reject(400, outcome.reason, 'Request body is not valid JSON');
    case 'schema_violation':
      return reject(422, outcome.reason, 'Payload does not match the webhook schema', {
        fields: outcome.fields ?? [],
      });
    case 'directory_not_ready':
      return reject(503, outcome.reason, 'Tenant directory is loading, retry shortly');
    case 'queue_unavailable':
      return reject(503, outcome.reason, 'Queue unavailable, nothing was accepted; retry later');
  }
}
