import { z } from 'zod';
import { readZohoTokenReply, tokenRefreshAt } from './auth';
import { ServiceDeskError } from './errors';
import { HttpTransport, defaultFetch, type FetchLike } from './http-transport';
import { tokenStoreKey, type AccessTokenStore } from './token-store';
import { zohoAccountsUrlProblem } from './zoho';

export interface GrantCodeExchangeInput {
  /** The Zoho accounts server of the client's data centre, e.g. https://accounts.zoho.eu */
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  /** The one-time code a Zoho "Self Client" generates (valid for 3–10 minutes). */
  grantCode: string;
  /** Development only: the loopback SDP simulator may stand in for Zoho. */
  allowLoopback?: boolean;
  /** Default 10 000. */
  timeoutMs?: number;
  /** Awaited before connecting (the platform's SSRF guard); a rejection blocks the call. */
  beforeConnect?: (url: URL) => Promise<void>;
  fetch?: FetchLike;
  now?: () => number;
  /**
   * Where the access token that comes with the refresh token goes, keyed as
   * every client of this credential looks it up, so nobody mints another.
   */
  tokenStore?: AccessTokenStore;
}

export interface ExchangedGrant {
  /** Long-lived: store it encrypted (the registry does) and never print it. */
  refreshToken: string;
  /** How long the access token that came with it lives (it is in `tokenStore`, if given). */
  expiresInSeconds: number;
  /** The API origin Zoho named (`api_domain`), not vetted (see trustedApiOrigin). */
  apiDomain?: string;
}

const refreshTokenField = z.object({ refresh_token: z.string().min(1) });

/**
 * Exchanges a Zoho "Self Client" grant code for the refresh token a Cloud
 * tenant is stored with: `POST {accounts}/oauth/v2/token` with
 * `grant_type=authorization_code`. The accounts server must be on the Zoho
 * allow-list (the registry applies the same rule). Zoho reports a used or
 * expired code as `{"error":"invalid_code"}` with HTTP 200: that is an
 * `auth` error. The code is single-use, so nothing is retried. Messages
 * never contain the client secret, the code or a token.
 */
export async function exchangeGrantCode(input: GrantCodeExchangeInput): Promise<ExchangedGrant> {
  const secrets = [input.clientSecret, input.grantCode].filter((s) => s.length >= 4);
  const redact = (text: string) =>
    secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text);
  const problem = zohoAccountsUrlProblem(input.accountsUrl, input.allowLoopback ?? false);
  if (problem) {
    throw new ServiceDeskError('validation', `Zoho accounts server URL ${problem}`, {
      retryable: false,
    });
  }
  for (const [name, value] of [
    ['client id', input.clientId],
    ['client secret', input.clientSecret],
    ['grant code', input.grantCode],
  ] as const) {
    if (!value.trim()) {
      throw new ServiceDeskError('validation', `Zoho grant code exchange: the ${name} is empty`, {
        retryable: false,
      });
    }
  }

  const now = input.now ?? Date.now;
  const transport = new HttpTransport({
    fetch: input.fetch ?? defaultFetch,
    timeoutMs: input.timeoutMs ?? 10_000,
    beforeConnect: input.beforeConnect,
    now,
  });
  const accountsUrl = input.accountsUrl.replace(/\/+$/, '');
  const requestedAt = now();
  const reply = await transport.exchange({
    method: 'POST',
    url: new URL(`${accountsUrl}/oauth/v2/token`),
    headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: input.clientId,
      client_secret: input.clientSecret,
      code: input.grantCode,
    }).toString(),
  });

  const fail = (
    kind: 'auth' | 'rate_limited' | 'unavailable' | 'unexpected_response',
    detail: string,
  ) =>
    new ServiceDeskError(kind, redact(`Zoho grant code exchange failed: ${detail}`), {
      httpStatus: reply.status,
      retryAfterMs: kind === 'rate_limited' ? transport.retryAfterMs(reply.headers) : undefined,
      // A grant code is used up by a successful exchange: never retry blindly.
      retryable: kind === 'rate_limited',
    });

  if (reply.status >= 300 && reply.status < 400) throw fail('unavailable', 'unexpected redirect');
  const { data: parsed, json } = readZohoTokenReply(reply, fail);
  const refresh = refreshTokenField.safeParse(json);
  if (!refresh.success) {
    throw fail(
      'unexpected_response',
      'the reply has an access token but no refresh_token (generate the code again in the Zoho API console)',
    );
  }

  const token = parsed;
  const refreshToken = refresh.data.refresh_token;
  if (input.tokenStore) {
    await input.tokenStore
      .write(
        tokenStoreKey({ accountsUrl: input.accountsUrl, clientId: input.clientId, refreshToken }),
        {
          token: token.access_token,
          refreshAt: tokenRefreshAt(requestedAt, token.expiresInSeconds * 1000),
          ...(token.apiDomain ? { apiDomain: token.apiDomain } : {}),
        },
      )
      // Only a saving: a client mints its own token when the store has none.
      .catch(() => undefined);
  }
  return {
    refreshToken,
    expiresInSeconds: token.expiresInSeconds,
    ...(token.apiDomain ? { apiDomain: token.apiDomain } : {}),
  };
}
