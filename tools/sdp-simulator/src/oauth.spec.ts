import { startSdpSimulator, type SdpSimulator } from './server';

let sim: SdpSimulator;
let clock: number;

beforeEach(async () => {
  clock = Date.parse('2025-11-03T10:00:00Z');
  sim = await startSdpSimulator({
    mode: 'cloud',
    now: () => clock,
    seed: { requests: [{ display_id: '1', subject: 'Cloud ticket' }] },
  });
});

afterEach(async () => {
  await sim.close();
});

async function token(fields: Record<string, string>) {
  const response = await fetch(`${sim.url}/oauth/v2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

function grant(overrides: Record<string, string> = {}) {
  const oauth = sim.credentials.oauth!;
  return {
    grant_type: 'refresh_token',
    client_id: oauth.clientId,
    client_secret: oauth.clientSecret,
    refresh_token: oauth.refreshToken,
    ...overrides,
  };
}

async function getRequest(authorization: string) {
  const response = await fetch(`${sim.url}/api/v3/requests/1`, {
    headers: { Authorization: authorization },
  });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

describe('OAuth token endpoint (cloud mode)', () => {
  it('issues an access token for the refresh-token grant that the API accepts', async () => {
    const issued = await token(grant());
    const withToken = await getRequest(`Zoho-oauthtoken ${issued.body.access_token}`);

    expect(issued.status).toBe(200);
    expect(issued.body).toEqual({
      access_token: expect.stringMatching(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/),
      api_domain: sim.url,
      token_type: 'Bearer',
      expires_in: 3600,
    });
    expect(withToken.status).toBe(200);
    expect(withToken.body.request.subject).toBe('Cloud ticket');
    expect(withToken.body.request.id).toMatch(/^\d{18}$/);
  });

  it('answers a bad refresh token or client like Zoho: HTTP 200 with an error', async () => {
    const badCode = await token(grant({ refresh_token: 'nope' }));
    const badClient = await token(grant({ client_id: 'nope' }));
    const badGrant = await token(grant({ grant_type: 'password' }));

    expect([badCode, badClient, badGrant]).toEqual([
      { status: 200, body: { error: 'invalid_code' } },
      { status: 200, body: { error: 'invalid_client' } },
      { status: 200, body: { error: 'unsupported_grant_type' } },
    ]);
  });

  it('exchanges a one-time grant code for the refresh token and an access token, once', async () => {
    const oauth = sim.credentials.oauth!;
    const { code, expiresInSeconds } = sim.control.issueGrantCode();
    const exchange = (fields: Record<string, string> = {}) =>
      token({
        grant_type: 'authorization_code',
        client_id: oauth.clientId,
        client_secret: oauth.clientSecret,
        code,
        ...fields,
      });
    const wrongSecret = await exchange({ client_secret: 'nope' });
    const first = await exchange();
    const again = await exchange();
    const withToken = await getRequest(`Zoho-oauthtoken ${first.body.access_token}`);

    expect(expiresInSeconds).toBe(600);
    expect(wrongSecret.body).toEqual({ error: 'invalid_client_secret' });
    expect(first).toEqual({
      status: 200,
      body: {
        access_token: expect.stringMatching(/^1000\./),
        refresh_token: oauth.refreshToken,
        api_domain: sim.url,
        token_type: 'Bearer',
        expires_in: 3600,
      },
    });
    expect(withToken.status).toBe(200);
    expect(again).toEqual({ status: 200, body: { error: 'invalid_code' } });
    expect(sim.control.tokensMinted()).toBe(1);
  });

  it('refuses unknown and expired grant codes with invalid_code, and mints codes over HTTP', async () => {
    const oauth = sim.credentials.oauth!;
    const exchange = (code: string) =>
      token({
        grant_type: 'authorization_code',
        client_id: oauth.clientId,
        client_secret: oauth.clientSecret,
        code,
      });
    const minted = await fetch(`${sim.url}/_sim/grant-code`, { method: 'POST' });
    const { code, expires_in: expiresIn } = (await minted.json()) as {
      code: string;
      expires_in: number;
    };
    const unknown = await exchange('1000.not-a-code');
    clock += 600_000;
    const expired = await exchange(code);

    expect([minted.status, expiresIn]).toEqual([200, 600]);
    expect(code).toMatch(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/);
    expect([unknown.body, expired.body]).toEqual([
      { error: 'invalid_code' },
      { error: 'invalid_code' },
    ]);
    expect(sim.control.tokensMinted()).toBe(0);
  });

  it('rejects unknown and expired tokens with 401 / 4022, and API keys in cloud mode', async () => {
    const issued = await token(grant());
    const unknown = await getRequest('Zoho-oauthtoken 1000.unknown');
    clock += 3600 * 1000;
    const expired = await getRequest(`Zoho-oauthtoken ${issued.body.access_token}`);
    const apiKey = await fetch(`${sim.url}/api/v3/requests/1`, {
      headers: { authtoken: 'sdp-simulator-dev-key' },
    });

    for (const reply of [unknown, expired]) {
      expect(reply.status).toBe(401);
      expect(reply.body.response_status.messages[0].status_code).toBe(4022);
    }
    expect(apiKey.status).toBe(401);
  });

  it('expires every issued token on demand', async () => {
    const issued = await token(grant());
    const before = await getRequest(`Zoho-oauthtoken ${issued.body.access_token}`);
    await fetch(`${sim.url}/_sim/expire-tokens`, { method: 'POST' });
    const after = await getRequest(`Zoho-oauthtoken ${issued.body.access_token}`);

    expect([before.status, after.status]).toEqual([200, 401]);
  });

  it('allows ten tokens per refresh token in ten minutes, like Zoho', async () => {
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await token(grant())).status);
    clock += 600_000;
    const later = await token(grant());

    expect(statuses).toEqual([...Array<number>(10).fill(200), 400]);
    expect(later.status).toBe(200);
  });

  it('uses the request_note wrapper and created_time/created_by for notes', async () => {
    const issued = await token(grant());
    const response = await fetch(`${sim.url}/api/v3/requests/1/notes`, {
      method: 'POST',
      headers: {
        Authorization: `Zoho-oauthtoken ${issued.body.access_token}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        input_data: JSON.stringify({ request_note: { description: '<p>cloud note</p>' } }),
      }).toString(),
    });
    const body = JSON.parse(await response.text());

    expect(response.status).toBe(200);
    expect(body.request_note).toMatchObject({
      description: '<p>cloud note</p>',
      created_time: { value: String(clock) },
      created_by: { name: 'API Technician' },
    });
    expect(body.request_note.id).toMatch(/^\d{18}$/);
    expect(body.note).toBeUndefined();
  });
});
