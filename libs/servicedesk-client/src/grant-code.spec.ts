import { startAdHocServer, type AdHocServer, type Responder } from './ad-hoc-server.spec-helper';
import { ServiceDeskError } from './errors';
import { exchangeGrantCode, type GrantCodeExchangeInput } from './grant-code';
import { clientForServiceDesk } from './tenant-client';
import { MemoryAccessTokenStore } from './token-store';

const CLIENT_ID = '1000.SELFCLIENT';
const CLIENT_SECRET = 'self-client-secret-4711';
const GRANT_CODE = '1000.grant-code-0815.abcdef';
const REFRESH_TOKEN = '1000.refresh-token-from-the-code';

let servers: AdHocServer[] = [];
async function serve(responder: Responder): Promise<AdHocServer> {
  const server = await startAdHocServer(responder);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const zohoGrant = {
  status: 200,
  body: {
    access_token: '1000.access-token-that-came-with-it',
    refresh_token: REFRESH_TOKEN,
    scope: 'SDPOnDemand.requests.ALL',
    api_domain: 'https://www.zohoapis.com',
    token_type: 'Bearer',
    expires_in: 3600,
  },
};

function input(accounts: { url: string }, overrides: Partial<GrantCodeExchangeInput> = {}) {
  return {
    accountsUrl: accounts.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    grantCode: GRANT_CODE,
    // The ad-hoc server stands in for Zoho on loopback, as the simulator does in development.
    allowLoopback: true,
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ServiceDeskError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceDeskError) return error;
    throw error;
  }
  throw new Error('expected a ServiceDeskError, but the call succeeded');
}

function expectNoSecrets(error: ServiceDeskError) {
  for (const secret of [CLIENT_SECRET, GRANT_CODE, REFRESH_TOKEN]) {
    expect(error.message).not.toContain(secret);
    expect(String(error.stack)).not.toContain(secret);
  }
}

describe('exchangeGrantCode', () => {
  it('posts the authorization-code grant and returns the refresh token', async () => {
    const accounts = await serve(() => zohoGrant);

    const grant = await exchangeGrantCode(input(accounts, { accountsUrl: `${accounts.url}/` }));

    expect(grant).toEqual({
      refreshToken: REFRESH_TOKEN,
      expiresInSeconds: 3600,
      apiDomain: 'https://www.zohoapis.com',
    });
    expect(accounts.requests).toHaveLength(1);
    const [sent] = accounts.requests;
    expect(sent.method).toBe('POST');
    expect(sent.url.pathname).toBe('/oauth/v2/token');
    expect(sent.url.search).toBe('');
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(sent.body))).toEqual({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      code: GRANT_CODE,
    });
  });

  it('shares the access token that came with it, so the tenant client mints none', async () => {
    const accounts = await serve(() => zohoGrant);
    const api = await serve(() => ({
      status: 200,
      body: {
        request: { id: '1', subject: 'Cloud ticket', status: { name: 'Open' } },
        response_status: { status_code: 2000, status: 'success' },
      },
    }));
    const tokenStore = new MemoryAccessTokenStore();

    const grant = await exchangeGrantCode(input(accounts, { tokenStore }));
    const client = clientForServiceDesk(
      {
        servicedesk_url: api.url,
        servicedesk_settings: { auth_kind: 'oauth', portal: 'itdesk', accounts_url: accounts.url },
        credential: JSON.stringify({
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          refresh_token: grant.refreshToken,
        }),
      },
      { timeoutMs: 2_000, maxRetries: 0, tokenStore },
    );
    await client.getRequest('1');

    expect(accounts.requests).toHaveLength(1);
    expect(api.requests[0].url.pathname).toBe('/app/itdesk/api/v3/requests/1');
    expect(api.requests[0].headers['authorization']).toBe(
      'Zoho-oauthtoken 1000.access-token-that-came-with-it',
    );
  });

  it('reports a used or expired code (Zoho: HTTP 200 {"error":"invalid_code"}) as an auth error', async () => {
    const accounts = await serve(() => ({ status: 200, body: { error: 'invalid_code' } }));
    const tokenStore = new MemoryAccessTokenStore();

    const error = await failureOf(exchangeGrantCode(input(accounts, { tokenStore })));

    expect(error).toMatchObject({ kind: 'auth', retryable: false, httpStatus: 200 });
    expect(error.message).toBe('Zoho grant code exchange failed: Zoho error "invalid_code"');
    expectNoSecrets(error);
    expect(accounts.requests).toHaveLength(1);
  });

  it('never puts the client secret or the code into a message, even when Zoho echoes them', async () => {
    const accounts = await serve(() => ({
      status: 200,
      body: {
        error: 'invalid_client_secret',
        error_description: `client_secret=${CLIENT_SECRET} does not match code ${GRANT_CODE}`,
      },
    }));

    const error = await failureOf(exchangeGrantCode(input(accounts)));

    expect(error.kind).toBe('auth');
    expect(error.message).toContain('invalid_client_secret');
    expect(error.message).toContain('[redacted]');
    expectNoSecrets(error);
  });

  it('classifies throttling, Zoho trouble and odd replies, without retrying the one-time code', async () => {
    const cases: [Responder, Partial<ServiceDeskError>][] = [
      [
        () => ({
          status: 400,
          body: {
            error: 'Access Denied',
            error_description: 'You have made too many requests continuously.',
          },
        }),
        { kind: 'rate_limited', retryable: true },
      ],
      [
        () => ({ status: 429, headers: { 'Retry-After': '30' }, body: {} }),
        { kind: 'rate_limited', retryAfterMs: 30_000 },
      ],
      [() => ({ status: 503, body: 'down' }), { kind: 'unavailable', retryable: false }],
      [() => ({ status: 200, body: 'not json' }), { kind: 'unexpected_response' }],
      [
        // Zoho omits the refresh token when the code was not made for offline access.
        () => ({ status: 200, body: { access_token: 'a', expires_in: 3600 } }),
        { kind: 'unexpected_response' },
      ],
      [
        () => ({ status: 302, headers: { Location: 'https://evil.example' } }),
        { kind: 'unavailable' },
      ],
    ];
    for (const [responder, expected] of cases) {
      const accounts = await serve(responder);
      const error = await failureOf(exchangeGrantCode(input(accounts)));
      expect(error).toMatchObject(expected);
      expectNoSecrets(error);
      expect(accounts.requests).toHaveLength(1);
    }
  });

  it('sends the code only to an allow-listed Zoho accounts server', async () => {
    const accounts = await serve(() => zohoGrant);

    const loopback = await failureOf(exchangeGrantCode(input(accounts, { allowLoopback: false })));
    const elsewhere = await failureOf(
      exchangeGrantCode(input(accounts, { accountsUrl: 'https://accounts.zoho.com.evil.example' })),
    );
    const blocked = await failureOf(
      exchangeGrantCode(
        input(accounts, {
          accountsUrl: 'https://accounts.zoho.eu',
          beforeConnect: () => Promise.reject(new Error('offline')),
        }),
      ),
    );

    expect(loopback).toMatchObject({ kind: 'validation', retryable: false });
    expect(loopback.message).toMatch(/^Zoho accounts server URL must use https/);
    expect(elsewhere.message).toMatch(/must be a Zoho accounts server/);
    expect(blocked).toMatchObject({ kind: 'unavailable' });
    expect(blocked.message).toContain('accounts.zoho.eu/oauth/v2/token');
    expect(accounts.requests).toHaveLength(0);
    for (const error of [loopback, elsewhere, blocked]) expectNoSecrets(error);
  });
});
