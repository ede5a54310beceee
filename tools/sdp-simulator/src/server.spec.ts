import { DEMO_SEED } from './demo-data';
import {
  DEV_API_KEY,
  startSdpSimulator,
  type SdpSimulator,
  type SdpSimulatorOptions,
} from './server';

const ACCEPT = 'application/vnd.manageengine.sdp.v3+json';

let sim: SdpSimulator;

async function start(options: SdpSimulatorOptions = {}): Promise<SdpSimulator> {
  sim = await startSdpSimulator({ seed: DEMO_SEED, ...options });
  return sim;
}

afterEach(async () => {
  await sim?.close();
});

async function call(
  method: string,
  path: string,
  options: { inputData?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
) {
  const url = new URL(path, sim.url);
  const headers: Record<string, string> = {
    Accept: ACCEPT,
    authtoken: DEV_API_KEY,
    ...options.headers,
  };
  let body: string | undefined = options.rawBody;
  if (options.inputData !== undefined) {
    const encoded = new URLSearchParams({ input_data: JSON.stringify(options.inputData) });
    if (method === 'GET') url.search = encoded.toString();
    else {
      body = encoded.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
  }
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

const listInfo = (info: object) => ({ list_info: info });

// Typed views on reply bodies for the assertions below.
type Row = { display_id: string };
const displayIds = (rows: Row[]) => rows.map((r) => r.display_id);
const descriptions = (rows: Array<{ description: string }>) => rows.map((r) => r.description);
const messageCode = (body: { response_status: { messages: Array<{ status_code: number }> } }) =>
  body.response_status.messages[0]?.status_code;

describe('envelopes', () => {
  it('answers a single request with response_status as an object and lists with an array', async () => {
    await start();

    const single = await call('GET', '/api/v3/requests/1');
    const list = await call('GET', '/api/v3/requests', { inputData: listInfo({ row_count: 2 }) });

    expect(single.status).toBe(200);
    expect(single.body.response_status).toEqual({ status_code: 2000, status: 'success' });
    expect(single.body.request).toMatchObject({
      id: '1',
      display_id: 'TKT-12345',
      subject: 'Database connection timeout error',
      status: { name: 'Open' },
      requester: { email_id: 'user@acmecorp.com' },
      created_time: {
        value: String(Date.parse('2025-11-03T10:30:00Z')),
        display_value: 'Nov 3, 2025 10:30 AM',
      },
      has_notes: false,
    });
    expect(list.body.response_status).toEqual([{ status_code: 2000, status: 'success' }]);
    expect(list.body.requests).toHaveLength(2);
    expect(list.body.list_info).toEqual({
      has_more_rows: true,
      start_index: 1,
      row_count: 2,
      sort_field: 'created_time',
      sort_order: 'desc',
    });
  });

  it('resolves the runbook ticket by display id as well as by id', async () => {
    await start();

    const byDisplay = await call('GET', '/api/v3/requests/TKT-12345');

    expect(byDisplay.status).toBe(200);
    expect(byDisplay.body.request.id).toBe('1');
  });

  it('answers an unknown id with 404 / 4007 and an unknown path with 404 / 4007', async () => {
    await start();

    const missing = await call('GET', '/api/v3/requests/999');
    const unknown = await call('GET', '/api/v3/nothing-here');

    for (const reply of [missing, unknown]) {
      expect(reply.status).toBe(404);
      expect(reply.body.response_status.status).toBe('failed');
      expect(reply.body.response_status.messages[0].status_code).toBe(4007);
    }
  });

  it('serves the same API under /app/<portal>/api/v3 and can restrict portals', async () => {
    await start({ portals: ['itdesk'] });

    const known = await call('GET', '/app/itdesk/api/v3/requests/TKT-12345');
    const other = await call('GET', '/app/hr/api/v3/requests/TKT-12345');

    expect(known.status).toBe(200);
    expect(other.status).toBe(404);
  });
});

describe('authentication (on-premises)', () => {
  it('refuses a missing or wrong key with 401 / 4022 and accepts TECHNICIAN_KEY', async () => {
    await start({ apiKeys: ['key-a', 'key-b'] });

    const missing = await call('GET', '/api/v3/requests/1', { headers: { authtoken: '' } });
    const wrong = await call('GET', '/api/v3/requests/1', { headers: { authtoken: DEV_API_KEY } });
    const legacy = await call('GET', '/api/v3/requests/1', {
      headers: { authtoken: '', TECHNICIAN_KEY: 'key-b' },
    });

    for (const reply of [missing, wrong]) {
      expect(reply.status).toBe(401);
      expect(reply.body.response_status.messages[0]).toMatchObject({
        status_code: 4022,
        type: 'failed',
      });
    }
    expect(legacy.status).toBe(200);
  });
});

describe('input_data', () => {
  it('creates a request from a form field and refuses one without subject (400 / 4012 with fields)', async () => {
    await start();

    const created = await call('POST', '/api/v3/requests', {
      inputData: {
        request: {
          subject: 'Outlook keeps asking for a password',
          description: '<p>Since this morning</p>',
          requester: { email_id: 'someone@acmecorp.com', name: 'Some One' },
          priority: { name: 'High' },
        },
      },
    });
    const noSubject = await call('POST', '/api/v3/requests', {
      inputData: { request: { description: 'x' } },
    });

    expect(created.status).toBe(200);
    expect(created.body.request).toMatchObject({
      subject: 'Outlook keeps asking for a password',
      status: { name: 'Open' },
      priority: { name: 'High' },
      requester: { name: 'Some One', email_id: 'someone@acmecorp.com' },
    });
    expect((await call('GET', `/api/v3/requests/${created.body.request.id}`)).status).toBe(200);
    expect(noSubject.status).toBe(400);
    expect(noSubject.body.response_status.messages[0]).toMatchObject({
      status_code: 4012,
      fields: ['subject'],
    });
  });

  it('refuses a raw JSON body, unknown keys, unknown statuses and read-only fields', async () => {
    await start();

    const rawJson = await call('POST', '/api/v3/requests', {
      rawBody: JSON.stringify({ request: { subject: 'x' } }),
      headers: { 'Content-Type': 'application/json' },
    });
    const extraKey = await call('POST', '/api/v3/requests', {
      inputData: { request: { subject: 'x', colour: 'red' } },
    });
    const badStatus = await call('PUT', '/api/v3/requests/1', {
      inputData: { request: { status: { name: 'Sleeping' } } },
    });
    const readOnly = await call('PUT', '/api/v3/requests/1', {
      inputData: { request: { id: '77' } },
    });

    expect([rawJson, extraKey, badStatus, readOnly].map((r) => r.status)).toEqual([
      400, 400, 400, 400,
    ]);
    expect([rawJson, extraKey, badStatus, readOnly].map((r) => messageCode(r.body))).toEqual([
      4000, 4000, 4001, 4014,
    ]);
    expect(sim.state.request('1')).toMatchObject({ id: '1', status: { name: 'Open' } });
  });

  it('updates a request with PUT and sets resolved_time when it is resolved', async () => {
    await start();

    const updated = await call('PUT', '/api/v3/requests/TKT-12345', {
      inputData: {
        request: { status: { name: 'Resolved' }, resolution: { content: '<p>Pool raised</p>' } },
      },
    });
    const resolution = await call('GET', '/api/v3/requests/1/resolutions');

    expect(updated.body.request.status.name).toBe('Resolved');
    expect(updated.body.request.resolved_time.value).toMatch(/^\d+$/);
    expect(resolution.body.resolution.content).toBe('<p>Pool raised</p>');
  });

  it('adds a resolution with POST and requires its content', async () => {
    await start();

    const added = await call('POST', '/api/v3/requests/1/resolutions', {
      inputData: { resolution: { content: '<p>Restarted</p>' } },
    });
    const empty = await call('POST', '/api/v3/requests/1/resolutions', {
      inputData: { resolution: {} },
    });

    expect(added.status).toBe(200);
    expect(added.body.resolution.content).toBe('<p>Restarted</p>');
    expect(empty.status).toBe(400);
    expect(empty.body.response_status.messages[0]).toMatchObject({
      status_code: 4012,
      fields: ['content'],
    });
  });
});

describe('notes by mode', () => {
  it('on-premises takes and returns the "note" wrapper with added_time/added_by', async () => {
    await start({ mode: 'onprem' });

    const added = await call('POST', '/api/v3/requests/TKT-12345/notes', {
      inputData: { note: { description: '<p>AI enhancement</p>', show_to_requester: false } },
    });
    const wrongKey = await call('POST', '/api/v3/requests/TKT-12345/notes', {
      inputData: { request_note: { description: 'x' } },
    });
    const fetched = await call('GET', `/api/v3/requests/1/notes/${added.body.note.id}`);
    const list = await call('GET', '/api/v3/requests/1/notes');

    expect(added.status).toBe(200);
    expect(added.body.note).toMatchObject({
      description: '<p>AI enhancement</p>',
      added_by: { name: 'API Technician' },
      request: { id: '1', display_id: 'TKT-12345' },
    });
    expect(added.body.note.added_time.value).toMatch(/^\d+$/);
    expect(added.body.note.created_time).toBeUndefined();
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.body.response_status.messages[0]).toMatchObject({
      status_code: 4000,
      field: 'request_note',
    });
    expect(fetched.body.note.id).toBe(added.body.note.id);
    expect(descriptions(list.body.notes)).toEqual(['<p>AI enhancement</p>']);
    expect(list.body.response_status).toEqual([{ status_code: 2000, status: 'success' }]);
    expect(sim.state.request('1')?.['has_notes']).toBe(true);
  });

  it('requires a description (4012)', async () => {
    await start();

    const reply = await call('POST', '/api/v3/requests/1/notes', { inputData: { note: {} } });

    expect(reply.status).toBe(400);
    expect(reply.body.response_status.messages[0]).toMatchObject({
      status_code: 4012,
      fields: ['description'],
    });
    expect(sim.control.notes()).toHaveLength(1); // only the seeded note on TKT-11405
  });
});

describe('search_criteria and paging', () => {
  const resolvedQuery = (start_index: number, row_count: number) =>
    listInfo({
      row_count,
      start_index,
      sort_field: 'created_time',
      sort_order: 'asc',
      get_total_count: true,
      search_criteria: [{ field: 'status.name', condition: 'is', values: ['Resolved', 'Closed'] }],
    });

  it('filters by dotted fields and pages with has_more_rows', async () => {
    await start();

    const pages: Array<{
      requests: Row[];
      list_info: { total_count: number; has_more_rows: boolean };
    }> = [];
    for (let start = 1; ; start += 2) {
      const reply = await call('GET', '/api/v3/requests', { inputData: resolvedQuery(start, 2) });
      pages.push(reply.body);
      if (!reply.body.list_info.has_more_rows) break;
    }

    expect(pages.map((p) => displayIds(p.requests))).toEqual([
      ['TKT-10203', 'TKT-10877'],
      ['TKT-11002', 'TKT-11210'],
      ['TKT-11405'],
    ]);
    expect(pages.map((p) => p.list_info.total_count)).toEqual([5, 5, 5]);
    expect(pages.map((p) => p.list_info.has_more_rows)).toEqual([true, true, false]);
  });

  it('combines between on created_time with AND, and contains with OR', async () => {
    await start();

    const between = await call('GET', '/api/v3/requests', {
      inputData: listInfo({
        search_criteria: [
          { field: 'status.name', condition: 'is', values: ['Resolved', 'Closed'] },
          {
            field: 'created_time',
            condition: 'between',
            values: [
              String(Date.parse('2025-09-01T00:00:00Z')),
              String(Date.parse('2025-09-30T00:00:00Z')),
            ],
            logical_operator: 'AND',
          },
        ],
        sort_field: 'created_time',
        sort_order: 'asc',
      }),
    });
    const either = await call('GET', '/api/v3/requests', {
      inputData: listInfo({
        search_criteria: [
          { field: 'subject', condition: 'contains', value: 'vpn' },
          { field: 'subject', condition: 'contains', value: 'PRINTER', logical_operator: 'OR' },
        ],
        sort_field: 'display_id',
        sort_order: 'asc',
      }),
    });

    expect(displayIds(between.body.requests)).toEqual(['TKT-10877', 'TKT-11002', 'TKT-11210']);
    expect(displayIds(either.body.requests)).toEqual(['TKT-10877', 'TKT-11210']);
  });

  it('caps row_count at 100 and rejects a bad condition or start_index', async () => {
    await start();
    sim.control.seed({
      requests: Array.from({ length: 120 }, (_, i) => ({ subject: `Bulk ${i}` })),
    });

    const capped = await call('GET', '/api/v3/requests', {
      inputData: listInfo({ row_count: 500 }),
    });
    const badCondition = await call('GET', '/api/v3/requests', {
      inputData: listInfo({
        search_criteria: { field: 'subject', condition: 'sounds like', value: 'x' },
      }),
    });
    const badStart = await call('GET', '/api/v3/requests', {
      inputData: listInfo({ start_index: 0 }),
    });

    expect(capped.body.requests).toHaveLength(100);
    expect(capped.body.list_info).toMatchObject({ row_count: 100, has_more_rows: true });
    expect(badCondition.status).toBe(400);
    expect(badCondition.body.response_status.messages[0].status_code).toBe(4001);
    expect(badStart.status).toBe(400);
  });

  it('lists approved solutions only with filter_by ApprovedSolutions', async () => {
    await start();

    const all = await call('GET', '/api/v3/solutions', { inputData: listInfo({ row_count: 100 }) });
    const approved = await call('GET', '/api/v3/solutions', {
      inputData: listInfo({ row_count: 100, filter_by: { name: 'ApprovedSolutions' } }),
    });
    const single = await call('GET', `/api/v3/solutions/${approved.body.solutions[0].id}`);

    expect(all.body.solutions).toHaveLength(5);
    expect(approved.body.solutions).toHaveLength(4);
    expect(approved.body.solutions).toEqual(
      Array(4).fill(expect.objectContaining({ approval_status: { id: '2', name: 'Approved' } })),
    );
    expect(single.body.response_status).toEqual({ status_code: 2000, status: 'success' });
    expect(single.body.solution.keywords).toEqual(expect.any(String));
  });
});

describe('failure injection', () => {
  it('fails exactly the next N API calls with 500 / 4004, then succeeds', async () => {
    await start();
    const armed = await call('POST', '/_sim/fail', {
      rawBody: JSON.stringify({ mode: '500', count: 2 }),
    });

    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('GET', '/api/v3/requests/1')).status);

    expect(armed.body).toEqual({ mode: '500', remaining: 2 });
    expect(statuses).toEqual([500, 500, 200, 200]);
    const calls = await call('GET', '/_sim/calls');
    expect(calls.body.byRoute['GET /requests/{id}']).toEqual({ '500': 2, '200': 2 });
    expect(calls.body.total).toBe(4);
  });

  it('answers 429 / 4015 with Retry-After when asked', async () => {
    await start();
    sim.control.fail({ mode: '429', count: 1, retryAfterSeconds: 3 });

    const limited = await call('GET', '/api/v3/requests/1');
    const after = await call('GET', '/api/v3/requests/1');

    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.body.response_status.messages[0].status_code).toBe(4015);
    expect(after.status).toBe(200);
  });

  it('a held call never answers while the client waits', async () => {
    await start();
    sim.control.fail({ mode: 'timeout', count: 1 });

    const outcome = await fetch(`${sim.url}/api/v3/requests/1`, {
      headers: { authtoken: DEV_API_KEY },
      signal: AbortSignal.timeout(300),
    }).then(
      () => 'answered',
      (error: Error) => error.name,
    );
    const next = await call('GET', '/api/v3/requests/1');
    // The abort reaches the server asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(outcome).toBe('TimeoutError');
    expect(next.status).toBe(200);
    expect(sim.control.calls().byRoute['GET /requests/{id}']).toEqual({ aborted: 1, '200': 1 });
  });

  it('with holdMs answers normally after the hold', async () => {
    await start();
    sim.control.fail({ mode: 'timeout', count: 1, holdMs: 150 });

    const started = Date.now();
    const reply = await call('GET', '/api/v3/requests/1');

    expect(reply.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('enforces an optional rate limit with 429 / 4015', async () => {
    await start({ rateLimit: { maxRequests: 2, windowMs: 60_000 } });

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('GET', '/api/v3/requests/1')).status);

    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('control endpoints', () => {
  it('seeds via HTTP and returns the new ids; rejects an invalid seed', async () => {
    await start({ seed: undefined });

    const seeded = await call('POST', '/_sim/seed', {
      rawBody: JSON.stringify({
        requests: [
          { display_id: 'X-1', subject: 'Seeded', status: 'Resolved', created_time: 1000 },
        ],
        solutions: [{ title: 'KB', keywords: 'a,b' }],
      }),
    });
    const invalid = await call('POST', '/_sim/seed', {
      rawBody: JSON.stringify({ requests: [{ description: 'no subject' }] }),
    });
    const duplicate = await call('POST', '/_sim/seed', {
      rawBody: JSON.stringify({ requests: [{ display_id: 'X-1', subject: 'again' }] }),
    });

    expect(seeded.status).toBe(200);
    expect(seeded.body).toEqual({ requests: ['1'], solutions: ['2'] });
    expect((await call('GET', '/api/v3/requests/X-1')).body.request).toMatchObject({
      subject: 'Seeded',
      status: { name: 'Resolved' },
      resolved_time: { value: '3601000' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues[0]).toContain('requests.0.subject');
    expect(duplicate.status).toBe(400);
    expect(sim.state.requests()).toHaveLength(1);
  });

  it('lists all notes across requests and resets to the start seed', async () => {
    await start();
    await call('POST', '/api/v3/requests/TKT-12345/notes', {
      inputData: { note: { description: 'n1' } },
    });
    sim.control.fail({ mode: '500', count: 5 });

    const notes = await call('GET', '/_sim/notes');
    const reset = await call('POST', '/_sim/reset');
    const afterReset = await call('GET', '/_sim/notes');
    const stillWorks = await call('GET', '/api/v3/requests/TKT-12345');

    expect(notes.body.notes).toHaveLength(2);
    expect(notes.body.notes).toContainEqual(
      expect.objectContaining({
        request_id: '1',
        request_display_id: 'TKT-12345',
        description: 'n1',
      }),
    );
    expect(reset.status).toBe(200);
    expect(afterReset.body.notes).toHaveLength(1);
    expect(stillWorks.status).toBe(200); // reset also cleared the pending failures
    expect(sim.control.calls().byRoute).toEqual({ 'GET /requests/{id}': { '200': 1 } });
  });
});
