import { StageError } from '@tep/contracts';
import { ServiceDeskError } from '@tep/servicedesk-client';

/** One exhaustive mapping from SDP failures to what the stage does next. */
export function toStageError(error: unknown): unknown {
  if (!(error instanceof ServiceDeskError)) return error;
  switch (error.kind) {
    case 'auth':
      return new StageError(
        'auth_rejected',
        `ServiceDesk Plus rejected the credentials: ${error.message}`,
      );
    case 'not_found':
      return new StageError(
        'ticket_not_found',
        `ServiceDesk Plus has no such request: ${error.message}`,
      );
    case 'validation':
    case 'unexpected_response':
      return new StageError(
        'validation_rejected',
        `ServiceDesk Plus refused the note: ${error.message}`,
      );
    case 'rate_limited':
      return new StageError('rate_limited', error.message, error.retryAfterMs);
    case 'unavailable':
    case 'timeout':
      return error.retryable
        ? new StageError('upstream_unavailable', error.message, error.retryAfterMs)
        : new StageError(
            'validation_rejected',
            `ServiceDesk Plus answered unusably: ${error.message}`,
          );
  }
}
