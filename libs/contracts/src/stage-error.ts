/**
 * Errors a pipeline stage raises. The consumer runner maps each code to
 * ack/nak/term in one exhaustive switch (see `dispositionFor`).
 */
export type StageErrorCode =
  | 'invalid_message' // poison: the bytes can never be processed
  | 'tenant_not_found' // tenant deleted or never existed
  | 'tenant_disabled' // the operator disabled the tenant: nothing is posted for it
  | 'ticket_not_found' // SDP says the request does not exist
  | 'auth_rejected' // SDP refused the tenant's credentials
  | 'validation_rejected' // SDP refused the note's content
  | 'rate_limited' // slow down, then retry
  | 'upstream_unavailable' // SDP/LLM down, timing out or 5xx
  | 'database_unavailable'
  | 'internal'; // an unexpected bug: retried, then dead-lettered

export class StageError extends Error {
  constructor(
    readonly code: StageErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'StageError';
  }
}

export type Disposition = { kind: 'retry'; delayMs: number } | { kind: 'dead_letter' };

const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 60_000;

/** Exponential backoff with full jitter, as AWS recommends for retries. */
export function backoffDelay(deliveryCount: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, deliveryCount - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryLimits {
  /** Deliveries after which any failure but a rate limit is dead-lettered. */
  maxAttempts: number;
  /**
   * The consumer's server-side max_deliver: a rate limit is the upstream
   * asking us to wait, not a failure, so it retries until this safety net.
   */
  maxDeliver: number;
}

export function dispositionFor(
  error: unknown,
  deliveryCount: number,
  limits: RetryLimits,
  random?: () => number,
): Disposition {
  const code: StageErrorCode = error instanceof StageError ? error.code : 'internal';
  const retry = (limit: number): Disposition =>
    deliveryCount >= limit
      ? { kind: 'dead_letter' }
      : {
          kind: 'retry',
          delayMs:
            error instanceof StageError && error.retryAfterMs !== undefined
              ? error.retryAfterMs
              : backoffDelay(deliveryCount, random),
        };
  switch (code) {
    case 'invalid_message':
    case 'tenant_not_found':
    case 'tenant_disabled':
    case 'ticket_not_found':
    case 'auth_rejected':
    case 'validation_rejected':
      return { kind: 'dead_letter' };
    case 'rate_limited':
      return retry(limits.maxDeliver - 1);
    case 'upstream_unavailable':
    case 'database_unavailable':
    case 'internal':
      return retry(limits.maxAttempts);
  }
}
