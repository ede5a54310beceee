import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  inputDataOf,
  ok,
  sdpFailure,
  startAdHocServer,
  type AdHocServer,
  type Responder,
} from './ad-hoc-server.spec-helper';
import { ServiceDeskClient, type ServiceDeskClientOptions } from './client';
import { ServiceDeskError } from './errors';
import { backfillResolvedRequestsQuery } from './search';
import { MemoryAccessTokenStore } from './token-store';
import { ZOHO_DATA_CENTRES, zohoAccountsUrl, zohoAccountsUrlProblem } from './zoho';

const API_KEY = 'secret-api-key-0123456789';
const CLIENT_SECRET = 'oauth-client-secret-xyz';
const REFRESH_TOKEN = '1000.refresh-token-abc';

const request = (id: string | number, extra: object = {}) => ({
  id,
  subject: `Ticket ${id}`,
  description: '<p>x</p>',
  status: { id: '2', name: 'Open' },
  created_time: { value: '1730629800000', display_value: 'Nov 3, 2024 10:30 AM' },
  ...extra,
});

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

function clientFor(
  server: { url: string },
  overrides: Partial<ServiceDeskClientOptions> = {},
): { client: ServiceDeskClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const client = new ServiceDeskClient({
    baseUrl: server.url,
    auth: { kind: 'authtoken', apiKey: API_KEY },
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    ...overrides,
  });
  return { client, sleeps };
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

describe('ServiceDeskClient wire format', () => {
  it('sends Accept and authtoken on GETs and puts input_data in the query', async () => {
    const server = await serve(() => ({
      status: 200,
      body: {
        requests: [request('7')],
        list_info: { has_more_rows: false, start_index: 1, row_count: 1, total_count: 1 },
        response_status: [ok],
      },
    }));
    const { client } = clientFor(server);

    const page = await client.listRequests({
      rowCount: 25,
      startIndex: 26,
      searchCriteria: [{ field: 'subject', condition: 'contains', value: 'VPN & DNS' }],
      sortField: 'created_time',
      sortOrder: 'desc',
      getTotalCount: true,
    });

    expect(page).toMatchObject({ hasMoreRows: false, startIndex: 1, rowCount: 1, totalCount: 1 });
    expect(page.requests.map((r) => r.id)).toEqual(['7']);
    const [sent] = server.requests;
    expect(sent.method).toBe('GET');
    expect(sent.url.pathname).toBe('/api/v3/requests');
    expect(sent.headers['accept']).toBe('application/vnd.manageengine.sdp.v3+json');
    expect(sent.headers['authtoken']).toBe(API_KEY);
    expect(sent.headers['content-type']).toBeUndefined();
    expect(inputDataOf(sent)).toEqual({
      list_info: {
        row_count: 25,
        start_index: 26,
        get_total_count: true,
        search_criteria: [{ field: 'subject', condition: 'contains', value: 'VPN & DNS' }],
        sort_field: 'created_time',
        sort_order: 'desc',
      },
    });
  });

  it('sends writes as input_data form fields under the portal path with TECHNICIAN_KEY and PORTALID', async () => {
    const server = await serve(() => ({
      status: 200,
      body: {
        note: {
          id: 501,
          description: '<p>Hello</p>',
          added_time: { value: '1730629800000', display_value: 'x' },
          added_by: { id: '3', name: 'API', email_id: 'api@example.com' },
        },
        response_status: ok,
      },
    }));
    const { client } = clientFor(
      { url: `${server.url}/sdp/` },
      {
        portal: 'itdesk',
        noteWrapperKey: 'note',
        auth: { kind: 'authtoken', apiKey: API_KEY, header: 'TECHNICIAN_KEY', portalId: '301' },
      },
    );

    const note = await client.addNote('42', {
      descriptionHtml: '<p>Hello</p>',
      showToRequester: true,
    });

    expect(note).toEqual({
      id: '501',
      descriptionHtml: '<p>Hello</p>',
      createdTime: '2024-11-03T10:30:00.000Z',
      createdBy: { id: '3', name: 'API', email: 'api@example.com' },
      showToRequester: false,
      notifyTechnician: false,
    });
    const [sent] = server.requests;
    expect(sent.method).toBe('POST');
    expect(sent.url.pathname).toBe('/sdp/app/itdesk/api/v3/requests/42/notes');
    expect(sent.url.search).toBe('');
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent.headers['technician_key']).toBe(API_KEY);
    expect(sent.headers['authtoken']).toBeUndefined();
    expect(sent.headers['portalid']).toBe('301');
    expect(inputDataOf(sent)).toEqual({
      note: {
        description: '<p>Hello</p>',
        show_to_requester: true,
        notify_technician: false,
        mark_first_response: false,
        add_to_linked_requests: false,
      },
    });
  });

  it('creates a request with input_data {"request": {...}} and parses the reply', async () => {
    const server = await serve(() => ({
      status: 201,
      body: {
        request: request('4001', {
          subject: 'TEP onboarding validation',
          priority: { id: '3', name: 'High' },
        }),
        response_status: ok,
      },
    }));
    const { client } = clientFor(server);

    const created = await client.createRequest({
      subject: 'TEP onboarding validation',
      descriptionHtml: '<p>Checks the enhancement pipeline</p>',
      priority: 'High',
      requesterEmail: 'admin@acmecorp.com',
    });

    expect(created).toMatchObject({
      id: '4001',
      subject: 'TEP onboarding validation',
      priority: { id: '3', name: 'High' },
    });
    const [sent] = server.requests;
    expect(sent.method).toBe('POST');
    expect(sent.url.pathname).toBe('/api/v3/requests');
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(inputDataOf(sent)).toEqual({
      request: {
        subject: 'TEP onboarding validation',
        description: '<p>Checks the enhancement pipeline</p>',
        priority: { name: 'High' },
        requester: { email_id: 'admin@acmecorp.com' },
      },
    });
  });

  it('does not repeat a request creation after a 500, where SDP may have created it', async () => {
    const server = await serve(() => sdpFailure(500, 4004, 'Internal error'));
    const { client } = clientFor(server);

    const error = await failureOf(client.createRequest({ subject: 'Once only' }));

    expect(error).toMatchObject({ kind: 'unavailable' });
    expect(server.requests).toHaveLength(1);
    expect(inputDataOf(server.requests[0])).toEqual({ request: { subject: 'Once only' } });
    await expect(client.createRequest({ subject: '  ' })).rejects.toThrow(RangeError);
  });

  it('accepts response_status as an object, an array, or absent', async () => {
    const bodies = [
      { request: request('1'), response_status: ok },
      { request: request('2'), response_status: [ok] },
      { request: request(3) },
    ];
    const server = await serve((_, i) => ({ status: 200, body: bodies[i] }));
    const { client } = clientFor(server);

    const ids = [];
    for (const id of ['1', '2', '3']) ids.push((await client.getRequest(id)).id);

    expect(ids).toEqual(['1', '2', '3']);
  });

  it('treats a failed envelope inside HTTP 200 as an error', async () => {
    const server = await serve(() => ({
      status: 200,
      body: {
        response_status: [
          {
            status_code: 4000,
            status: 'failed',
            messages: [{ status_code: 4001, message: 'bad status', field: 'status' }],
          },
        ],
      },
    }));
    const { client } = clientFor(server);

    const error = await failureOf(client.getRequest('1'));

    expect(error).toMatchObject({ kind: 'validation', sdpStatusCode: 4001, httpStatus: 200 });
    expect(error.fields).toEqual(['status']);
  });

  it('reports malformed JSON as unexpected_response without retrying', async () => {
    const server = await serve(() => ({ status: 200, body: '{"request": {"id": "1"' }));
    const { client, sleeps } = clientFor(server);

    const error = await failureOf(client.getRequest('1'));

    expect(error).toMatchObject({ kind: 'unexpected_response', retryable: false, httpStatus: 200 });
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('reports a reply that does not match the schema, naming the field but not echoing data', async () => {
    const server = await serve(() => ({
      status: 200,
      body: { request: { subject: 'leaky subject text' }, response_status: ok },
    }));
    const { client } = clientFor(server);

    const error = await failureOf(client.getRequest('1'));

    expect(error.kind).toBe('unexpected_response');
    expect(error.message).toContain('request.id');
    expect(error.message).not.toContain('leaky subject text');
  });

  it('rejects a numeric id that JSON.parse has already rounded', async () => {
    const server = await serve(() => ({
      status: 200,
      body: '{"request": {"id": 114000000000000001, "subject": "s"}, "response_status": {"status_code": 2000}}',
    }));
    const { client } = clientFor(server);

    expect((await failureOf(client.getRequest('1'))).kind).toBe('unexpected_response');
  });
});

describe('ServiceDeskClient errors and retries', () => {
  it.each([
    [401, 4022, 'auth'],
    [403, 4002, 'auth'],
    [404, 4007, 'not_found'],
    [400, 4012, 'validation'],
    [400, 4021, 'validation'],
  ] as const)('does not retry HTTP %i / SDP %i (%s)', async (httpStatus, code, kind) => {
    const server = await serve(() => sdpFailure(httpStatus, code, 'nope', ['subject']));
    const { client, sleeps } = clientFor(server);

    const error = await failureOf(client.getRequest('1'));

    expect(error).toMatchObject({ kind, httpStatus, sdpStatusCode: code, retryable: false });
    expect(error.fields).toEqual(['subject']);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries 5xx with jittered exponential backoff, then gives up', async () => {
    const server = await serve(() => sdpFailure(500, 4004, 'Internal error'));
    const { client, sleeps } = clientFor(server, { random: () => 0.5 });

    const error = await failureOf(client.getRequest('1'));

    expect(error).toMatchObject({ kind: 'unavailable', sdpStatusCode: 4004, retryable: true });
    expect(server.requests).toHaveLength(4);
    // ceiling 500, 1000, 2000 ms; half fixed plus half scaled by random() = 0.5
    expect(sleeps).toEqual([375, 750, 1500]);
  });

  it('spreads retries between half and all of the backoff ceiling', async () => {
    const server = await serve(() => ({ status: 503, body: 'down' }));
    const low = clientFor(server, { random: () => 0, maxRetries: 2 });
    const high = clientFor(server, { random: () => 0.999999, maxRetries: 2 });

    await failureOf(low.client.getRequest('1'));
    await failureOf(high.client.getRequest('1'));

    expect(low.sleeps).toEqual([250, 500]);
    expect(high.sleeps).toEqual([500, 1000]);
  });

  it('honours Retry-After in seconds on 429 / 4015', async () => {
    const server = await serve((_, i) =>
      i === 0
        ? { ...sdpFailure(429, 4015, 'API rate limit reached'), headers: { 'Retry-After': '7' } }
        : { status: 200, body: { request: request('1'), response_status: ok } },
    );
    const { client, sleeps } = clientFor(server);

    const result = await client.getRequest('1');

    expect(result.id).toBe('1');
    expect(sleeps).toEqual([7000]);
    expect(server.requests).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const server = await serve((_, i) =>
      i === 0
        ? { status: 503, headers: { 'Retry-After': 'Wed, 01 Jan 2025 00:00:05 GMT' }, body: '' }
        : { status: 200, body: { request: request('1'), response_status: ok } },
    );
    const { client, sleeps } = clientFor(server, { now: () => Date.parse('2025-01-01T00:00:00Z') });

    await client.getRequest('1');

    expect(sleeps).toEqual([5000]);
  });

  it('hands a Retry-After beyond 60 s back to the caller instead of sleeping', async () => {
    const server = await serve(() => ({
      ...sdpFailure(429, 4015, 'API rate limit reached'),
      headers: { 'Retry-After': '120' },
    }));
    const { client, sleeps } = clientFor(server);

    const error = await failureOf(client.getRequest('1'));

    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 120_000, retryable: true });
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('treats SDP 4015 under another HTTP status as rate limiting', async () => {
    const server = await serve(() => sdpFailure(400, 4015, 'API rate limit reached'));
    const { client, sleeps } = clientFor(server, { maxRetries: 1 });

    const error = await failureOf(client.getRequest('1'));

    expect(error.kind).toBe('rate_limited');
    expect(sleeps).toHaveLength(1);
  });

  it('does not follow redirects', async () => {
    const target = await serve(() => ({ status: 200, body: { request: request('1') } }));
    const server = await serve(() => ({
      status: 302,
      headers: { Location: `${target.url}/api/v3/requests/1` },
    }));
    const { client, sleeps } = clientFor(server);

    const error = await failureOf(client.getRequest('1'));

    expect(error).toMatchObject({ kind: 'unavailable', httpStatus: 302, retryable: false });
    expect(error.message).toContain('redirect');
    expect(server.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
    expect(sleeps).toEqual([]);
  });

  it('times out a silent server and retries reads', async () => {
    const server = await serve(() => 'hang');
    const { client, sleeps } = clientFor(server, { timeoutMs: 150, maxRetries: 1 });

    const started = Date.now();
    const error = await failureOf(client.getRequest('1'));

    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(server.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('retries refused connections, for reads and writes alike', async () => {
    const closed = await serve(() => ({ status: 200 }));
    await closed.close();
    servers = servers.filter((s) => s !== closed);
    const { client, sleeps } = clientFor(closed, { maxRetries: 2 });

    const readError = await failureOf(client.getRequest('1'));
    const writeError = await failureOf(client.addNote('1', { descriptionHtml: 'x' }));

    expect(readError).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(readError.message).toContain('ECONNREFUSED');
    expect(writeError.kind).toBe('unavailable');
    expect(sleeps).toHaveLength(4);
  });

  describe('writes', () => {
    const noteReply = {
      status: 200,
      body: {
        request_note: { id: '9', description: 'x', created_time: { value: '1' } },
        response_status: ok,
      },
    };

    it('are not repeated after a 500 or a timeout, where the note may already exist', async () => {
      const failing = await serve(() => sdpFailure(500, 4004, 'Internal error'));
      const hanging = await serve(() => 'hang');
      const a = clientFor(failing);
      const b = clientFor(hanging, { timeoutMs: 100 });

      const e1 = await failureOf(a.client.addNote('1', { descriptionHtml: 'x' }));
      const e2 = await failureOf(b.client.addNote('1', { descriptionHtml: 'x' }));

      // Still retryable: the caller may check for its note and post again.
      expect(e1).toMatchObject({ kind: 'unavailable', retryable: true });
      expect(e2).toMatchObject({ kind: 'timeout', retryable: true });
      expect(failing.requests).toHaveLength(1);
      expect(hanging.requests).toHaveLength(1);
    });

    it('are repeated after 429 and 503, which reject before processing', async () => {
      const server = await serve((_, i) =>
        i === 0
          ? sdpFailure(429, 4015, 'API rate limit reached')
          : i === 1
            ? { status: 503, body: 'maintenance' }
            : noteReply,
      );
      const { client, sleeps } = clientFor(server);

      const note = await client.addNote('1', { descriptionHtml: 'x' });

      expect(note.id).toBe('9');
      expect(server.requests).toHaveLength(3);
      expect(sleeps).toHaveLength(2);
    });
  });

  it('retries a note once with the other wrapper key on a 4000-series error and remembers it', async () => {
    const server = await serve((req) =>
      'request_note' in (inputDataOf(req) as object)
        ? sdpFailure(400, 4000, 'EXTRA_KEY_FOUND_IN_JSON')
        : {
            status: 200,
            body: {
              note: { id: '11', description: 'x', added_time: { value: '5' } },
              response_status: ok,
            },
          },
    );
    const { client } = clientFor(server);
    expect(client.noteWrapperKey).toBe('request_note');

    await client.addNote('1', { descriptionHtml: 'first' });
    await client.addNote('1', { descriptionHtml: 'second' });

    expect(server.requests.map((r) => Object.keys(inputDataOf(r) as object)[0])).toEqual([
      'request_note',
      'note',
      'note',
    ]);
    expect(client.noteWrapperKey).toBe('note');
  });

  it('reports the first error when both note keys are rejected, and does not switch on 404', async () => {
    const rejecting = await serve((req) =>
      'request_note' in (inputDataOf(req) as object)
        ? sdpFailure(400, 4012, 'Value for mandatory field is missing', ['description'])
        : sdpFailure(400, 4000, 'EXTRA_KEY_FOUND_IN_JSON'),
    );
    const missing = await serve(() => sdpFailure(404, 4007, 'Request not found'));
    const a = clientFor(rejecting);
    const b = clientFor(missing);

    const e1 = await failureOf(a.client.addNote('1', { descriptionHtml: 'x' }));
    const e2 = await failureOf(b.client.addNote('1', { descriptionHtml: 'x' }));

    expect(e1.sdpStatusCode).toBe(4012);
    expect(rejecting.requests).toHaveLength(2);
    expect(a.client.noteWrapperKey).toBe('request_note');
    expect(e2.kind).toBe('not_found');
    expect(missing.requests).toHaveLength(1);
  });

  it('awaits beforeConnect before every request and stops when it rejects', async () => {
    const server = await serve(() => ({ status: 200, body: { request: request('1') } }));
    const seen: string[] = [];
    const allowed = clientFor(server, {
      beforeConnect: (url) => {
        seen.push(url.href);
        return Promise.resolve();
      },
    });
    const guardError = new Error('blocked: private address');
    const blocked = clientFor(server, { beforeConnect: () => Promise.reject(guardError) });

    await allowed.client.getRequest('1');
    await allowed.client.getRequest('2');
    const error = await failureOf(blocked.client.getRequest('3'));

    expect(seen).toEqual([`${server.url}/api/v3/requests/1`, `${server.url}/api/v3/requests/2`]);
    expect(error).toMatchObject({ kind: 'unavailable', retryable: false });
    expect(error.cause).toBe(guardError);
    expect(server.requests).toHaveLength(2);
    expect(blocked.sleeps).toEqual([]);
  });
});

describe('ServiceDeskClient paging', () => {
  const all = ['1', '2', '3', '4', '5'].map((id) => request(id));

  it('iterates by adding the page size to start_index until has_more_rows is false', async () => {
    const server = await serve((req) => {
      const info = (inputDataOf(req) as { list_info: { start_index: number; row_count: number } })
        .list_info;
      const rows = all.slice(info.start_index - 1, info.start_index - 1 + info.row_count);
      return {
        status: 200,
        body: {
          requests: rows,
          list_info: {
            has_more_rows: info.start_index - 1 + rows.length < all.length,
            start_index: info.start_index,
            row_count: rows.length,
          },
          response_status: [ok],
        },
      };
    });
    const { client } = clientFor(server);

    const ids: string[] = [];
    for await (const r of client.iterateRequests({
      ...backfillResolvedRequestsQuery(),
      rowCount: 2,
    })) {
      ids.push(r.id);
    }

    expect(ids).toEqual(['1', '2', '3', '4', '5']);
    expect(
      server.requests.map(
        (r) => (inputDataOf(r) as { list_info: { start_index: number } }).list_info.start_index,
      ),
    ).toEqual([1, 3, 5]);
  });

  it('refuses to loop forever on an empty page that claims more rows', async () => {
    const server = await serve(() => ({
      status: 200,
      body: { requests: [], list_info: { has_more_rows: true }, response_status: [ok] },
    }));
    const { client } = clientFor(server);

    const iterate = async () => {
      for await (const r of client.iterateRequests()) void r;
    };

    expect((await failureOf(iterate())).kind).toBe('unexpected_response');
    expect(server.requests).toHaveLength(1);
  });
});

describe('ServiceDeskClient OAuth (Cloud)', () => {
  interface OAuthHarness {
    accounts: AdHocServer;
    api: AdHocServer;
    client: ServiceDeskClient;
    clock: { now: number };
    /** Every URL passed to beforeConnect, in order. */
    connected: string[];
  }

  async function oauthHarness(
    accountsResponder: Responder,
    apiResponder: Responder,
  ): Promise<OAuthHarness> {
    const accounts = await serve(accountsResponder);
    const api = await serve(apiResponder);
    const clock = { now: Date.parse('2025-01-01T00:00:00Z') };
    const connected: string[] = [];
    const { client } = clientFor(api, {
      now: () => clock.now,
      beforeConnect: (url) => {
        connected.push(url.href);
        return Promise.resolve();
      },
      auth: {
        kind: 'oauth',
        accountsUrl: `${accounts.url}/`,
        clientId: '1000.CLIENT',
        clientSecret: CLIENT_SECRET,
        refreshToken: REFRESH_TOKEN,
      },
    });
    return { accounts, api, client, clock, connected };
  }

  let issued = 0;
  const tokens: Responder = () => ({
    status: 200,
    body: {
      access_token: `access-token-${++issued}`,
      api_domain: 'https://www.zohoapis.com',
      token_type: 'Bearer',
      expires_in: 3600,
    },
  });
  const okRequest: Responder = () => ({
    status: 200,
    body: { request: request('1'), response_status: ok },
  });

  beforeEach(() => {
    issued = 0;
  });

  it('exchanges the refresh token once and reuses the access token until shortly before expiry', async () => {
    const h = await oauthHarness(tokens, okRequest);

    await Promise.all([
      h.client.getRequest('1'),
      h.client.getRequest('2'),
      h.client.getRequest('3'),
    ]);
    h.clock.now += 3_500_000; // still more than a minute left
    await h.client.getRequest('4');
    h.clock.now += 60_000; // inside the last minute: refresh first
    await h.client.getRequest('5');

    // The SSRF hook guards the accounts server as well as the API.
    expect(h.connected.filter((u) => u.endsWith('/oauth/v2/token'))).toEqual([
      `${h.accounts.url}/oauth/v2/token`,
      `${h.accounts.url}/oauth/v2/token`,
    ]);
    expect(h.connected).toHaveLength(7);

    expect(h.accounts.requests).toHaveLength(2);
    const [tokenCall] = h.accounts.requests;
    expect(tokenCall.method).toBe('POST');
    expect(tokenCall.url.pathname).toBe('/oauth/v2/token');
    expect(tokenCall.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(tokenCall.body))).toEqual({
      grant_type: 'refresh_token',
      client_id: '1000.CLIENT',
      client_secret: CLIENT_SECRET,
      refresh_token: REFRESH_TOKEN,
    });
    expect(h.api.requests.map((r) => r.headers['authorization'])).toEqual([
      'Zoho-oauthtoken access-token-1',
      'Zoho-oauthtoken access-token-1',
      'Zoho-oauthtoken access-token-1',
      'Zoho-oauthtoken access-token-1',
      'Zoho-oauthtoken access-token-2',
    ]);
  });

  it('on HTTP 401 refreshes once and retries once', async () => {
    const h = await oauthHarness(tokens, (req) =>
      req.headers['authorization'] === 'Zoho-oauthtoken access-token-1'
        ? sdpFailure(401, 4022, 'Invalid OAuth token')
        : { status: 200, body: { request: request('1'), response_status: ok } },
    );

    const result = await h.client.getRequest('1');

    expect(result.id).toBe('1');
    expect(h.accounts.requests).toHaveLength(2);
    expect(h.api.requests).toHaveLength(2);
  });

  it('gives up with an auth error when the refreshed token is refused too', async () => {
    const h = await oauthHarness(tokens, () => sdpFailure(401, 4022, 'Invalid OAuth token'));

    const error = await failureOf(h.client.getRequest('1'));

    expect(error).toMatchObject({ kind: 'auth', httpStatus: 401, sdpStatusCode: 4022 });
    expect(h.accounts.requests).toHaveLength(2);
    expect(h.api.requests).toHaveLength(2);
    expect(error.message).not.toContain('access-token');
  });

  it('treats {"error":"invalid_code"} with HTTP 200 as an auth error and calls no API', async () => {
    const h = await oauthHarness(
      () => ({ status: 200, body: { error: 'invalid_code' } }),
      okRequest,
    );

    const error = await failureOf(h.client.getRequest('1'));

    expect(error).toMatchObject({ kind: 'auth', retryable: false, httpStatus: 200 });
    expect(error.message).toContain('invalid_code');
    expect(error.message).not.toContain(CLIENT_SECRET);
    expect(error.message).not.toContain(REFRESH_TOKEN);
    expect(h.accounts.requests).toHaveLength(1);
    expect(h.api.requests).toHaveLength(0);
  });

  it('retries a write after a failed token refresh, since nothing reached SDP', async () => {
    let calls = 0;
    const h = await oauthHarness(
      (...args) => (++calls === 1 ? { status: 502, body: 'bad gateway' } : tokens(...args)),
      () => ({
        status: 200,
        body: {
          request_note: { id: '1', description: 'x', created_time: { value: '1' } },
          response_status: ok,
        },
      }),
    );

    const note = await h.client.addNote('1', { descriptionHtml: 'x' });

    expect(note.id).toBe('1');
    expect(h.accounts.requests).toHaveLength(2);
    expect(h.api.requests).toHaveLength(1);
  });
});

describe('ServiceDeskClient secrets', () => {
  it('never puts the API key into error messages', async () => {
    const echo = await serve((req) => ({
      status: 500,
      body: `upstream echoed ${String(req.headers['authtoken'])}`,
    }));
    const { client } = clientFor(echo, { maxRetries: 0 });

    const error = await failureOf(client.getRequest('1'));

    expect(error.kind).toBe('unavailable');
    expect(error.message).not.toContain(API_KEY);
    expect(String(error.stack)).not.toContain(API_KEY);
  });

  it('rejects bad options before any request', () => {
    const base = { auth: { kind: 'authtoken' as const, apiKey: API_KEY } };
    expect(() => new ServiceDeskClient({ ...base, baseUrl: 'ftp://x' })).toThrow(TypeError);
    expect(() => new ServiceDeskClient({ ...base, baseUrl: 'https://u:p@x' })).toThrow(
      /credentials/,
    );
    expect(
      () => new ServiceDeskClient({ ...base, baseUrl: 'https://x', timeoutMs: 30_001 }),
    ).toThrow(RangeError);
    expect(() => new ServiceDeskClient({ ...base, baseUrl: 'https://x', portal: '../x' })).toThrow(
      TypeError,
    );
    expect(
      () =>
        new ServiceDeskClient({
          baseUrl: 'https://x',
          auth: { kind: 'authtoken', apiKey: 'a\r\nb' },
        }),
    ).toThrow(TypeError);
  });
});

describe('ServiceDeskClient against a reply larger than any SDP reply', () => {
  it('stops reading and reports unexpected_response', async () => {
    const server = createServer((_, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 6; i++) res.write(chunk);
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const { client } = clientFor({ url: `http://127.0.0.1:${port}` });
      const error = await failureOf(client.getRequest('1'));
      expect(error.kind).toBe('unexpected_response');
      expect(error.message).toContain('larger than');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('ServiceDeskClient OAuth: Zoho throttling, shared tokens, data centres', () => {
  const tokenReply = (token: string, apiDomain?: string): ReturnType<Responder> => ({
    status: 200,
    body: {
      access_token: token,
      ...(apiDomain ? { api_domain: apiDomain } : {}),
      token_type: 'Bearer',
      expires_in: 3600,
    },
  });
  const okRequest: Responder = () => ({
    status: 200,
    body: { request: request('1'), response_status: ok },
  });

  function cloudClient(
    accounts: AdHocServer,
    api: { url: string },
    overrides: Partial<ServiceDeskClientOptions> = {},
  ) {
    return clientFor(api, {
      auth: {
        kind: 'oauth',
        accountsUrl: accounts.url,
        clientId: '1000.CLIENT',
        clientSecret: CLIENT_SECRET,
        refreshToken: REFRESH_TOKEN,
      },
      ...overrides,
    });
  }

  it('reports "too many requests" as a rate limit, asks Zoho nothing more until it cooled down', async () => {
    let throttled = true;
    let n = 0;
    const accounts = await serve(() =>
      throttled
        ? {
            status: 400,
            body: {
              error: 'Access Denied',
              error_description:
                'You have made too many requests continuously. Please try again after some time.',
            },
          }
        : tokenReply(`token-${++n}`),
    );
    const api = await serve(okRequest);
    const clock = { now: 1_000_000 };
    const { client, sleeps } = cloudClient(accounts, api, { now: () => clock.now });

    const first = await failureOf(client.addNote('1', { descriptionHtml: 'x' }));
    expect(first).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: 30_000 });
    expect(first.message).toContain('too many requests');
    // Handed back to the caller at once: no worker slot sleeps on Zoho's throttle.
    expect(sleeps).toEqual([]);

    clock.now += 10_000;
    const second = await failureOf(client.getRequest('1'));
    expect(second).toMatchObject({ kind: 'rate_limited', retryAfterMs: 20_000 });
    expect(accounts.requests).toHaveLength(1);

    throttled = false;
    clock.now += 20_000;
    await client.getRequest('1');
    expect(accounts.requests).toHaveLength(2);
  });

  it('files only a refresh token Zoho declares invalid as bad credentials', async () => {
    for (const [error, kind] of [
      ['invalid_code', 'auth'],
      ['invalid_client', 'auth'],
      ['Access Denied', 'unavailable'],
      ['general_error', 'unavailable'],
    ] as const) {
      const accounts = await serve(() => ({ status: 200, body: { error } }));
      const api = await serve(okRequest);
      const { client } = cloudClient(accounts, api, { maxRetries: 0 });
      expect(await failureOf(client.getRequest('1'))).toMatchObject({ kind });
    }
  });

  it('lets every client sharing a token store mint once', async () => {
    let n = 0;
    const accounts = await serve(() => tokenReply(`token-${++n}`));
    const api = await serve(okRequest);
    const tokenStore = new MemoryAccessTokenStore();
    const replicas = [1, 2, 3].map(() => cloudClient(accounts, api, { tokenStore }));
    await Promise.all(
      replicas.flatMap(({ client }) => [client.getRequest('1'), client.getRequest('2')]),
    );
    expect(accounts.requests).toHaveLength(1);
    expect(new Set(api.requests.map((r) => r.headers['authorization']))).toEqual(
      new Set(['Zoho-oauthtoken token-1']),
    );
  });

  it('follows api_domain to an SDP Cloud data centre host, and ignores any other host', async () => {
    for (const [apiDomain, expected] of [
      [
        'https://sdpondemand.manageengine.eu',
        'https://sdpondemand.manageengine.eu/app/itdesk/api/v3/requests/1',
      ],
      ['https://evil.example', undefined],
      ['https://www.zohoapis.com', undefined],
    ] as const) {
      const accounts = await serve(() => tokenReply('t', apiDomain));
      const api = await serve(okRequest);
      const connected: string[] = [];
      const { client } = cloudClient(accounts, api, {
        portal: 'itdesk',
        maxRetries: 0,
        beforeConnect: (url) => {
          connected.push(url.href);
          // Stand-in for the network: only loopback is reachable here.
          return url.hostname === '127.0.0.1'
            ? Promise.resolve()
            : Promise.reject(new Error('offline'));
        },
      });
      await client.getRequest('1').catch(() => undefined);
      const apiCall = connected.find((u) => u.includes('/requests/1'));
      expect(apiCall).toBe(expected ?? `${api.url}/app/itdesk/api/v3/requests/1`);
    }
  });
});

describe('Zoho accounts allow-list', () => {
  it('accepts the data centres’ accounts servers and nothing else', () => {
    for (const dc of Object.keys(ZOHO_DATA_CENTRES) as (keyof typeof ZOHO_DATA_CENTRES)[]) {
      expect(zohoAccountsUrlProblem(zohoAccountsUrl(dc), false)).toBeUndefined();
    }
    expect(zohoAccountsUrlProblem('https://accounts.zoho.eu/', false)).toBeUndefined();
    expect(zohoAccountsUrlProblem('http://accounts.zoho.com', false)).toMatch(/https/);
    expect(zohoAccountsUrlProblem('https://accounts.zoho.com.evil.example', false)).toMatch(
      /Zoho accounts server/,
    );
    expect(zohoAccountsUrlProblem('https://accounts.zoho.com/oauth', false)).toMatch(/path/);
    expect(zohoAccountsUrlProblem('https://u:p@accounts.zoho.com', false)).toMatch(/credentials/);
    expect(zohoAccountsUrlProblem('http://127.0.0.1:8090', false)).toBeDefined();
    // Development: the loopback SDP simulator stands in for Zoho.
    expect(zohoAccountsUrlProblem('http://127.0.0.1:8090', true)).toBeUndefined();
    expect(zohoAccountsUrl('eu')).toBe('https://accounts.zoho.eu');
    expect(zohoAccountsUrl('cn')).toBe('https://accounts.zoho.com.cn');
  });
});
