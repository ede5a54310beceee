import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

export const ADMIN_TOKENS = Symbol('ADMIN_TOKENS');

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Bearer-token check for every admin route. Tokens are compared as SHA-256
 * digests with timingSafeEqual: equal lengths, constant time.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(@Inject(ADMIN_TOKENS) tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const presented = digest(match?.[1] ?? '');
    let ok = false;
    // Check every token (no early exit) so timing says nothing about which.
    for (const candidate of this.digests) ok = timingSafeEqual(candidate, presented) || ok;
    if (!match || !ok) {
      throw new UnauthorizedException({
        status: 'rejected',
        error: 'unauthorized',
        message: 'A valid admin bearer token is required',
      });
    }
    return true;
  }
}
