import { ServiceDeskError, truncateUpstreamText } from './errors';
import type { z } from 'zod';
import { HttpTransport, markNotApplied, type HttpReply } from './http-transport';
import { describeIssues, oauthTokenReply } from './schemas';
import {
  MemoryAccessTokenStore,
  tokenStoreKey,
  type AccessTokenStore,
  type SharedAccessToken,
} from './token-store';
import { zohoErrorKind } from './zoho';

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
  /** Cloud: the API origin Zoho's token reply named (`api_domain`), not yet vetted. */
  apiDomain?: string;
}

export interface AuthProvider {
  readonly refreshable: boolean;
  headers(): Promise<AuthHeaders>;
  invalidate(used: AuthHeaders): void;
}

export interface AuthProviderDeps {
  transport: HttpTransport;
  now: () => number;
  /** Cloud: the token cache shared by every process; a private one when absent. */
  tokenStore?: AccessTokenStore;
}

export function createAuthProvider(auth: ServiceDeskAuth, deps: AuthProviderDeps): AuthProvider {
  switch (auth.kind) {
    case 'authtoken':
      return new ApiKeyAuthProvider(auth);
    case 'oauth':
      return new OAuthTokenProvider(auth, deps);
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

/** Refresh this long before Zoho's expiry so a token never dies in flight. */
const EXPIRY_MARGIN_MS = 60_000;
/** Zoho's "too many requests" names no delay; ask again after this long. */
const DEFAULT_MINT_BLOCK_MS = 30_000;
/** How long one process may hold the right to mint before others take over. */
const MINT_LEASE_MS = 15_000;
/** How long to wait for another process's mint before giving up on this call. */
const MAX_WAIT_FOR_OTHERS_MS = 20_000;
const POLL_MS = 100;

/** When to stop using an access token: shortly before Zoho's expiry, so it never dies in flight. */
export function tokenRefreshAt(requestedAt: number, lifetimeMs: number): number {
  return requestedAt + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2);
}

/**
 * One access token per tenant credential, shared through `tokenStore` by
 * every process: Zoho allows only about ten new access tokens per refresh
 * token every ten minutes, and an hour-long token serves thousands of jobs.
 * Concurrent refreshes coalesce twice: within the process (one promise) and
 * across processes (one lease holder mints, the others wait for its token).
 * A "too many requests" answer is recorded too, so no process asks Zoho
 * again before it has had time to cool down.
 */
class OAuthTokenProvider implements AuthProvider {
  readonly refreshable = true;
  private cached?: SharedAccessToken;
  private inflight?: Promise<SharedAccessToken>;
  /** The last token SDP refused: never taken from the shared store again. */
  private rejected?: string;
  private readonly tokenUrl: URL;
  private readonly key: string;
  private readonly store: AccessTokenStore;

  constructor(
    private readonly auth: OAuthAuth,
    private readonly deps: AuthProviderDeps,
  ) {
    this.tokenUrl = new URL(`${auth.accountsUrl.replace(/\/+$/, '')}/oauth/v2/token`);
    this.key = tokenStoreKey(auth);
    this.store = deps.tokenStore ?? new MemoryAccessTokenStore(deps.now);
  }

  async headers(): Promise<AuthHeaders> {
    let current = this.cached;
    if (!current || this.deps.now() >= current.refreshAt) {
      this.inflight ??= this.obtain().finally(() => {
        this.inflight = undefined;
      });
      current = await this.inflight;
      this.cached = current;
    }
    return {
      headers: { Authorization: `Zoho-oauthtoken ${current.token}` },
      token: current.token,
      apiDomain: current.apiDomain,
    };
  }

  invalidate(used: AuthHeaders): void {
    // Another call may already have replaced the token; keep the new one.
    if (this.cached && this.cached.token === used.token) this.cached = undefined;
    this.rejected = used.token;
    if (used.token) void this.store.forget(this.key, used.token).catch(() => undefined);
  }

  /** A fresh token from the shared store, or minted here while holding the lease. */
  private async obtain(): Promise<SharedAccessToken> {
    const { now } = this.deps;
    const giveUpAt = now() + MAX_WAIT_FOR_OTHERS_MS;
    for (;;) {
      let release: (() => Promise<void>) | undefined;
      try {
        const shared = await this.usableShared();
        if (shared) return shared;
        release = await this.store.lease(this.key, MINT_LEASE_MS);
      } catch (error) {
        if (error instanceof ServiceDeskError) throw error;
        // The shared store is unreachable: a token minted here beats no note.
        return this.fetchToken();
      }
      if (release) {
        try {
          // Another process may have finished minting between our read and our lease.
          const shared = await this.usableShared();
          if (shared) return shared;
          const minted = await this.mintAndShare();
          return minted;
        } finally {
          await release().catch(() => undefined);
        }
      }
      if (now() >= giveUpAt) {
        throw markNotApplied(
          new ServiceDeskError(
            'unavailable',
            'OAuth token refresh: another process is still minting the token',
          ),
        );
      }
      // Real time, not the client's (injectable) retry sleep: another process is working.
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** The stored token if still fresh; throws when Zoho asked everyone to wait. */
  private async usableShared(): Promise<SharedAccessToken | undefined> {
    const entry = await this.store.read(this.key);
    if (!entry) return undefined;
    const now = this.deps.now();
    if ('blockedUntil' in entry) {
      if (now >= entry.blockedUntil) return undefined;
      throw markNotApplied(
        new ServiceDeskError(
          'rate_limited',
          'OAuth token refresh: Zoho asked to wait before the next token (too many requests)',
          { retryAfterMs: entry.blockedUntil - now },
        ),
      );
    }
    return now < entry.refreshAt && entry.token !== this.rejected ? entry : undefined;
  }

  private async mintAndShare(): Promise<SharedAccessToken> {
    try {
      const minted = await this.fetchToken();
      await this.store.write(this.key, minted).catch(() => undefined);
      return minted;
    } catch (error) {
      if (error instanceof ServiceDeskError && error.kind === 'rate_limited') {
        const waitMs = error.retryAfterMs ?? DEFAULT_MINT_BLOCK_MS;
        await this.store
          .write(this.key, { blockedUntil: this.deps.now() + waitMs })
          .catch(() => undefined);
        throw error.retryAfterMs === undefined
          ? markNotApplied(
              new ServiceDeskError('rate_limited', error.message, {
                httpStatus: error.httpStatus,
                retryAfterMs: waitMs,
              }),
            )
          : error;
      }
      throw error;
    }
  }

  private async fetchToken(): Promise<SharedAccessToken> {
    const { transport, now } = this.deps;
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: this.auth.clientId,
      client_secret: this.auth.clientSecret,
      refresh_token: this.auth.refreshToken,
    }).toString();
    const requestedAt = now();
    let reply;
    try {
      reply = await transport.exchange({
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
          retryAfterMs: kind === 'rate_limited' ? transport.retryAfterMs(reply.headers) : undefined,
        }),
      );

    if (reply.status >= 300 && reply.status < 400) {
      throw new ServiceDeskError('unavailable', 'OAuth token refresh failed: unexpected redirect', {
        httpStatus: reply.status,
        retryable: false,
      });
    }
    const { data: parsed } = readZohoTokenReply(reply, fail);

    return {
      token: parsed.access_token,
      refreshAt: tokenRefreshAt(requestedAt, parsed.expiresInSeconds * 1000),
      ...(parsed.apiDomain ? { apiDomain: parsed.apiDomain } : {}),
    };
  }
}

export type ZohoFailureKind = 'auth' | 'rate_limited' | 'unavailable' | 'unexpected_response';

/**
 * Zoho's token endpoint reply, read the same way for every grant: Zoho
 * answers e.g. {"error":"invalid_code"} with HTTP 200, and its throttle as
 * {"error":"Access Denied","error_description":"You have made too many
 * requests continuously…"} with HTTP 400. `fail` builds the caller's error.
 */
export function readZohoTokenReply(
  reply: HttpReply,
  fail: (kind: ZohoFailureKind, detail: string) => Error,
): { data: Extract<z.output<typeof oauthTokenReply>, { access_token: string }>; json: unknown } {
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
      reply.status === 401 || reply.status === 403 ? 'auth' : 'unexpected_response',
      describeIssues(parsed.error),
    );
  }
  if ('error' in parsed.data) {
    const { error, error_description: description = '' } = parsed.data;
    const shown = truncateUpstreamText(
      description ? `Zoho error "${error}": ${description}` : `Zoho error "${error}"`,
    );
    throw fail(zohoErrorKind(error, description), shown);
  }
  if (reply.status === 401 || reply.status === 403) throw fail('auth', `HTTP ${reply.status}`);
  if (reply.status >= 400) throw fail('unavailable', `HTTP ${reply.status}`);
  return { data: parsed.data, json };
}
