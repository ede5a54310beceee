/**
 * The runbook's "Required Information from Client", from flags and/or a
 * client.json / client.yaml file (flags win), validated before anything is
 * created so a typo costs nothing.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { EnhancementPreferencesSchema } from '@tep/contracts';
import { UsageError, errorMessage } from './errors';

export const ClientInfoSchema = z
  .object({
    company_name: z.string().trim().min(1, 'company name is required').max(200),
    servicedesk_url: z
      .string()
      .trim()
      .url('ServiceDesk Plus URL must be an absolute URL')
      .refine((v) => /^https?:\/\//i.test(v), 'ServiceDesk Plus URL must be http(s)')
      .transform((v) => v.replace(/\/+$/, '')),
    servicedesk_api_key: z.string().trim().min(1, 'ServiceDesk Plus API key is required').max(1000),
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
    rate_limit: z.number().int().min(1).max(100_000).nullable().default(null),
  })
  .strict();
export type ClientInfo = z.infer<typeof ClientInfoSchema>;

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
}

/** Keys a client file may use, mapped to ours (the runbook's wording and the registry's). */
const FILE_ALIASES: Record<string, keyof ClientInfo> = {
  company_name: 'company_name',
  name: 'company_name',
  servicedesk_url: 'servicedesk_url',
  servicedesk_api_key: 'servicedesk_api_key',
  admin_email: 'admin_email',
  tier: 'tier',
  enhancement_preferences: 'enhancement_preferences',
  preferences: 'enhancement_preferences',
  rate_limit: 'rate_limit',
  rate_limits: 'rate_limit',
};

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
      `--file ${path} is not valid ${extname(path).slice(1) || 'JSON'}: ${errorMessage(error)}`,
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
 * Flags over file; the API key may also come from TEP_SERVICEDESK_API_KEY,
 * which keeps it out of the process list and shell history.
 */
export async function loadClientInfo(
  flags: ClientInfoFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<ClientInfo> {
  const merged: Record<string, unknown> = flags.file
    ? await readClientFile(resolve(cwd, flags.file))
    : {};
  const set = (key: keyof ClientInfo, value: unknown) => {
    if (value !== undefined) merged[key] = value;
  };
  set('company_name', flags.name);
  set('servicedesk_url', flags.servicedeskUrl);
  set(
    'servicedesk_api_key',
    flags.servicedeskApiKey ??
      (merged['servicedesk_api_key'] === undefined ? env['TEP_SERVICEDESK_API_KEY'] : undefined),
  );
  set('admin_email', flags.adminEmail);
  set('tier', flags.tier?.toLowerCase());
  if (flags.preferences !== undefined)
    set('enhancement_preferences', await parsePreferences(flags.preferences, cwd));
  if (flags.rateLimit !== undefined) {
    const n = Number(flags.rateLimit);
    set('rate_limit', Number.isFinite(n) ? n : flags.rateLimit);
  }
  const parsed = ClientInfoSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join('.') || '(client information)'}: ${i.message}`,
    );
    throw new UsageError(
      `client information is incomplete or invalid:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return parsed.data;
}
