import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { parseListInfo, runListQuery } from './list-query';
import { OAuthServer, type OAuthSettings } from './oauth';
import { SUCCESS, SdpFailure, sdpErrors } from './sdp-errors';
import { SdpStore, type SeedInput, type SeedResult, type SimulatorMode } from './store';
import { sendWebhook, type WebhookRequest, type WebhookResult } from './webhooks';

export interface SdpSimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port (see `port`/`url` on the handle). */
  port?: number;
  /** Default `onprem`. */
  mode?: SimulatorMode;
  /** On-premises API keys accepted in `authtoken` / `TECHNICIAN_KEY`. */
  apiKeys?: string[];
  /** Cloud: the OAuth client and refresh token the token endpoint accepts. */
  oauth?: Partial<OAuthSettings>;
  /** When set, only these names are accepted in /app/<portal>/api/v3. */
  portals?: string[];
  /** Data loaded at start and again on every reset. */
  seed?: SeedInput;
  /** Answer 429/4015 beyond this many API calls per window (off by default). */
  rateLimit?: { maxRequests: number; windowMs: number };
  /** One line per request; silent by default. */
  log?: (line: string) => void;
  now?: () => number;
}

export const failureSpecSchema = z.strictObject({
  mode: z.enum(['500', '429', 'timeout']),
  count: z.number().int().min(1).max(1000),
  /** 429 only: sent as Retry-After. */
  retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
  /** timeout only: answer normally after this long; without it, never answer. */
  holdMs: z.number().int().positive().max(300_000).optional(),
});

export type FailureSpec = z.input<typeof failureSpecSchema>;

export interface SimulatedNote {
  request_id: string;
  request_display_id: string;
  note_id: string;
  description: string;
  show_to_requester: boolean;
  created_time: number;
}

/** Calls per route (e.g. `GET /requests/{id}`) and outcome (HTTP status or `aborted`). */
export interface CallStats {
  total: number;
  byRoute: Record<string, Record<string, number>>;
}

export interface SimulatorControl {
  seed(input: SeedInput): SeedResult;
  /** The next `count` API calls fail as `mode` says, then calls succeed again. */
  fail(spec: FailureSpec): void;
  /** Empties the data (then re-applies the start seed), failures and call counts. */
  reset(): void;
  notes(): SimulatedNote[];
  calls(): CallStats;
  /** Cloud: every access token issued so far expires now. */
  expireTokens(): void;
  /** Cloud: the token endpoint answers "too many requests" for this long. */
  throttleTokens(ms: number): void;
  /** Cloud: how many access tokens have been minted. */
  tokensMinted(): number;
  /** Cloud: a one-time Zoho grant code (as a Self Client makes) for the authorization-code grant. */
  issueGrantCode(): { code: string; expiresInSeconds: number };
  sendWebhook(request: WebhookRequest): Promise<WebhookResult>;
}

export interface SimulatorState {
  requests(): Record<string, unknown>[];
  /** By id or display_id, rendered as the API returns it. */
  request(idOrDisplayId: string): Record<string, unknown> | undefined;
  solutions(): Record<string, unknown>[];
}

export interface SdpSimulator {
  url: string;
  port: number;
  mode: SimulatorMode;
  /** What a client needs to authenticate (dev credentials; never use real ones here). */
  credentials: {
    apiKeys: string[];
    oauth?: OAuthSettings & { accountsUrl: string };
  };
  state: SimulatorState;
  control: SimulatorControl;
  close(): Promise<void>;
}

export const DEV_API_KEY = 'sdp-simulator-dev-key';
const DEFAULT_OAUTH: OAuthSettings = {
  clientId: '1000.SIMULATORCLIENT',
  clientSecret: 'sdp-simulator-client-secret',
  refreshToken: '1000.sdp-simulator-refresh-token',
  accessTokenTtlSeconds: 3600,
  maxTokensPerTenMinutes: 10,
  grantCodeTtlSeconds: 600,
};

const API_PATH = /^(?:\/app\/([^/]+))?\/api\/v3(\/.*)$/;
const MAX_BODY_BYTES = 1024 * 1024;

type Handler = (params: string[], inputData: unknown) => object;

interface CallContext {
  route?: string;
  outcome?: string;
}

export async function startSdpSimulator(options: SdpSimulatorOptions = {}): Promise<SdpSimulator> {
  const mode = options.mode ?? 'onprem';
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const apiKeys = new Set(options.apiKeys?.length ? options.apiKeys : [DEV_API_KEY]);
  const oauth =
    mode === 'cloud' ? new OAuthServer({ ...DEFAULT_OAUTH, ...options.oauth }, now) : undefined;
  const store = new SdpStore(mode, now);
  if (options.seed) store.seed(options.seed);

  let pendingFailure: z.output<typeof failureSpecSchema> | undefined;
  const calls = new Map<string, Map<string, number>>();
  const rateWindow: number[] = [];
  const heldReleases = new Set<() => void>();

  const routes: Array<[string, RegExp, string, Handler]> = [
    ['GET', /^\/requests$/, '/requests', (_, input) => listRequests(input)],
    ['POST', /^\/requests$/, '/requests', (_, input) => single(store.createRequest(input))],
    ['GET', /^\/requests\/([^/]+)$/, '/requests/{id}', ([id]) => single(store.findRequest(id))],
    [
      'PUT',
      /^\/requests\/([^/]+)$/,
      '/requests/{id}',
      ([id], input) => single(store.updateRequest(store.findRequest(id), input)),
    ],
    [
      'GET',
      /^\/requests\/([^/]+)\/notes$/,
      '/requests/{id}/notes',
      ([id], input) => listNotes(id, input),
    ],
    [
      'POST',
      /^\/requests\/([^/]+)\/notes$/,
      '/requests/{id}/notes',
      ([id], input) => {
        const request = store.findRequest(id);
        return noteReply(request, store.addNote(request, input));
      },
    ],
    [
      'GET',
      /^\/requests\/([^/]+)\/notes\/([^/]+)$/,
      '/requests/{id}/notes/{note_id}',
      ([id, noteId]) => {
        const request = store.findRequest(id);
        return noteReply(request, store.findNote(request, noteId));
      },
    ],
    [
      'PUT',
      /^\/requests\/([^/]+)\/notes\/([^/]+)$/,
      '/requests/{id}/notes/{note_id}',
      ([id, noteId], input) => {
        const request = store.findRequest(id);
        return noteReply(request, store.editNote(request, noteId, input));
      },
    ],
    [
      'GET',
      /^\/requests\/([^/]+)\/resolutions$/,
      '/requests/{id}/resolutions',
      ([id]) => resolutionReply(store.findRequest(id)),
    ],
    [
      'POST',
      /^\/requests\/([^/]+)\/resolutions$/,
      '/requests/{id}/resolutions',
      ([id], input) => {
        const request = store.findRequest(id);
        store.setResolution(request, input);
        return resolutionReply(request);
      },
    ],
    ['GET', /^\/solutions$/, '/solutions', (_, input) => listSolutions(input)],
    [
      'GET',
      /^\/solutions\/([^/]+)$/,
      '/solutions/{id}',
      ([id]) => ({
        solution: store.renderSolution(store.findSolution(id)),
        response_status: SUCCESS,
      }),
    ],
  ];

  function single(request: Parameters<SdpStore['renderRequest']>[0]) {
    return { request: store.renderRequest(request), response_status: SUCCESS };
  }

  function noteReply(
    request: Parameters<SdpStore['renderNote']>[0],
    note: Parameters<SdpStore['renderNote']>[1],
  ) {
    return { [store.noteKey]: store.renderNote(request, note), response_status: SUCCESS };
  }

  function resolutionReply(request: Parameters<SdpStore['renderResolution']>[0]) {
    return { resolution: store.renderResolution(request), response_status: SUCCESS };
  }

  // Lists answer response_status as an array, as real instances often do.
  function listRequests(input: unknown) {
    const query = parseListInfo(input, { sortField: 'created_time', sortOrder: 'desc' });
    const page = runListQuery(
      store.allRequests().map((r) => store.renderRequest(r)),
      query,
    );
    return { requests: page.rows, list_info: page.list_info, response_status: [SUCCESS] };
  }

  function listNotes(id: string, input: unknown) {
    const request = store.findRequest(id);
    const timeField = mode === 'cloud' ? 'created_time' : 'added_time';
    const query = parseListInfo(input, { sortField: timeField, sortOrder: 'asc' });
    const page = runListQuery(
      request.notes.map((n) => store.renderNote(request, n)),
      query,
    );
    return { notes: page.rows, list_info: page.list_info, response_status: [SUCCESS] };
  }

  function listSolutions(input: unknown) {
    const query = parseListInfo(input, { sortField: 'created_time', sortOrder: 'desc' });
    const filter = query.filterBy ?? 'All_Solutions';
    const filters: Record<string, (approved: boolean) => boolean> = {
      All_Solutions: () => true,
      ApprovedSolutions: (approved) => approved,
      UnApprovedSolutions: (approved) => !approved,
    };
    const keep = filters[filter];
    if (!keep) throw sdpErrors.doesNotExist('list_info.filter_by', filter);
    const page = runListQuery(
      store
        .allSolutions()
        .filter((s) => keep(s.approved))
        .map((s) => store.renderSolution(s)),
      query,
    );
    return { solutions: page.rows, list_info: page.list_info, response_status: [SUCCESS] };
  }

  function send(
    res: ServerResponse,
    ctx: CallContext,
    status: number,
    body: object,
    headers: Record<string, string> = {},
  ) {
    ctx.outcome = String(status);
    if (ctx.route) count(ctx.route, ctx.outcome);
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function sendFailure(res: ServerResponse, ctx: CallContext, failure: SdpFailure) {
    send(res, ctx, failure.httpStatus, failure.envelope(), failure.headers);
  }

  // Counted when the reply is written, so a caller that has its reply sees it counted.
  function count(route: string, outcome: string) {
    let byOutcome = calls.get(route);
    if (!byOutcome) calls.set(route, (byOutcome = new Map<string, number>()));
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
  }

  function takeFailure() {
    if (!pendingFailure) return undefined;
    const failure = pendingFailure;
    pendingFailure = failure.count > 1 ? { ...failure, count: failure.count - 1 } : undefined;
    return failure;
  }

  /** Holds the reply until the client gives up, the hold ends or the server closes. */
  function hold(res: ServerResponse, holdMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        heldReleases.delete(release);
        resolve();
      };
      const timer = holdMs === undefined ? undefined : setTimeout(release, holdMs);
      res.on('close', release);
      heldReleases.add(release);
    });
  }

  function rateLimited(): boolean {
    if (!options.rateLimit) return false;
    const t = now();
    while (rateWindow.length && t - rateWindow[0] >= options.rateLimit.windowMs) {
      rateWindow.shift();
    }
    if (rateWindow.length >= options.rateLimit.maxRequests) return true;
    rateWindow.push(t);
    return false;
  }

  function authenticated(req: IncomingMessage): boolean {
    if (oauth) return oauth.isValid(req.headers.authorization);
    return [req.headers['authtoken'], req.headers['technician_key']].some(
      (key) => typeof key === 'string' && apiKeys.has(key),
    );
  }

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: CallContext,
    url: URL,
    portal: string | undefined,
    path: string,
  ) {
    const method = req.method ?? 'GET';
    const route = routes.find(([m, pattern]) => m === method && pattern.test(path));
    ctx.route = route ? `${method} ${route[2]}` : `${method} (unknown)`;

    const failure = takeFailure();
    if (failure?.mode === '500') return sendFailure(res, ctx, sdpErrors.internal());
    if (failure?.mode === '429') {
      return sendFailure(res, ctx, sdpErrors.rateLimited(failure.retryAfterSeconds));
    }
    if (failure?.mode === 'timeout') {
      await hold(res, failure.holdMs);
      if (res.destroyed || res.writableEnded) return;
    }
    if (rateLimited()) return sendFailure(res, ctx, sdpErrors.rateLimited());
    if (!authenticated(req)) return sendFailure(res, ctx, sdpErrors.invalidKey());
    if (!route || (portal !== undefined && options.portals && !options.portals.includes(portal))) {
      return sendFailure(res, ctx, sdpErrors.invalidUrl());
    }

    const inputData = await readInputData(req, url, method);
    const params = route[1].exec(path)!.slice(1).map(decodeURIComponent);
    send(res, ctx, 200, route[3](params, inputData));
  }

  async function handleControl(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: CallContext,
    path: string,
  ) {
    const method = req.method ?? 'GET';
    const key = `${method} ${path}`;
    switch (key) {
      case 'POST /_sim/seed':
        return send(res, ctx, 200, control.seed((await readJson(req)) as SeedInput));
      case 'POST /_sim/fail': {
        const spec = failureSpecSchema.parse(await readJson(req));
        control.fail(spec);
        return send(res, ctx, 200, { mode: spec.mode, remaining: spec.count });
      }
      case 'POST /_sim/reset':
        control.reset();
        return send(res, ctx, 200, { reset: true });
      case 'GET /_sim/notes':
        return send(res, ctx, 200, { notes: control.notes() });
      case 'GET /_sim/calls':
        return send(res, ctx, 200, control.calls());
      case 'POST /_sim/expire-tokens':
        control.expireTokens();
        return send(res, ctx, 200, { expired: true });
      case 'POST /_sim/grant-code': {
        if (!oauth) return send(res, ctx, 404, { error: 'no grant codes in on-premises mode' });
        const { code, expiresInSeconds } = oauth.issueGrantCode();
        return send(res, ctx, 200, { code, expires_in: expiresInSeconds });
      }
      case 'POST /_sim/webhooks': {
        const request = (await readJson(req)) as WebhookRequest;
        let result: WebhookResult;
        try {
          result = await control.sendWebhook(request);
        } catch (error) {
          if (error instanceof z.ZodError) throw error;
          return send(res, ctx, 502, { error: `delivery failed: ${describe(error)}` });
        }
        return send(res, ctx, 200, result);
      }
      default:
        return send(res, ctx, 404, { error: `no simulator control ${key}` });
    }
  }

  async function handleOAuth(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: CallContext,
    url: URL,
  ) {
    ctx.route = 'POST /oauth/v2/token';
    if (!oauth) return send(res, ctx, 404, { error: 'no OAuth endpoint in on-premises mode' });
    // Zoho documents the parameters in the query string; form fields work too.
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    for (const [k, v] of url.searchParams) if (!form.has(k)) form.set(k, v);
    const { status, body } = oauth.issue(form, simulator.url);
    return send(res, ctx, status, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const ctx: CallContext = {};
    res.on('close', () => {
      if (!ctx.outcome) {
        ctx.outcome = 'aborted';
        if (ctx.route) count(ctx.route, ctx.outcome);
      }
      const ms = Math.round(performance.now() - started);
      // Path only: input_data in the query may hold ticket text.
      log(`${new Date().toISOString()} ${req.method} ${url.pathname} ${ctx.outcome} ${ms}ms`);
    });
    try {
      const api = API_PATH.exec(url.pathname);
      if (api) return await handleApi(req, res, ctx, url, api[1], api[2]);
      if (url.pathname.startsWith('/_sim/'))
        return await handleControl(req, res, ctx, url.pathname);
      if (req.method === 'POST' && url.pathname === '/oauth/v2/token') {
        return await handleOAuth(req, res, ctx, url);
      }
      ctx.route = `${req.method} (unknown)`;
      return send(res, ctx, 404, sdpErrors.invalidUrl().envelope());
    } catch (error) {
      if (res.headersSent) return void res.destroy();
      if (error instanceof SdpFailure) return sendFailure(res, ctx, error);
      if (error instanceof z.ZodError) {
        return send(res, ctx, 400, {
          error: 'invalid simulator input',
          issues: error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
        });
      }
      if (error instanceof BodyError) return send(res, ctx, error.status, { error: error.message });
      log(`internal error: ${describe(error)}`);
      return sendFailure(res, ctx, sdpErrors.internal());
    }
  }

  const control: SimulatorControl = {
    seed: (input) => store.seed(input),
    fail: (spec) => {
      pendingFailure = failureSpecSchema.parse(spec);
    },
    reset: () => {
      store.reset();
      if (options.seed) store.seed(options.seed);
      pendingFailure = undefined;
      calls.clear();
      rateWindow.length = 0;
    },
    notes: () =>
      store.allRequests().flatMap((r) =>
        r.notes.map((n) => ({
          request_id: r.id,
          request_display_id: r.displayId,
          note_id: n.id,
          description: n.description,
          show_to_requester: n.showToRequester,
          created_time: n.createdMs,
          last_updated_time: n.lastUpdatedMs ?? null,
        })),
      ),
    calls: () => {
      const byRoute: CallStats['byRoute'] = {};
      let total = 0;
      for (const [route, outcomes] of calls) {
        byRoute[route] = Object.fromEntries(outcomes);
        for (const n of outcomes.values()) total += n;
      }
      return { total, byRoute };
    },
    expireTokens: () => oauth?.expireAll(),
    throttleTokens: (ms) => oauth?.throttleFor(ms),
    tokensMinted: () => oauth?.minted ?? 0,
    issueGrantCode: () => {
      if (!oauth) throw new Error('grant codes exist only in cloud mode');
      return oauth.issueGrantCode();
    },
    sendWebhook: (request) => sendWebhook(request),
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  const simulator: SdpSimulator = {
    url,
    port: address.port,
    mode,
    credentials: {
      apiKeys: [...apiKeys],
      ...(oauth ? { oauth: { ...oauth.settings, accountsUrl: url } } : {}),
    },
    state: {
      requests: () => store.allRequests().map((r) => store.renderRequest(r)),
      request: (idOrDisplayId) => {
        try {
          return store.renderRequest(store.findRequest(idOrDisplayId));
        } catch {
          return undefined;
        }
      },
      solutions: () => store.allSolutions().map((s) => store.renderSolution(s)),
    },
    control,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const release of [...heldReleases]) release();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  return simulator;
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError(413, 'body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString('utf8');
  try {
    return text ? (JSON.parse(text) as unknown) : {};
  } catch {
    throw new BodyError(400, 'body is not JSON');
  }
}

/**
 * SDP's only input channel: `input_data` in the query (GET) or as a
 * form-urlencoded field (POST/PUT). Raw JSON bodies are not accepted.
 */
async function readInputData(req: IncomingMessage, url: URL, method: string): Promise<unknown> {
  let raw: string | null;
  if (method === 'GET') {
    raw = url.searchParams.get('input_data');
  } else {
    const body = (await readBody(req)).toString('utf8');
    const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (body && type !== 'application/x-www-form-urlencoded') {
      throw sdpErrors.invalidInput('expected input_data as application/x-www-form-urlencoded');
    }
    raw = new URLSearchParams(body).get('input_data');
    if (raw === null) throw sdpErrors.invalidInput('input_data is required');
  }
  if (raw === null || raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw sdpErrors.invalidInput('input_data is not valid JSON');
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
