import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Optional,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Actor } from '../tenant-admin';
import { AuthFailureAudit, type AuthFailure } from './auth-failure-audit';

export const ADMIN_TOKENS = Symbol('ADMIN_TOKENS');

/** A configured admin token: `name=token`, or a bare token named by position. */
export interface AdminToken {
  name: string;
  token: string;
}

export function parseAdminTokens(tokens: readonly string[]): AdminToken[] {
  return tokens.map((entry, i) => {
    const at = entry.indexOf('=');
    return at > 0
      ? { name: entry.slice(0, at), token: entry.slice(at + 1) }
      : { name: `admin-token-${i + 1}`, token: entry };
  });
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks `Authorization: Bearer <token>` against the configured admin
 * tokens: SHA-256 digests compared with timingSafeEqual (equal lengths,
 * constant time), every token checked so timing says nothing about which.
 */
@Injectable()
export class AdminTokenVerifier {
  private readonly digests: { name: string; digest: Buffer }[];

  constructor(
    @Inject(ADMIN_TOKENS) tokens: readonly AdminToken[],
    @Optional() private readonly failures?: AuthFailureAudit,
  ) {
    this.digests = tokens.map((t) => ({ name: t.name, digest: digest(t.token) }));
  }

  /**
   * The actor, or undefined when the header does not carry a valid token
   * (then audited as a refused login, rate-limited, with where it came from).
   */
  verify(authorization: string | undefined, from?: AuthFailure): Actor | undefined {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const presented = digest(match?.[1] ?? '');
    let actor: Actor | undefined;
    for (const candidate of this.digests) {
      if (timingSafeEqual(candidate.digest, presented) && match && !actor)
        actor = { name: candidate.name };
    }
    if (!actor && from) this.failures?.record(from);
    return actor;
  }
}

export type AuthenticatedRequest = Request & { actor: Actor };

@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(private readonly verifier: AdminTokenVerifier) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const actor = this.verifier.verify(request.headers.authorization, {
      transport: 'http',
      source: request.socket.remoteAddress ?? 'unknown',
      operation: `${request.method} ${(request.originalUrl ?? request.url).split('?')[0]}`,
    });
    if (!actor) {
      throw new UnauthorizedException({
        status: 'rejected',
        error: 'unauthorized',
        message: 'A valid admin bearer token is required',
      });
    }
    request.actor = actor;
    return true;
  }
}
