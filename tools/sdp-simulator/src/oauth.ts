import { randomBytes } from 'node:crypto';

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Zoho's access tokens last an hour. */
  accessTokenTtlSeconds: number;
  /** Zoho allows about ten access tokens per refresh token every ten minutes. */
  maxTokensPerTenMinutes: number;
  /** A Self Client's grant code lives 3–10 minutes (chosen when it is generated). */
  grantCodeTtlSeconds: number;
}

const TEN_MINUTES_MS = 600_000;

/**
 * Zoho's accounts server, reduced to what SDP Cloud clients use: the
 * refresh-token grant, and the authorization-code grant that turns a Self
 * Client's one-time grant code into the refresh token. Like Zoho, it
 * reports most failures as `{"error": ...}` with HTTP 200.
 */
export class OAuthServer {
  private readonly tokens = new Map<string, number>();
  /** Grant codes not yet used, with their expiry. */
  private readonly grantCodes = new Map<string, number>();
  private issuedAt: number[] = [];
  private throttledUntil = 0;
  /** Every token minted, refused for throttling or not: what a test counts. */
  minted = 0;

  constructor(
    readonly settings: OAuthSettings,
    private readonly now: () => number,
  ) {}

  /** A one-time grant code, as the Zoho API console's Self Client generates it. */
  issueGrantCode(): { code: string; expiresInSeconds: number } {
    const code = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
    this.grantCodes.set(code, this.now() + this.settings.grantCodeTtlSeconds * 1000);
    return { code, expiresInSeconds: this.settings.grantCodeTtlSeconds };
  }

  issue(form: URLSearchParams, apiDomain: string): { status: number; body: object } {
    const grantType = form.get('grant_type');
    if (grantType !== 'refresh_token' && grantType !== 'authorization_code') {
      return { status: 200, body: { error: 'unsupported_grant_type' } };
    }
    if (form.get('client_id') !== this.settings.clientId) {
      return { status: 200, body: { error: 'invalid_client' } };
    }
    if (form.get('client_secret') !== this.settings.clientSecret) {
      return { status: 200, body: { error: 'invalid_client_secret' } };
    }
    if (grantType === 'authorization_code') return this.exchangeCode(form.get('code'), apiDomain);
    if (form.get('refresh_token') !== this.settings.refreshToken) {
      return { status: 200, body: { error: 'invalid_code' } };
    }
    const now = this.now();
    this.issuedAt = this.issuedAt.filter((t) => now - t < TEN_MINUTES_MS);
    if (now < this.throttledUntil || this.issuedAt.length >= this.settings.maxTokensPerTenMinutes) {
      return {
        status: 400,
        body: {
          error: 'Access Denied',
          error_description:
            'You have made too many requests continuously. Please try again after some time.',
        },
      };
    }
    this.issuedAt.push(now);
    return { status: 200, body: this.mint(apiDomain) };
  }

  /** Used, unknown and expired codes all get Zoho's `invalid_code`; a code works once. */
  private exchangeCode(code: string | null, apiDomain: string): { status: number; body: object } {
    const expiresAt = code ? this.grantCodes.get(code) : undefined;
    if (!code || expiresAt === undefined || this.now() >= expiresAt) {
      return { status: 200, body: { error: 'invalid_code' } };
    }
    this.grantCodes.delete(code);
    return {
      status: 200,
      body: { ...this.mint(apiDomain), refresh_token: this.settings.refreshToken },
    };
  }

  private mint(apiDomain: string) {
    this.minted += 1;
    const token = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
    this.tokens.set(token, this.now() + this.settings.accessTokenTtlSeconds * 1000);
    return {
      access_token: token,
      api_domain: apiDomain,
      token_type: 'Bearer',
      expires_in: this.settings.accessTokenTtlSeconds,
    };
  }

  /** `Authorization: Zoho-oauthtoken <token>` (some clients send `Bearer`, which SDP accepts too). */
  isValid(authorization: string | undefined): boolean {
    const match = /^(?:Zoho-oauthtoken|Bearer)\s+(\S+)$/i.exec(authorization?.trim() ?? '');
    const expiresAt = match?.[1] ? this.tokens.get(match[1]) : undefined;
    return expiresAt !== undefined && this.now() < expiresAt;
  }

  /** Answers "too many requests" to every refresh for this long, as Zoho does when it throttles. */
  throttleFor(ms: number): void {
    this.throttledUntil = this.now() + ms;
  }

  /** Every issued access token stops working, as if an hour had passed. */
  expireAll(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  get issuedCount(): number {
    return this.tokens.size;
  }
}
