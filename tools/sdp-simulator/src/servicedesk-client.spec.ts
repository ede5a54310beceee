// The production client against the simulator: both must agree on the
// protocol in docs/servicedesk-plus-api.md. (It lives here because a tool may
// depend on a library, not the other way round.)
import {
  ServiceDeskClient,
  ServiceDeskError,
  backfillResolvedRequestsQuery,
  type ServiceDeskClientOptions,
} from '@tep/servicedesk-client';
import { DEMO_SEED } from './demo-data';
import { DEV_API_KEY, startSdpSimulator, type SdpSimulator } from './server';

let sim: SdpSimulator;

afterEach(async () => {
  await sim.close();
});

function clientFor(overrides: Partial<ServiceDeskClientOptions> = {}) {
  const sleeps: number[] = [];
  const client = new ServiceDeskClient({
    baseUrl: sim.url,
    auth: { kind: 'authtoken', apiKey: DEV_API_KEY },
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...overrides,
  });
  return { client, sleeps };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('client against the on-premises simulator', () => {
  beforeEach(async () => {
    sim = await startSdpSimulator({ mode: 'onprem', seed: DEMO_SEED });
  });

  it('reads the runbook ticket', async () => {
    const { client } = clientFor();

    const ticket = await client.getRequest('TKT-12345');

    expect(ticket).toMatchObject({
      id: '1',
      displayId: 'TKT-12345',
      subject: 'Database connection timeout error',
      status: { name: 'Open' },
      priority: { name: 'High' },
      requester: { email: 'user@acmecorp.com' },
      createdTime: '2025-11-03T10:30:00.000Z',
      hasNotes: false,
    });
  });

  it('back-fills resolved and closed tickets oldest first across pages', async () => {
    const { client } = clientFor();

    const all = await collect(
      client.iterateRequests({ ...backfillResolvedRequestsQuery(), rowCount: 2 }),
    );
    const september = await collect(
      client.iterateRequests(
        backfillResolvedRequestsQuery({
          createdBetween: {
            fromMs: Date.parse('2025-09-01T00:00:00Z'),
            toMs: Date.parse('2025-09-30T23:59:59Z'),
          },
        }),
      ),
    );

    expect(all.map((r) => r.displayId)).toEqual([
      'TKT-10203',
      'TKT-10877',
      'TKT-11002',
      'TKT-11210',
      'TKT-11405',
    ]);
    expect(all.every((r) => r.resolutionHtml && r.resolvedTime)).toBe(true);
    expect(september.map((r) => r.displayId)).toEqual(['TKT-10877', 'TKT-11002', 'TKT-11210']);
    expect(sim.control.calls().byRoute['GET /requests']).toEqual({ '200': 4 });
  });

  it('posts a note, learning the on-premises "note" key, and lists it', async () => {
    const { client } = clientFor(); // default key request_note is wrong for on-premises

    const first = await client.addNote('TKT-12345', {
      descriptionHtml: '<p>Likely pool exhaustion</p>',
    });
    const second = await client.addNote('TKT-12345', { descriptionHtml: '<p>Follow-up</p>' });
    const notes = await client.listNotes('TKT-12345');

    expect(client.noteWrapperKey).toBe('note');
    expect(first).toMatchObject({
      descriptionHtml: '<p>Likely pool exhaustion</p>',
      showToRequester: false,
    });
    expect(first.createdTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(notes.map((n) => n.id)).toEqual([first.id, second.id]);
    expect(sim.control.calls().byRoute['POST /requests/{id}/notes']).toEqual({
      '400': 1,
      '200': 2,
    });
    expect(sim.control.notes().filter((n) => n.request_display_id === 'TKT-12345')).toHaveLength(2);
    expect((await client.getRequest('TKT-12345')).hasNotes).toBe(true);
  });

  it('edits a note in place: same id, new text, nothing added', async () => {
    const { client } = clientFor();
    const posted = await client.addNote('TKT-12345', { descriptionHtml: '<p>First take</p>' });
    const edited = await client.editNote('TKT-12345', posted.id, {
      descriptionHtml: '<p>Refreshed take</p>',
    });
    const notes = await client.listNotes('TKT-12345');

    expect(edited).toMatchObject({ id: posted.id, descriptionHtml: '<p>Refreshed take</p>' });
    expect(notes.map((n) => [n.id, n.descriptionHtml])).toEqual([
      [posted.id, '<p>Refreshed take</p>'],
    ]);
    expect(sim.control.calls().byRoute['PUT /requests/{id}/notes/{note_id}']).toEqual({ '200': 1 });
    await expect(
      client.editNote('TKT-12345', '999999', { descriptionHtml: '<p>x</p>' }),
    ).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('reads solutions, approved only, and a resolution', async () => {
    const { client } = clientFor();

    const all = await collect(client.iterateSolutions({ rowCount: 2 }));
    const approved = await client.listSolutions({ approvedOnly: true, getTotalCount: true });
    const resolution = await client.getRequestResolution('TKT-10203');
    const none = await client.getRequestResolution('TKT-12345');

    expect(all).toHaveLength(5);
    expect(approved.totalCount).toBe(4);
    expect(approved.solutions.every((s) => s.approvalStatus === 'Approved')).toBe(true);
    expect(approved.solutions.map((s) => s.title)).toContain(
      'Resolving PostgreSQL connection pool exhaustion',
    );
    expect(resolution?.contentHtml).toContain('Connection pool was exhausted');
    expect(none).toBeNull();
  });

  it('retries injected 500s and 429s and succeeds on the next call', async () => {
    const { client, sleeps } = clientFor({ random: () => 0 });
    sim.control.fail({ mode: '500', count: 2 });

    const afterErrors = await client.getRequest('1');
    sim.control.fail({ mode: '429', count: 1, retryAfterSeconds: 3 });
    const afterLimit = await client.addNote('1', { descriptionHtml: 'x' });

    expect(afterErrors.id).toBe('1');
    expect(afterLimit.id).toBeDefined();
    expect(sleeps).toEqual([250, 500, 3000]);
    expect(sim.control.calls().byRoute['GET /requests/{id}']).toEqual({ '500': 2, '200': 1 });
  });

  it('gives up after maxRetries when failures outlast them', async () => {
    const { client, sleeps } = clientFor({ maxRetries: 2 });
    sim.control.fail({ mode: '500', count: 5 });

    const error = await client.getRequest('1').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ServiceDeskError);
    expect(error).toMatchObject({ kind: 'unavailable', sdpStatusCode: 4004 });
    expect(sleeps).toHaveLength(2);
    expect(sim.control.calls().byRoute['GET /requests/{id}']).toEqual({ '500': 3 });
  });

  it('times out a held call and succeeds on the retry', async () => {
    const { client } = clientFor({ timeoutMs: 200 });
    sim.control.fail({ mode: 'timeout', count: 1 });

    const ticket = await client.getRequest('TKT-12345');
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(ticket.displayId).toBe('TKT-12345');
    expect(sim.control.calls().byRoute['GET /requests/{id}']).toEqual({ aborted: 1, '200': 1 });
  });

  it('maps simulator errors to error kinds', async () => {
    const wrongKey = clientFor({ auth: { kind: 'authtoken', apiKey: 'wrong' } }).client;
    const { client } = clientFor();

    const errors = await Promise.all([
      wrongKey.getRequest('1').catch((e: unknown) => e),
      client.getRequest('404404').catch((e: unknown) => e),
    ]);

    expect(errors).toMatchObject([
      { kind: 'auth', httpStatus: 401, sdpStatusCode: 4022 },
      { kind: 'not_found', httpStatus: 404, sdpStatusCode: 4007 },
    ]);
  });

  it('works under /app/<portal>/api/v3 with the TECHNICIAN_KEY header', async () => {
    const { client } = clientFor({
      portal: 'itdesk',
      auth: { kind: 'authtoken', apiKey: DEV_API_KEY, header: 'TECHNICIAN_KEY' },
    });

    expect((await client.getRequest('TKT-12345')).id).toBe('1');
  });
});

describe('client against the cloud simulator', () => {
  beforeEach(async () => {
    sim = await startSdpSimulator({ mode: 'cloud', seed: DEMO_SEED });
  });

  function cloudClient() {
    const oauth = sim.credentials.oauth!;
    return clientFor({
      auth: {
        kind: 'oauth',
        accountsUrl: oauth.accountsUrl,
        clientId: oauth.clientId,
        clientSecret: oauth.clientSecret,
        refreshToken: oauth.refreshToken,
      },
    }).client;
  }

  it('authenticates with a refreshed access token and posts a request_note directly', async () => {
    const client = cloudClient();

    const ticket = await client.getRequest('TKT-12345');
    const note = await client.addNote(ticket.id, { descriptionHtml: '<p>Cloud note</p>' });

    expect(ticket.id).toMatch(/^\d{18}$/);
    expect(note.createdTime).not.toBeNull();
    expect(client.noteWrapperKey).toBe('request_note');
    expect(sim.control.calls().byRoute).toMatchObject({
      'POST /oauth/v2/token': { '200': 1 },
      'POST /requests/{id}/notes': { '200': 1 },
    });
  });

  it('refreshes once after the access token expires', async () => {
    const client = cloudClient();
    await client.getRequest('TKT-12345');
    sim.control.expireTokens();

    const again = await client.getRequest('TKT-12345');

    expect(again.displayId).toBe('TKT-12345');
    expect(sim.control.calls().byRoute).toMatchObject({
      'POST /oauth/v2/token': { '200': 2 },
      'GET /requests/{id}': { '200': 2, '401': 1 },
    });
  });

  it('reports a revoked refresh token as an auth error', async () => {
    const oauth = sim.credentials.oauth!;
    const client = clientFor({
      auth: {
        kind: 'oauth',
        accountsUrl: oauth.accountsUrl,
        clientId: oauth.clientId,
        clientSecret: oauth.clientSecret,
        refreshToken: 'revoked',
      },
    }).client;

    const error = await client.getRequest('1').catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'auth', retryable: false });
    expect((error as Error).message).toContain('invalid_code');
    expect(sim.control.calls().byRoute['GET /requests/{id}']).toBeUndefined();
  });
});
