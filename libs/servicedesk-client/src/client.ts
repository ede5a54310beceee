import type { z } from 'zod';
import { createAuthProvider, type AuthProvider, type ServiceDeskAuth } from './auth';
import type { AccessTokenStore } from './token-store';
import { trustedApiOrigin } from './zoho';
import {
  ServiceDeskError,
  classifyFailure,
  truncateUpstreamText,
  type ServiceDeskErrorKind,
} from './errors';
import {
  defaultFetch,
  HttpTransport,
  markNotApplied,
  wasNotApplied,
  type FetchLike,
  type HttpReply,
} from './http-transport';
import {
  describeIssues,
  envelopeStatus,
  noteEnvelope,
  noteListEnvelope,
  requestEnvelope,
  requestListEnvelope,
  resolutionEnvelope,
  solutionEnvelope,
  solutionListEnvelope,
  type SdpStatusEntry,
  type ServiceDeskNote,
  type ServiceDeskRequest,
  type ServiceDeskResolution,
  type ServiceDeskSolution,
} from './schemas';
import {
  MAX_ROW_COUNT,
  checkPaging,
  toWireCriteria,
  type ListRequestsParams,
  type ListSolutionsParams,
} from './search';

export type NoteWrapperKey = 'request_note' | 'note';

export interface ServiceDeskClientOptions {
  /** The tenant's servicedesk_url, e.g. https://sdp.example.com:8080 */
  baseUrl: string;
  /** Portal name: paths become /app/<portal>/api/v3 instead of /api/v3. */
  portal?: string;
  auth: ServiceDeskAuth;
  /** Cloud uses `request_note`, current on-premises builds `note`; the other is tried once on a 4000-series error. */
  noteWrapperKey?: NoteWrapperKey;
  /** Per attempt; default 10 000, at most 30 000. */
  timeoutMs?: number;
  /** Retries after the first attempt; default 3. */
  maxRetries?: number;
  /** Awaited before every outbound request (the platform's SSRF guard); a rejection blocks it. */
  beforeConnect?: (url: URL) => Promise<void>;
  fetch?: FetchLike;
  /** Called once per API operation with its outcome (`ok` or the error kind), for metrics. */
  onResult?: (operation: string, outcome: 'ok' | ServiceDeskErrorKind) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  /** Cloud: the access-token cache shared by every process (see `AccessTokenStore`). */
  tokenStore?: AccessTokenStore;
}

export interface AddNoteInput {
  descriptionHtml: string;
  showToRequester?: boolean;
  notifyTechnician?: boolean;
}

/** `POST /requests`: only `subject` is mandatory in SDP. */
export interface CreateRequestInput {
  subject: string;
  descriptionHtml?: string;
  /** A priority lookup by name, e.g. "High". */
  priority?: string;
  requesterEmail?: string;
}

export interface Page {
  hasMoreRows: boolean;
  startIndex: number;
  rowCount: number;
  totalCount?: number;
}

export interface RequestPage extends Page {
  requests: ServiceDeskRequest[];
}

export interface SolutionPage extends Page {
  solutions: ServiceDeskSolution[];
}

type Method = 'GET' | 'POST' | 'PUT';

const ACCEPT = 'application/vnd.manageengine.sdp.v3+json';
const FORM = 'application/x-www-form-urlencoded';
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 30_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15_000;
/** A longer Retry-After is handed to the caller (e.g. a delayed redelivery) instead of blocking here. */
const MAX_RETRY_AFTER_MS = 60_000;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * ServiceDesk Plus REST API v3 client for one tenant. Every reply is
 * validated with zod; every failure is a `ServiceDeskError`.
 *
 * Retries: reads retry on 5xx, 429/4015, network errors and timeouts with
 * jittered exponential backoff (honouring Retry-After). Writes retry only
 * when the failure proves the write did not happen (429/4015, 503, refused
 * connection, token refresh failure): after a timeout or a 500 the note may
 * already exist, so a blind retry could post it twice. Such errors are still
 * `retryable`, for a caller that first checks what was posted.
 */
export class ServiceDeskClient {
  private readonly apiRoot: string;
  private readonly transport: HttpTransport;
  private readonly auth: AuthProvider;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private noteKey: NoteWrapperKey;

  private readonly onResult?: ServiceDeskClientOptions['onResult'];

  constructor(options: ServiceDeskClientOptions) {
    this.onResult = options.onResult;
    const base = parseHttpUrl(options.baseUrl, 'baseUrl');
    if (options.portal !== undefined && !/^[A-Za-z0-9_-]+$/.test(options.portal)) {
      throw new TypeError('portal must be a portal name of letters, digits, "_" or "-"');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
      throw new RangeError(`timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`);
    }
    const maxRetries = options.maxRetries ?? 3;
    if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 10) {
      throw new RangeError('maxRetries must be an integer from 0 to 10');
    }
    checkAuth(options.auth);
    const noteKey = options.noteWrapperKey ?? 'request_note';
    if (noteKey !== 'request_note' && noteKey !== 'note') {
      throw new TypeError('noteWrapperKey must be "request_note" or "note"');
    }

    const basePath = base.pathname.replace(/\/+$/, '');
    const portalPath = options.portal ? `/app/${options.portal}` : '';
    this.apiRoot = `${base.origin}${basePath}${portalPath}/api/v3`;
    const now = options.now ?? Date.now;
    this.transport = new HttpTransport({
      fetch: options.fetch ?? defaultFetch,
      timeoutMs,
      beforeConnect: options.beforeConnect,
      now,
    });
    this.maxRetries = maxRetries;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.auth = createAuthProvider(options.auth, {
      transport: this.transport,
      now,
      tokenStore: options.tokenStore,
    });
    this.random = options.random ?? Math.random;
    this.noteKey = noteKey;
  }

  /** The note wrapper key in use, including one learned by fallback (worth persisting per tenant). */
  get noteWrapperKey(): NoteWrapperKey {
    return this.noteKey;
  }

  async getRequest(id: string): Promise<ServiceDeskRequest> {
    const reply = await this.call('GET', `/requests/${segment(id)}`, undefined, requestEnvelope);
    return reply.request;
  }

  async listRequests(params: ListRequestsParams = {}): Promise<RequestPage> {
    checkPaging(params.rowCount, params.startIndex);
    const listInfo = {
      ...pagingInfo(params),
      ...(params.sortField ? { sort_field: params.sortField } : {}),
      ...(params.sortOrder ? { sort_order: params.sortOrder } : {}),
      ...(params.filterBy ? { filter_by: { name: params.filterBy } } : {}),
    };
    const reply = await this.call('GET', '/requests', { list_info: listInfo }, requestListEnvelope);
    return {
      requests: reply.requests,
      ...pageInfo(reply.list_info, reply.requests, params.startIndex),
    };
  }

  /** Every request matching `params`, page after page, until SDP reports no more rows. */
  async *iterateRequests(
    params: ListRequestsParams = {},
  ): AsyncGenerator<ServiceDeskRequest, void, undefined> {
    yield* paginate(params, async (p) => {
      const page = await this.listRequests(p);
      return { items: page.requests, ...page };
    });
  }

  /**
   * Creates a request (e.g. a validation ticket during onboarding). A write:
   * like notes, it is not repeated after a timeout or a 500, where SDP may
   * already have created it.
   */
  async createRequest(input: CreateRequestInput): Promise<ServiceDeskRequest> {
    if (!input.subject.trim()) throw new RangeError('subject must not be empty');
    const request = {
      subject: input.subject,
      ...(input.descriptionHtml !== undefined ? { description: input.descriptionHtml } : {}),
      ...(input.priority ? { priority: { name: input.priority } } : {}),
      ...(input.requesterEmail ? { requester: { email_id: input.requesterEmail } } : {}),
    };
    const reply = await this.call('POST', '/requests', { request }, requestEnvelope);
    return reply.request;
  }

  async getRequestResolution(requestId: string): Promise<ServiceDeskResolution | null> {
    const reply = await this.call(
      'GET',
      `/requests/${segment(requestId)}/resolutions`,
      undefined,
      resolutionEnvelope,
    );
    return reply.resolution;
  }

  async addNote(requestId: string, input: AddNoteInput): Promise<ServiceDeskNote> {
    if (!input.descriptionHtml.trim()) throw new RangeError('descriptionHtml must not be empty');
    const note = {
      description: input.descriptionHtml,
      show_to_requester: input.showToRequester ?? false,
      notify_technician: input.notifyTechnician ?? false,
      mark_first_response: false,
      add_to_linked_requests: false,
    };
    return this.withNoteKey((key) =>
      this.call('POST', `/requests/${segment(requestId)}/notes`, { [key]: note }, noteEnvelope),
    );
  }

  /** Replaces a note's text (and who sees it) in place: `PUT /requests/{id}/notes/{note_id}`. */
  async editNote(requestId: string, noteId: string, input: AddNoteInput): Promise<ServiceDeskNote> {
    if (!input.descriptionHtml.trim()) throw new RangeError('descriptionHtml must not be empty');
    const note = {
      description: input.descriptionHtml,
      show_to_requester: input.showToRequester ?? false,
    };
    return this.withNoteKey((key) =>
      this.call(
        'PUT',
        `/requests/${segment(requestId)}/notes/${segment(noteId)}`,
        { [key]: note },
        noteEnvelope,
      ),
    );
  }

  /**
   * Cloud wraps a note in `request_note`, current on-premises builds in
   * `note`: try the tenant's key, and the other on an input error.
   */
  private async withNoteKey<T>(send: (key: NoteWrapperKey) => Promise<T>): Promise<T> {
    const key = this.noteKey;
    try {
      return await send(key);
    } catch (error) {
      if (!isSdpInputError(error)) throw error;
      const other: NoteWrapperKey = key === 'note' ? 'request_note' : 'note';
      try {
        const result = await send(other);
        this.noteKey = other;
        return result;
      } catch (second) {
        // Both keys rejected as input: the first error describes the real problem.
        throw isSdpInputError(second) ? error : second;
      }
    }
  }

  async listNotes(requestId: string): Promise<ServiceDeskNote[]> {
    const notes: ServiceDeskNote[] = [];
    const pages = paginate({ rowCount: MAX_ROW_COUNT, startIndex: 1 }, async (p) => {
      const reply = await this.call(
        'GET',
        `/requests/${segment(requestId)}/notes`,
        { list_info: pagingInfo(p) },
        noteListEnvelope,
      );
      return { items: reply.notes, ...pageInfo(reply.list_info, reply.notes, p.startIndex) };
    });
    for await (const note of pages) notes.push(note);
    return notes;
  }

  async getSolution(id: string): Promise<ServiceDeskSolution> {
    const reply = await this.call('GET', `/solutions/${segment(id)}`, undefined, solutionEnvelope);
    return reply.solution;
  }

  async listSolutions(params: ListSolutionsParams = {}): Promise<SolutionPage> {
    checkPaging(params.rowCount, params.startIndex);
    const listInfo = {
      ...pagingInfo(params),
      ...(params.approvedOnly ? { filter_by: { name: 'ApprovedSolutions' } } : {}),
    };
    const reply = await this.call(
      'GET',
      '/solutions',
      { list_info: listInfo },
      solutionListEnvelope,
    );
    return {
      solutions: reply.solutions,
      ...pageInfo(reply.list_info, reply.solutions, params.startIndex),
    };
  }

  async *iterateSolutions(
    params: ListSolutionsParams = {},
  ): AsyncGenerator<ServiceDeskSolution, void, undefined> {
    yield* paginate(params, async (p) => {
      const page = await this.listSolutions(p);
      return { items: page.solutions, ...page };
    });
  }

  private async call<S extends z.ZodType>(
    method: Method,
    path: string,
    inputData: unknown,
    schema: S,
  ): Promise<z.output<S>> {
    const url = new URL(`${this.apiRoot}${path}`);
    const encoded =
      inputData === undefined
        ? undefined
        : `input_data=${encodeURIComponent(JSON.stringify(inputData))}`;
    if (method === 'GET' && encoded) url.search = encoded;
    const body = method === 'GET' ? undefined : encoded;
    const target = `${method} ${url.pathname}`;
    const operation = `${method} ${operationPath(path)}`;
    try {
      const result = await this.callWithRetries(method, url, body, schema, target);
      this.onResult?.(operation, 'ok');
      return result;
    } catch (error) {
      this.onResult?.(operation, error instanceof ServiceDeskError ? error.kind : 'unavailable');
      throw error;
    }
  }

  private async callWithRetries<S extends z.ZodType>(
    method: Method,
    url: URL,
    body: string | undefined,
    schema: S,
    target: string,
  ): Promise<z.output<S>> {
    let retries = 0;
    let refreshedAuth = false;
    for (;;) {
      try {
        const auth = await this.authHeaders();
        try {
          const reply = await this.transport.exchange({
            method,
            url: onApiDomain(url, auth.apiDomain),
            headers: { Accept: ACCEPT, ...(body ? { 'Content-Type': FORM } : {}), ...auth.headers },
            body,
          });
          return this.parseReply(reply, schema, target);
        } catch (error) {
          // An expired access token: refresh once and repeat the call once.
          if (this.auth.refreshable && !refreshedAuth && isUnauthorized(error)) {
            refreshedAuth = true;
            this.auth.invalidate(auth);
            continue;
          }
          throw error;
        }
      } catch (error) {
        if (error instanceof HandBack) throw error.error;
        if (!(error instanceof ServiceDeskError)) throw error;
        const delay = this.retryDelay(error, retries, method);
        if (delay === undefined) throw error;
        retries += 1;
        await this.sleep(delay);
      }
    }
  }

  /**
   * Zoho's token throttle lasts tens of seconds and is shared by every
   * process: hand it to the caller (a delayed redelivery) rather than hold
   * a worker slot sleeping on it.
   */
  private async authHeaders() {
    try {
      return await this.auth.headers();
    } catch (error) {
      if (error instanceof ServiceDeskError && error.kind === 'rate_limited') {
        throw new HandBack(error);
      }
      throw error;
    }
  }

  private retryDelay(error: ServiceDeskError, retries: number, method: Method): number | undefined {
    if (!error.retryable || retries >= this.maxRetries) return undefined;
    if (method !== 'GET' && !wasNotApplied(error)) return undefined;
    if (error.retryAfterMs !== undefined) {
      return error.retryAfterMs <= MAX_RETRY_AFTER_MS ? error.retryAfterMs : undefined;
    }
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retries);
    // Half fixed, half random: spreads tenants' retries without collapsing to zero.
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private parseReply<S extends z.ZodType>(
    reply: HttpReply,
    schema: S,
    target: string,
  ): z.output<S> {
    if (reply.status >= 300 && reply.status < 400) {
      throw new ServiceDeskError(
        'unavailable',
        `unexpected redirect (HTTP ${reply.status}) from ${target}; check the ServiceDesk URL`,
        { httpStatus: reply.status, retryable: false },
      );
    }
    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(reply.text);
    } catch {
      isJson = false;
    }
    const status = isJson ? envelopeStatus.safeParse(json) : undefined;
    const entries = status?.success ? status.data.response_status : [];
    const failed = entries.find(
      (e) => e.status === 'failed' || (e.status_code !== undefined && e.status_code >= 4000),
    );
    if (reply.status < 200 || reply.status >= 300 || failed) {
      throw this.failure(reply, failed ?? entries[0], target);
    }
    if (!isJson) {
      throw new ServiceDeskError('unexpected_response', `reply to ${target} is not JSON`, {
        httpStatus: reply.status,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ServiceDeskError(
        'unexpected_response',
        `reply to ${target} does not match the SDP v3 schema: ${describeIssues(parsed.error)}`,
        { httpStatus: reply.status },
      );
    }
    return parsed.data;
  }

  private failure(reply: HttpReply, entry: SdpStatusEntry | undefined, target: string) {
    // The top-level code is usually the generic 4000; the message carries the specific one.
    const messages = entry?.messages ?? [];
    const message = messages.find((m) => m.status_code && m.status_code !== 4000) ?? messages[0];
    const sdpStatusCode = message?.status_code ?? entry?.status_code;
    const kind = classifyFailure(reply.status, sdpStatusCode);
    const fields = message?.fields ?? (message?.field ? [message.field] : undefined);
    const text = [
      `SDP ${target} failed: HTTP ${reply.status}`,
      sdpStatusCode ? `, status ${sdpStatusCode}` : '',
      message?.message ? `: ${truncateUpstreamText(message.message)}` : '',
      fields?.length ? ` (fields: ${truncateUpstreamText(fields.join(', '))})` : '',
    ].join('');
    const error = new ServiceDeskError(kind, text, {
      httpStatus: reply.status,
      sdpStatusCode,
      retryAfterMs: this.transport.retryAfterMs(reply.headers),
      fields,
    });
    // Rejected before processing: safe to repeat even a write.
    return kind === 'rate_limited' || reply.status === 503 ? markNotApplied(error) : error;
  }
}

export function createServiceDeskClient(options: ServiceDeskClientOptions): ServiceDeskClient {
  return new ServiceDeskClient(options);
}

interface PageOf<T> {
  items: T[];
  hasMoreRows: boolean;
}

/** `/requests/123/notes` → `/requests/{id}/notes`: bounded metric labels. */
function operationPath(path: string): string {
  const collections = new Set(['requests', 'notes', 'solutions', 'resolutions']);
  return path
    .split('/')
    .map((segment, i, all) =>
      i > 0 && collections.has(all[i - 1]) && !collections.has(segment) ? '{id}' : segment,
    )
    .join('/');
}

async function* paginate<T, P extends { startIndex?: number; rowCount?: number }>(
  params: P,
  fetchPage: (params: P) => Promise<PageOf<T>>,
): AsyncGenerator<T, void, undefined> {
  let startIndex = params.startIndex ?? 1;
  for (;;) {
    const page = await fetchPage({ ...params, startIndex });
    yield* page.items;
    if (!page.hasMoreRows) return;
    if (page.items.length === 0) {
      throw new ServiceDeskError(
        'unexpected_response',
        'SDP reported more rows after an empty page',
      );
    }
    // Advance by the rows actually returned: equal to row_count on full
    // pages, and still correct if the server capped the page size.
    startIndex += page.items.length;
  }
}

function pagingInfo(params: {
  rowCount?: number;
  startIndex?: number;
  searchCriteria?: ListRequestsParams['searchCriteria'];
  getTotalCount?: boolean;
}) {
  return {
    row_count: params.rowCount ?? MAX_ROW_COUNT,
    start_index: params.startIndex ?? 1,
    ...(params.getTotalCount ? { get_total_count: true } : {}),
    ...(params.searchCriteria?.length
      ? { search_criteria: toWireCriteria(params.searchCriteria) }
      : {}),
  };
}

function pageInfo(
  info:
    | { has_more_rows: boolean; start_index?: number; row_count?: number; total_count?: number }
    | undefined,
  items: unknown[],
  requestedStart: number | undefined,
): Page {
  return {
    hasMoreRows: info?.has_more_rows ?? false,
    startIndex: info?.start_index ?? requestedStart ?? 1,
    rowCount: info?.row_count ?? items.length,
    ...(info?.total_count !== undefined ? { totalCount: info.total_count } : {}),
  };
}

function segment(id: string): string {
  if (!id || !id.trim()) throw new RangeError('id must not be empty');
  return encodeURIComponent(id);
}

/** Carries an error past the retry loop untouched. */
class HandBack extends Error {
  constructor(readonly error: ServiceDeskError) {
    super(error.message);
  }
}

/**
 * Cloud: Zoho's token reply names the API host of the tenant's data centre
 * (`api_domain`); the path (portal, /api/v3) stays. Only vetted hosts.
 */
function onApiDomain(url: URL, apiDomain: string | undefined): URL {
  const origin = trustedApiOrigin(apiDomain, url.origin);
  if (!origin || origin === url.origin) return url;
  return new URL(`${url.pathname}${url.search}`, origin);
}

function isUnauthorized(error: unknown): boolean {
  return (
    error instanceof ServiceDeskError &&
    error.kind === 'auth' &&
    (error.httpStatus === 401 || error.sdpStatusCode === 4022)
  );
}

function isSdpInputError(error: unknown): error is ServiceDeskError {
  return (
    error instanceof ServiceDeskError &&
    error.kind === 'validation' &&
    error.sdpStatusCode !== undefined &&
    error.sdpStatusCode >= 4000 &&
    error.sdpStatusCode < 5000
  );
}

function parseHttpUrl(value: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`${name} must be an absolute http(s) URL`);
  }
  if (url.username || url.password) throw new TypeError(`${name} must not contain credentials`);
  return url;
}

function checkAuth(auth: ServiceDeskAuth): void {
  switch (auth.kind) {
    case 'authtoken':
      if (!VISIBLE_ASCII.test(auth.apiKey))
        throw new TypeError('auth.apiKey is missing or invalid');
      if (
        auth.header !== undefined &&
        auth.header !== 'authtoken' &&
        auth.header !== 'TECHNICIAN_KEY'
      ) {
        throw new TypeError('auth.header must be "authtoken" or "TECHNICIAN_KEY"');
      }
      if (auth.portalId !== undefined && !VISIBLE_ASCII.test(auth.portalId)) {
        throw new TypeError('auth.portalId is invalid');
      }
      return;
    case 'oauth':
      parseHttpUrl(auth.accountsUrl, 'auth.accountsUrl');
      for (const field of ['clientId', 'clientSecret', 'refreshToken'] as const) {
        if (!auth[field]) throw new TypeError(`auth.${field} is missing`);
      }
      return;
  }
}
