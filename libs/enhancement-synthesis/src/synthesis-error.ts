/**
 * Why a model could not produce an enhancement, in the categories a caller
 * acts on differently: fix configuration (`auth`, `bad_request`), or try
 * again later (`unavailable`, `timeout`, `rate_limited`; see `retryable`).
 */
export type SynthesisErrorKind =
  'unavailable' | 'timeout' | 'rate_limited' | 'auth' | 'invalid_output' | 'bad_request';

export interface SynthesisErrorDetails {
  httpStatus?: number;
  retryAfterMs?: number;
  /** Requests sent before giving up (transient retries included). */
  attempts?: number;
  /** Defaults by kind: unavailable, timeout and rate_limited are retryable. */
  retryable?: boolean;
  cause?: unknown;
}

const RETRYABLE_BY_DEFAULT: Record<SynthesisErrorKind, boolean> = {
  unavailable: true,
  timeout: true,
  rate_limited: true,
  auth: false,
  invalid_output: false,
  bad_request: false,
};

/** The only error providers throw for model problems. Messages never contain the API key. */
export class SynthesisError extends Error {
  override readonly name = 'SynthesisError';
  readonly kind: SynthesisErrorKind;
  readonly retryable: boolean;
  readonly httpStatus?: number;
  readonly retryAfterMs?: number;
  readonly attempts?: number;

  constructor(kind: SynthesisErrorKind, message: string, details: SynthesisErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.retryable = details.retryable ?? RETRYABLE_BY_DEFAULT[kind];
    this.httpStatus = details.httpStatus;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts;
  }
}
