/**
 * The runbook's "Required Information from Client", from flags and/or a
 * client.json / client.yaml file (flags win), validated before anything is
 * created so a typo costs nothing.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  EnhancementPreferencesSchema,
  RateLimitsSchema,
  ZOHO_DATA_CENTRE_IDS,
  type ZohoDataCentre,
} from '@tep/contracts';
import { zohoAccountsUrlProblem } from '@tep/servicedesk-client';
import { UsageError, errorMessage } from './errors';

/** What an operator may call the two editions; the registry's `auth_kind` values too. */
const EDITIONS: Record<string, 'authtoken' | 'oauth'> = {
  cloud: 'oauth',
  'sdp-cloud': 'oauth',
  oauth: 'oauth',
  'on-premises': 'authtoken',
  on_premises: 'authtoken',
  'on-prem': 'authtoken',
  onprem: 'authtoken',
  authtoken: 'authtoken',
};

function editionOf(value: unknown): 'authtoken' | 'oauth' | undefined {
  return typeof value === 'string' ? EDITIONS[value.trim().toLowerCase()] : undefined;
}

/** The fields only an SDP Cloud (Zoho OAuth) client has. */
const CLOUD_FIELDS = [
  'client_id',
  'client_secret',
  'refresh_token',
  'grant_code',
  'data_centre',
  'portal',
  'accounts_url',
] as const;

const zohoValue = (what: string) =>
  z.string().trim().min(1, `${what} must not be empty`).max(2000).optional();

const ClientFieldsSchema = z
  .object({
    company_name: z.string().trim().min(1, 'company name is required').max(200),
    servicedesk_url: z
      .string()
      .trim()
      .url('ServiceDesk Plus URL must be an absolute URL')
      .refine((v) => /^https?:\/\//i.test(v), 'ServiceDesk Plus URL must be http(s)')
      .transform((v) => v.replace(/\/+$/, '')),
    /** `edition` in a client file: on-premises (API key) or cloud (Zoho OAuth). */
    auth_kind: z
      .string()
      .transform((v) => editionOf(v) ?? v)
      .pipe(
        z.enum(['authtoken', 'oauth'], {
          error: 'edition must be "cloud" (SDP Cloud, Zoho OAuth) or "on-premises" (API key)',
        }),
      )
      .default('authtoken'),
    servicedesk_api_key: z
      .string()
      .trim()
      .min(1, 'ServiceDesk Plus API key is required')
      .max(1000)
      .optional(),
    client_id: zohoValue('the Zoho client_id'),
    client_secret: zohoValue('the Zoho client_secret'),
    refresh_token: zohoValue('the Zoho refresh_token'),
    grant_code: zohoValue('the Zoho grant_code'),
    data_centre: z
      .enum(ZOHO_DATA_CENTRE_IDS, {
        error: `data_centre must be one of ${ZOHO_DATA_CENTRE_IDS.join(', ')}`,
      })
      .optional(),
    portal: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, 'portal must be a portal name of letters, digits, _ or -')
      .optional(),
    accounts_url: z.string().trim().max(300).optional(),
    admin_email: z
      .string()
      .trim()
      .email('admin email must be an email address')
      .max(320)
      .optional(),
    tier: z.enum(['basic', 'premium']).default('basic'),
    enhancement_preferences: EnhancementPreferencesSchema.default(
      EnhancementPreferencesSchema.parse({}),
    ),
    // The registry's own field: its default unless the client information names one (null: no limit).
    rate_limit: RateLimitsSchema.shape.requests_per_minute,
  })
  .strict();
type ClientFields = z.infer<typeof ClientFieldsSchema>;

/** SDP Cloud: the Zoho OAuth client and either its refresh token or a one-time grant code. */
export interface CloudCredentials {
  auth_kind: 'oauth';
  client_id: string;
  client_secret: string;
  /** Exactly one of refresh_token and grant_code is set. */
  refresh_token?: string;
  /** Exchanged for the refresh token by `tep onboard` (single use, valid 3–10 minutes). */
  grant_code?: string;
  /** Picks the Zoho accounts server (default us). */
  data_centre: ZohoDataCentre;
  portal: string;
  /** Names the accounts server itself: allow-listed Zoho hosts only (in development also loopback). */
  accounts_url?: string;
}

/** On-premises: a technician's API key. */
export interface OnPremisesCredentials {
  auth_kind: 'authtoken';
  servicedesk_api_key: string;
}

export type ClientInfo = Pick<
  ClientFields,
  | 'company_name'
  | 'servicedesk_url'
  | 'admin_email'
  | 'tier'
  | 'enhancement_preferences'
  | 'rate_limit'
> &
  (OnPremisesCredentials | CloudCredentials);

interface Problem {
  path: string;
  message: string;
}

/**
 * What the chosen edition requires and excludes, checked on the raw input
 * next to the field checks (not after them), so every problem is reported
 * at once.
 */
function editionProblems(v: Record<string, unknown>, allowLoopbackAccounts: boolean): Problem[] {
  const edition = v['auth_kind'] === undefined ? 'authtoken' : editionOf(v['auth_kind']);
  const problems: Problem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  const has = (key: keyof ClientFields) => v[key] !== undefined;
  if (edition === 'authtoken') {
    if (!has('servicedesk_api_key')) {
      problem(
        'servicedesk_api_key',
        'ServiceDesk Plus API key is required (on-premises; for SDP Cloud set edition: cloud)',
      );
    }
    for (const field of CLOUD_FIELDS) {
      if (has(field)) problem(field, 'is only for SDP Cloud clients (edition: cloud)');
    }
  }
  if (edition !== 'oauth') return problems;
  if (has('servicedesk_api_key')) {
    problem(
      'servicedesk_api_key',
      'SDP Cloud signs in with Zoho OAuth (client_id, client_secret and a refresh_token or grant_code), not an API key',
    );
  }
  if (!has('client_id')) problem('client_id', 'the Zoho client_id is required for SDP Cloud');
  if (!has('client_secret')) {
    problem('client_secret', 'the Zoho client_secret is required for SDP Cloud');
  }
  if (!has('refresh_token') && !has('grant_code')) {
    problem(
      'grant_code',
      'SDP Cloud needs a Zoho refresh_token or a one-time grant_code (Zoho API console → Self Client)',
    );
  }
  if (has('refresh_token') && has('grant_code')) {
    problem('grant_code', 'give either refresh_token or grant_code, not both');
  }
  if (!has('portal')) {
    problem(
      'portal',
      'the SDP Cloud portal name is required (the <portal> in https://sdpondemand.manageengine.com/app/<portal>/)',
    );
  }
  const accountsUrl = v['accounts_url'];
  if (typeof accountsUrl === 'string') {
    // The registry's rule: a refresh token only ever goes to a Zoho accounts server.
    const urlProblem = zohoAccountsUrlProblem(accountsUrl.trim(), allowLoopbackAccounts);
    if (urlProblem) problem('accounts_url', `the Zoho accounts server URL ${urlProblem}`);
  }
  return problems;
}

/** The checked fields as the edition's shape (editionProblems found nothing missing). */
function toClientInfo(v: ClientFields): ClientInfo {
  const common = {
    company_name: v.company_name,
    servicedesk_url: v.servicedesk_url,
    ...(v.admin_email !== undefined ? { admin_email: v.admin_email } : {}),
    tier: v.tier,
    enhancement_preferences: v.enhancement_preferences,
    rate_limit: v.rate_limit,
  };
  if (v.auth_kind === 'authtoken') {
    return { ...common, auth_kind: 'authtoken', servicedesk_api_key: v.servicedesk_api_key! };
  }
  return {
    ...common,
    auth_kind: 'oauth',
    client_id: v.client_id!,
    client_secret: v.client_secret!,
    ...(v.refresh_token !== undefined ? { refresh_token: v.refresh_token } : {}),
    ...(v.grant_code !== undefined ? { grant_code: v.grant_code } : {}),
    data_centre: v.data_centre ?? 'us',
    portal: v.portal!,
    ...(v.accounts_url !== undefined ? { accounts_url: v.accounts_url } : {}),
  };
}

export interface ClientInfoFlags {
  file?: string;
  name?: string;
  servicedeskUrl?: string;
  servicedeskApiKey?: string;
  adminEmail?: string;
  tier?: string;
  /** JSON text, or @path to a JSON file. */
  preferences?: string;
  rateLimit?: string;
  /** cloud | on-premises */
  edition?: string;
  zohoClientId?: string;
  zohoClientSecret?: string;
  zohoRefreshToken?: string;
  zohoGrantCode?: string;
  dataCentre?: string;
  portal?: string;
  accountsUrl?: string;
}

/** Keys a client file may use, mapped to ours (the runbook's wording and the registry's). */
const FILE_ALIASES: Record<string, keyof ClientFields> = {
  company_name: 'company_name',
  name: 'company_name',
  servicedesk_url: 'servicedesk_url',
  servicedesk_api_key: 'servicedesk_api_key',
  edition: 'auth_kind',
  auth_kind: 'auth_kind',
  client_id: 'client_id',
  client_secret: 'client_secret',
  refresh_token: 'refresh_token',
  grant_code: 'grant_code',
  data_centre: 'data_centre',
  data_center: 'data_centre',
  portal: 'portal',
  accounts_url: 'accounts_url',
  admin_email: 'admin_email',
  tier: 'tier',
  enhancement_preferences: 'enhancement_preferences',
  preferences: 'enhancement_preferences',
  rate_limit: 'rate_limit',
  rate_limits: 'rate_limit',
};

/**
 * Where a client file fails to parse, without the parser's excerpt of the
 * text around it: that line may hold a secret.
 */
function syntaxProblem(error: unknown): string {
  const message = errorMessage(error);
  const firstLine = message.split('\n')[0].replace(/:\s*$/, '');
  const position = /position (\d+)/.exec(message);
  if (!firstLine.includes('"') && !firstLine.includes("'")) return firstLine;
  // JSON.parse quotes the text around the error; keep only the one offending character.
  const token = /^(Unexpected token '.')/.exec(firstLine)?.[1] ?? 'syntax error';
  return position ? `${token} at position ${position[1]}` : token;
}

async function readClientFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --file ${path}: ${errorMessage(error)}`);
  }
  let data: unknown;
  try {
    data = ['.yaml', '.yml'].includes(extname(path).toLowerCase())
      ? parseYaml(text)
      : JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--file ${path} is not valid ${extname(path).slice(1) || 'JSON'}: ${syntaxProblem(error)}`,
    );
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new UsageError(`--file ${path} must hold one object of client information`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const ours = FILE_ALIASES[key];
    if (!ours) {
      throw new UsageError(
        `--file ${path}: unknown field "${key}" (known: ${Object.keys(FILE_ALIASES).join(', ')})`,
      );
    }
    // `rate_limits: {requests_per_minute: 100}` as the registry spells it.
    out[ours] =
      ours === 'rate_limit' && value && typeof value === 'object'
        ? ((value as { requests_per_minute?: unknown }).requests_per_minute ?? null)
        : value;
  }
  return out;
}

async function parsePreferences(value: string, cwd: string): Promise<unknown> {
  const text = value.startsWith('@')
    ? await readFile(resolve(cwd, value.slice(1)), 'utf8').catch((error: unknown) => {
        throw new UsageError(
          `cannot read preferences file ${value.slice(1)}: ${errorMessage(error)}`,
        );
      })
    : value;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--preferences is not valid JSON: ${errorMessage(error)}`);
  }
}

/**
 * Flags over file. Secrets may also come from the environment, which keeps
 * them out of the process list and shell history: TEP_SERVICEDESK_API_KEY
 * (on-premises), TEP_ZOHO_CLIENT_SECRET and TEP_ZOHO_REFRESH_TOKEN or
 * TEP_ZOHO_GRANT_CODE (Cloud) — each only for its own edition, and only when
 * neither the file nor a flag gives one. No message ever echoes a value.
 */
export async function loadClientInfo(
  flags: ClientInfoFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
  options: { allowLoopbackAccounts?: boolean } = {},
): Promise<ClientInfo> {
  const merged: Record<string, unknown> = flags.file
    ? await readClientFile(resolve(cwd, flags.file))
    : {};
  const set = (key: keyof ClientFields, value: unknown) => {
    if (value !== undefined) merged[key] = value;
  };
  const fromEnv = (key: keyof ClientFields, variable: string) => {
    if (merged[key] === undefined) set(key, env[variable] || undefined);
  };
  set('company_name', flags.name);
  set('servicedesk_url', flags.servicedeskUrl);
  set('auth_kind', flags.edition);
  set('servicedesk_api_key', flags.servicedeskApiKey);
  set('client_id', flags.zohoClientId);
  set('client_secret', flags.zohoClientSecret);
  set('refresh_token', flags.zohoRefreshToken);
  set('grant_code', flags.zohoGrantCode);
  set('data_centre', flags.dataCentre?.toLowerCase());
  set('portal', flags.portal);
  set('accounts_url', flags.accountsUrl);
  const edition = merged['auth_kind'] === undefined ? 'authtoken' : editionOf(merged['auth_kind']);
  if (edition === 'oauth') {
    fromEnv('client_secret', 'TEP_ZOHO_CLIENT_SECRET');
    if (merged['refresh_token'] === undefined && merged['grant_code'] === undefined) {
      fromEnv('refresh_token', 'TEP_ZOHO_REFRESH_TOKEN');
      fromEnv('grant_code', 'TEP_ZOHO_GRANT_CODE');
    }
  } else if (edition === 'authtoken') {
    fromEnv('servicedesk_api_key', 'TEP_SERVICEDESK_API_KEY');
  }
  set('admin_email', flags.adminEmail);
  set('tier', flags.tier?.toLowerCase());
  if (flags.preferences !== undefined)
    set('enhancement_preferences', await parsePreferences(flags.preferences, cwd));
  if (flags.rateLimit !== undefined) {
    const n = Number(flags.rateLimit);
    set('rate_limit', Number.isFinite(n) ? n : flags.rateLimit);
  }
  const parsed = ClientFieldsSchema.safeParse(merged);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))),
    ...editionProblems(merged, options.allowLoopbackAccounts ?? false),
  ];
  if (!parsed.success || problems.length > 0) {
    const lines = problems.map((p) => `${p.path || '(client information)'}: ${p.message}`);
    throw new UsageError(
      `client information is incomplete or invalid:\n  - ${lines.join('\n  - ')}`,
    );
  }
  return toClientInfo(parsed.data);
}
