import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { RegistryAdminStore } from '@tep/data';

/** One entry per source and minute at most, and this many entries a minute in all. */
const WINDOW_MS = 60_000;
const MAX_ENTRIES_PER_WINDOW = 60;
/** Sources remembered at once (a scan from many addresses must not grow memory without end). */
const MAX_SOURCES = 10_000;

export interface AuthFailure {
  transport: 'http' | 'grpc';
  /** The peer address as the transport reports it. */
  source: string;
  /** Method and path (HTTP) or the RPC name; never the presented token. */
  operation: string;
}

/**
 * Refused admin logins in audit_log (`admin.auth_failed`), rate-limited so a
 * token-guessing run cannot fill the table or slow the registry: the first
 * refusal of a source in a minute is written with how many it made since its
 * last entry; the rest are counted.
 */
@Injectable()
export class AuthFailureAudit {
  private readonly sources = new Map<string, { writtenAt: number; suppressed: number }>();
  private window = { startedAt: 0, written: 0 };

  constructor(
    private readonly store: RegistryAdminStore,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(AuthFailureAudit.name);
  }

  record(failure: AuthFailure, now = Date.now()): void {
    const key = `${failure.transport}:${failure.source}`;
    const seen = this.sources.get(key);
    if (now - this.window.startedAt >= WINDOW_MS) this.window = { startedAt: now, written: 0 };
    if (
      (seen && now - seen.writtenAt < WINDOW_MS) ||
      this.window.written >= MAX_ENTRIES_PER_WINDOW
    ) {
      if (seen) seen.suppressed++;
      return;
    }
    if (!seen && this.sources.size >= MAX_SOURCES) {
      this.sources.delete(this.sources.keys().next().value!);
    }
    this.window.written++;
    this.sources.set(key, { writtenAt: now, suppressed: 0 });
    void this.store
      .appendAudit({
        actor: 'anonymous',
        action: 'admin.auth_failed',
        tenantId: null,
        details: { ...failure, refused_since_last_entry: (seen?.suppressed ?? 0) + 1 },
      })
      .catch((error: unknown) =>
        this.logger.warn({ err: String(error) }, 'Could not audit a refused admin login'),
      );
  }
}
