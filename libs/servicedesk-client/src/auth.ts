import { ServiceDeskError, truncateUpstreamText } from './errors';
import { HttpTransport, markNotApplied } from './http-transport';
import { describeIssues, oauthTokenReply } from './schemas';

/** On-premises: a technician's API key. */
export interface AuthTokenAuth {
  kind: 'authtoken';
  apiKey: string;
  /** Older builds read `TECHNICIAN_KEY` instead of `authtoken`. */
  header?: 'authtoken' | 'TECHNICIAN_KEY';
  /** Multi-portal instances may need the portal id as a header. */
  portalId?: string;
}

/** Cloud (SDP On-Demand): a Zoho refresh token exchanged for short-lived access tokens. */
export interface OAuthAuth {
  kind: 'oauth';
  /** Zoho accounts server of the tenant's data centre, e.g. https://accounts.zoho.eu */
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export type ServiceDeskAuth = AuthTokenAuth | OAuthAuth;

export interface AuthHeaders {
  headers: Record<string, string>;
  /** The access token these headers carry, for invalidating exactly it after a 401. */
  token?: string;
}

export interface AuthProvider {
  readonly refreshable: boolean;
  headers(): Promise<AuthHeaders>;
  invalidate(used: AuthHeaders): void;
}

export function createAuthProvider(
  auth: ServiceDeskAuth,
  transport: HttpTransport,
  now: () => number,
): AuthProvider {
  switch (auth.kind) {
    case 'authtoken':
      return new ApiKeyAuthProvider(auth);
    case 'oauth':
      return new OAuthTokenProvider(auth, transport, now);
  }
}

class ApiKeyAuthProvider implements AuthProvider {
  readonly refreshable = false;
  private readonly fixed: AuthHeaders;

  constructor(auth: AuthTokenAuth) {
    const headers: Record<string, string> = { [auth.header ?? 'authtoken']: auth.apiKey };
    if (auth.portalId) headers['PORTALID'] = auth.portalId;
    this.fixed = { headers };
  }

  headers(): Promise<AuthHeaders> {
    return Promise.resolve(this.fixed);
  }

  invalidate(): void {}
}

interface CachedToken {
  token: string;
  refreshAt: number;
}

/** Refresh this long before Zoho's expiry so a token never dies in flight. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * Caches one access token and coalesces concurrent refreshes: Zoho allows
 * only about ten new access tokens per refresh token every ten minutes.
 */
class OAuthTokenProvider implements AuthProvider {
  readonly refreshable = true;
  private cached?: CachedToken;
  private inflight?: Promise<CachedToken>;
  private readonly tokenUrl: URL;

  constructor(
    private readonly auth: OAuthAuth,
    private readonly transport: HttpTransport,
    private readonly now: () => number,
  ) {
    this.tokenUrl = new URL(`${auth.accountsUrl.replace(/\/+$/, '')}/oauth/v2/token`);
  }

  async headers(): Promise<AuthHeaders> {
    let current = this.cached;
    if (!current || this.now() >= current.refreshAt) {
      this.inflight ??= this.fetchToken().finally(() => {
        this.inflight = undefined;
      });
      current = await this.inflight;
      this.cached = current;
    }
    return {
      headers: { Authorization: `Zoho-oauthtoken ${current.token}` },
      token: current.token,
    };
  }

  invalidate(used: AuthHeaders): void {
    // Another call may already have replaced the token; keep the new one.
    if (this.cached && this.cached.token === used.token) this.cached = undefined;
  }

  private async fetchToken(): Promise<CachedToken> {
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: this.auth.clientId,
      client_secret: this.auth.clientSecret,
      refresh_token: this.auth.refreshToken,
    }).toString();
    const requestedAt = this.now();
    let reply;
    try {
      reply = await this.transport.exchange({
        method: 'POST',
        url: this.tokenUrl,
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body,
      });
    } catch (error) {
      // No API call has gone out yet, so a write may safely retry.
      throw error instanceof ServiceDeskError ? markNotApplied(error) : error;
    }

    const fail = (
      kind: 'auth' | 'rate_limited' | 'unavailable' | 'unexpected_response',
      detail: string,
    ) =>
      markNotApplied(
        new ServiceDeskError(kind, `OAuth token refresh failed: ${detail}`, {
          httpStatus: reply.status,
          retryAfterMs:
            kind === 'rate_limited' ? this.transport.retryAfterMs(reply.headers) : undefined,
        }),
      );

    if (reply.status >= 300 && reply.status < 400) {
      throw new ServiceDeskError('unavailable', 'OAuth token refresh failed: unexpected redirect', {
        httpStatus: reply.status,
        retryable: false,
      });
    }
    if (reply.status === 429) throw fail('rate_limited', 'HTTP 429');
    if (reply.status >= 500) throw fail('unavailable', `HTTP ${reply.status}`);

    let json: unknown;
    try {
      json = JSON.parse(reply.text);
    } catch {
      throw fail('unexpected_response', `HTTP ${reply.status}, body is not JSON`);
    }
    const parsed = oauthTokenReply.safeParse(json);
    if (!parsed.success) {
      throw fail(
        reply.status >= 400 ? 'auth' : 'unexpected_response',
        describeIssues(parsed.error),
      );
    }
    if ('error' in parsed.data) {
      // Zoho answers e.g. {"error":"invalid_code"} with HTTP 200.
      throw fail('auth', `Zoho error "${truncateUpstreamText(parsed.data.error)}"`);
    }
    if (reply.status >= 400) throw fail('auth', `HTTP ${reply.status}`);

    const lifetimeMs = parsed.data.expiresInSeconds * 1000;
    return {
      token: parsed.data.access_token,
      refreshAt: requestedAt + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2),
    };
  }
}
