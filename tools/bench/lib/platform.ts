/**
 * The platform's services as real processes (`apps/<name>/src/main.ts`),
 * tenants created through the real tenant-registry API, and signed
 * webhooks as SDP sends them.
 */
import { createHmac } from 'node:crypto';
import { testEncryptionKey } from '@tep/testing';
import { NATS_URL } from './environment';
import { ServiceProcess, freePort } from './processes';

export type ServiceName =
  | 'webhook-ingress'
  | 'tenant-registry'
  | 'context-gatherer'
  | 'llm-synthesizer'
  | 'servicedesk-poster';

export const ALL_SERVICES: ServiceName[] = [
  'tenant-registry',
  'webhook-ingress',
  'context-gatherer',
  'llm-synthesizer',
  'servicedesk-poster',
];

export const ADMIN_TOKEN = 'bench-admin-token-'.padEnd(48, 'x');

export interface Service {
  name: ServiceName;
  url: string;
  proc: ServiceProcess;
}

export interface PlatformSettings {
  namespace: string;
  appUrl: string;
  /** The poster's role (its own; the application role cannot read SDP credentials). */
  posterUrl?: string;
  registryUrl: string;
  logDir: string;
  encryptionKey?: string;
  /** Extra variables per service (e.g. the LLM endpoint for the synthesizer). */
  extraEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  cpu?: Partial<Record<ServiceName, string>>;
  nodeArgs?: Partial<Record<ServiceName, string[]>>;
  /** Run the production build in this directory (dist layout) instead of the TypeScript sources. */
  compiledDir?: string;
}

export interface Platform {
  services: Partial<Record<ServiceName, Service>>;
  encryptionKey: string;
  get(name: ServiceName): Service;
  stop(): Promise<void>;
}

/** Starts the named services (the registry first: it fills the tenant directory). */
export async function startPlatform(
  names: ServiceName[],
  settings: PlatformSettings,
): Promise<Platform> {
  const encryptionKey = settings.encryptionKey ?? testEncryptionKey();
  const common = {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    NATS_URL,
    NATS_NAMESPACE: settings.namespace,
    TENANT_ENCRYPTION_KEY: encryptionKey,
    ALLOW_INSECURE_SERVICEDESK_URLS: 'true',
    LOG_LEVEL: 'info',
    DATABASE_URL: settings.appUrl,
  };
  const services: Partial<Record<ServiceName, Service>> = {};
  const start = async (name: ServiceName) => {
    const env: Record<string, string> = { ...common };
    if (name === 'tenant-registry') {
      Object.assign(env, {
        DATABASE_URL: settings.registryUrl,
        ADMIN_TOKENS: ADMIN_TOKEN,
        GRPC_PORT: String(await freePort()),
      });
    }
    if (name === 'servicedesk-poster' && settings.posterUrl) env.DATABASE_URL = settings.posterUrl;
    Object.assign(env, settings.extraEnv?.[name] ?? {});
    const proc = await ServiceProcess.start({
      name,
      script: settings.compiledDir ? `${settings.compiledDir}/apps/${name}/src/main.js` : undefined,
      compiled: settings.compiledDir !== undefined,
      env,
      cpu: settings.cpu?.[name],
      output: { logDir: settings.logDir },
      nodeArgs: settings.nodeArgs?.[name],
    });
    services[name] = { name, url: proc.url, proc };
  };
  const platform: Platform = {
    services,
    encryptionKey,
    get(name) {
      const service = services[name];
      if (!service) throw new Error(`${name} is not running`);
      return service;
    },
    async stop() {
      await Promise.all(Object.values(services).map((s) => s.proc.kill()));
    },
  };
  try {
    if (names.includes('tenant-registry')) await start('tenant-registry');
    await Promise.all(names.filter((n) => n !== 'tenant-registry').map(start));
  } catch (error) {
    await platform.stop();
    throw error;
  }
  return platform;
}

export interface Tenant {
  tenant_id: string;
  webhook_secret: string;
  name: string;
}

export async function createTenant(
  registryUrl: string,
  body: { name: string; servicedesk_url: string; servicedesk_api_key: string },
): Promise<Tenant> {
  const res = await fetch(`${registryUrl}/tenants`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    // No rate limit: the benchmark measures what the platform carries.
    body: JSON.stringify({ ...body, tier: 'basic', rate_limits: { requests_per_minute: null } }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /tenants answered ${res.status}: ${text}`);
  const created = JSON.parse(text) as { tenant_id: string; webhook_secret: string };
  return { tenant_id: created.tenant_id, webhook_secret: created.webhook_secret, name: body.name };
}

/** Hex HMAC-SHA256 of the exact bytes, keyed with the secret's UTF-8 bytes (README contract). */
export function sign(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function webhookUrl(ingressUrl: string, tenantId: string): string {
  return `${ingressUrl}/webhook/servicedesk?tenant_id=${tenantId}`;
}

/**
 * A keep-alive socket the server closed just as the client reused it: no
 * request reached the ingress, and SDP would send the webhook again.
 */
const isStaleSocket = (error: unknown): boolean => {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
};

export async function postWebhook(
  ingressUrl: string,
  tenant: Tenant,
  body: string,
): Promise<{ status: number; text: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await postWebhookOnce(ingressUrl, tenant, body);
    } catch (error) {
      if (attempt >= 3 || !isStaleSocket(error)) throw error;
    }
  }
}

async function postWebhookOnce(
  ingressUrl: string,
  tenant: Tenant,
  body: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(webhookUrl(ingressUrl, tenant.tenant_id), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-ServiceDesk-Signature': sign(tenant.webhook_secret, body),
    },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
}

/** Waits until the ingress knows the tenant: a signed, schema-breaking body gets 422, not 403. */
export async function waitForTenantAtIngress(
  ingressUrl: string,
  tenant: Tenant,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await postWebhook(ingressUrl, tenant, '{"ticket_id":"probe","subject":""}');
    if (reply.status === 422) return;
    if (Date.now() > deadline)
      throw new Error(`ingress does not know tenant ${tenant.tenant_id}: ${reply.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A realistic SDP payload (the runbook's test payload, made unique by `n`). */
export function webhookBody(n: number, prefix: string, ticketId?: string): string {
  return JSON.stringify({
    ticket_id: ticketId ?? `${prefix}-${n}`,
    subject: `Database connection timeout error #${n}`,
    description:
      "Application reports 'Connection timeout' when querying PostgreSQL database on db01. " +
      'Error started at 10:30 AM. All other services operational.',
    priority: 'High',
    status: 'Open',
    requester_email: 'user@acmecorp.com',
    created_at: '2025-11-03T10:30:00Z',
  });
}
