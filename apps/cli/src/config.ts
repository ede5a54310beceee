/**
 * Where the platform is, from flags first and the environment second. The
 * defaults are the platform's own (README "Configuration"), so `tep` works
 * against `npm start` with no setup at all.
 */
import { z } from 'zod';
import { PLATFORM_DEFAULTS, type ServiceName } from '@tep/config';
import { UsageError } from './errors';

export const DEV_ADMIN_TOKEN = 'dev-admin-token-not-for-production';

export interface GlobalFlags {
  registryUrl?: string;
  adminToken?: string;
  ingressUrl?: string;
  /** name=url, repeatable; overrides TEP_SERVICE_URLS entries of the same name. */
  serviceUrl?: string[];
  databaseUrl?: string;
  natsUrl?: string;
  natsNamespace?: string;
}

export interface CliConfig {
  registryUrl: string;
  adminToken: string;
  ingressUrl: string;
  /** Every service whose /health must answer 200 {"status":"healthy"}. */
  serviceUrls: Record<string, string>;
  /** The application role: RLS applies, so every tenant read is scoped. */
  databaseUrl: string;
  /**
   * The registry's role (DATABASE_REGISTRY_URL): the one that may read a
   * tenant's secret columns, for doctor's SDP check and onboard's
   * encrypted-at-rest check (the application role cannot).
   */
  registryDatabaseUrl: string;
  natsUrl: string;
  natsNamespace: string;
  /** The operators' NATS user (`tep-admin` in deploy/k8s/base/nats/auth.conf); unset in development. */
  natsUser?: string;
  natsPassword?: string;
  /** PEM file of the CA that signed the NATS servers' certificates. */
  natsTlsCaFile?: string;
  /**
   * The SDP credential key (SERVICEDESK_CREDENTIAL_KEY; outside production
   * TENANT_ENCRYPTION_KEY stands in, as for the services): doctor's SDP
   * check and the shared Zoho token store use it; never required.
   */
  encryptionKey?: string;
  production: boolean;
  /** Same rule as the services: http/loopback SDP URLs only outside production. */
  allowInsecureServiceDeskUrls: boolean;
}

const httpUrl = (name: string) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return ['http:', 'https:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `${name} must be an http(s) URL`)
    .transform((v) => v.replace(/\/+$/, ''));

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\/\S+$/.test(v), 'DATABASE_URL must be a postgres:// URL');

const natsUrl = z
  .string()
  .trim()
  .refine(
    (v) => v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/\S+$/.test(u.trim())),
    'NATS_URL must be one or more comma-separated nats:// URLs',
  );

const namespace = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/, 'NATS_NAMESPACE may only contain letters, digits, _ and -');

const local = (port: number) => `http://127.0.0.1:${port}`;

/** `name=url,name=url` (TEP_SERVICE_URLS) or repeated `--service-url name=url`. */
export function parseServiceUrls(entries: readonly string[]): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).trim();
    if (eq <= 0 || !/^[a-z0-9-]+$/i.test(name)) {
      throw new UsageError(`service URL "${entry}" must look like name=http://host:port`);
    }
    const parsed = httpUrl(`service URL for ${name}`).safeParse(entry.slice(eq + 1));
    if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
    urls[name] = parsed.data;
  }
  return urls;
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
  return parsed.data;
}

export function resolveConfig(
  flags: GlobalFlags = {},
  env: NodeJS.ProcessEnv = process.env,
): CliConfig {
  const production = env['NODE_ENV'] === 'production';
  const registryUrl = parse(
    httpUrl('TEP_REGISTRY_URL'),
    flags.registryUrl ??
      env['TEP_REGISTRY_URL'] ??
      local(PLATFORM_DEFAULTS.ports['tenant-registry']),
  );
  const ingressUrl = parse(
    httpUrl('TEP_INGRESS_URL'),
    flags.ingressUrl ?? env['TEP_INGRESS_URL'] ?? local(PLATFORM_DEFAULTS.ports['webhook-ingress']),
  );

  const adminToken = flags.adminToken ?? env['TEP_ADMIN_TOKEN'] ?? '';
  if (production && (!adminToken || adminToken === DEV_ADMIN_TOKEN)) {
    throw new UsageError(
      'TEP_ADMIN_TOKEN is required in production (the development token is refused there)',
    );
  }

  // The registry and ingress are checked where the CLI talks to them, unless
  // TEP_SERVICE_URLS says their health endpoint lives elsewhere.
  const serviceUrls: Record<string, string> = Object.fromEntries(
    (Object.keys(PLATFORM_DEFAULTS.ports) as ServiceName[]).map((name) => [
      name,
      local(PLATFORM_DEFAULTS.ports[name]),
    ]),
  );
  serviceUrls['tenant-registry'] = registryUrl;
  serviceUrls['webhook-ingress'] = ingressUrl;
  Object.assign(
    serviceUrls,
    parseServiceUrls((env['TEP_SERVICE_URLS'] ?? '').split(',')),
    parseServiceUrls(flags.serviceUrl ?? []),
  );

  const insecure = env['ALLOW_INSECURE_SERVICEDESK_URLS'];
  return {
    registryUrl,
    adminToken: adminToken || DEV_ADMIN_TOKEN,
    ingressUrl,
    serviceUrls,
    databaseUrl: parse(
      postgresUrl,
      flags.databaseUrl ?? env['DATABASE_URL'] ?? PLATFORM_DEFAULTS.databaseUrl,
    ),
    registryDatabaseUrl: parse(
      postgresUrl,
      env['DATABASE_REGISTRY_URL'] ?? PLATFORM_DEFAULTS.databaseRegistryUrl,
    ),
    natsUrl: parse(natsUrl, flags.natsUrl ?? env['NATS_URL'] ?? PLATFORM_DEFAULTS.natsUrl),
    natsNamespace: parse(namespace, flags.natsNamespace ?? env['NATS_NAMESPACE'] ?? ''),
    natsUser: env['NATS_USER'] || undefined,
    natsPassword: env['NATS_PASSWORD'] || undefined,
    natsTlsCaFile: env['NATS_TLS_CA_FILE'] || undefined,
    encryptionKey:
      env['SERVICEDESK_CREDENTIAL_KEY'] ||
      (production ? undefined : env['TENANT_ENCRYPTION_KEY']) ||
      undefined,
    production,
    allowInsecureServiceDeskUrls:
      insecure === undefined ? !production : ['true', '1', 'yes'].includes(insecure),
  };
}
