/**
 * What went wrong talking to ServiceDesk Plus, in the few categories a caller
 * acts on differently: fix credentials (`auth`), give up on this ticket
 * (`not_found`, `validation`, `unexpected_response`), or try again later
 * (`rate_limited`, `unavailable`, `timeout` — see `retryable`).
 */
export type ServiceDeskErrorKind =
  | 'auth'
  | 'not_found'
  | 'validation'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'unexpected_response';

export interface ServiceDeskErrorDetails {
  httpStatus?: number;
  sdpStatusCode?: number;
  retryAfterMs?: number;
  /** Defaults by kind: rate_limited, unavailable and timeout are retryable. */
  retryable?: boolean;
  /** Field names SDP reported (e.g. the missing mandatory field for 4012). */
  fields?: readonly string[];
  cause?: unknown;
}

const RETRYABLE_BY_DEFAULT: Record<ServiceDeskErrorKind, boolean> = {
  auth: false,
  not_found: false,
  validation: false,
  rate_limited: true,
  unavailable: true,
  timeout: true,
  unexpected_response: false,
};

/**
 * The only error the client throws for SDP problems. Messages never contain
 * credentials, and upstream text only as a short, truncated excerpt.
 */
export class ServiceDeskError extends Error {
  override readonly name = 'ServiceDeskError';
  readonly kind: ServiceDeskErrorKind;
  readonly httpStatus?: number;
  readonly sdpStatusCode?: number;
  readonly retryAfterMs?: number;
  readonly retryable: boolean;
  readonly fields?: readonly string[];

  constructor(kind: ServiceDeskErrorKind, message: string, details: ServiceDeskErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.httpStatus = details.httpStatus;
    this.sdpStatusCode = details.sdpStatusCode;
    this.retryAfterMs = details.retryAfterMs;
    this.retryable = details.retryable ?? RETRYABLE_BY_DEFAULT[kind];
    this.fields = details.fields;
  }
}

/** The API doc's error table; 4000 itself is generic and falls through to HTTP. */
const KIND_BY_SDP_CODE = new Map<number, ServiceDeskErrorKind>([
  [4022, 'auth'], // invalid API key / token
  [4002, 'auth'], // forbidden
  [4007, 'not_found'],
  [4001, 'validation'],
  [4008, 'validation'],
  [4009, 'validation'],
  [4012, 'validation'],
  [4014, 'validation'],
  [4021, 'validation'],
  [4015, 'rate_limited'],
  [4004, 'unavailable'],
]);

/** Maps an SDP status code (preferred: it is more specific) or else the HTTP status to a kind. */
export function classifyFailure(
  httpStatus: number | undefined,
  sdpStatusCode: number | undefined,
): ServiceDeskErrorKind {
  const bySdpCode = sdpStatusCode === undefined ? undefined : KIND_BY_SDP_CODE.get(sdpStatusCode);
  if (bySdpCode) return bySdpCode;
  if (httpStatus === undefined) {
    // A failed envelope inside a 2xx with only the generic 4000 code.
    return 'validation';
  }
  if (httpStatus === 401 || httpStatus === 403) return 'auth';
  if (httpStatus === 404) return 'not_found';
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus === 408) return 'timeout';
  if (httpStatus >= 500) return 'unavailable';
  if (httpStatus === 400 || httpStatus === 409 || httpStatus === 422) return 'validation';
  if (httpStatus >= 200 && httpStatus < 300) return 'validation';
  return 'unexpected_response';
}

const MAX_UPSTREAM_TEXT = 160;

/** Upstream text is untrusted: keep it short, single-line and printable. */
export function truncateUpstreamText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > MAX_UPSTREAM_TEXT ? `${flat.slice(0, MAX_UPSTREAM_TEXT)}…` : flat;
}
