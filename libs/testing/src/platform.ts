/**
 * The five services as real processes against one spec's database and NATS
 * namespace, each with its own database role, and the two things every
 * end-to-end spec does with them: create a tenant through the admin API and
 * send a signed webhook once the ingress knows the tenant.
 */
import type { ServiceName } from '@tep/config';
import type { TestDatabase } from './database';
import { testEncryptionKey } from './keys';
import { eventually } from './nats';
import { freePort, startServiceProcess, type ServiceProcess } from './processes';

export interface TestPlatform {
  registry: ServiceProcess;
  ingress: ServiceProcess;
  gatherer: ServiceProcess;
  synthesizer: ServiceProcess;
  poster: ServiceProcess;
  all: ServiceProcess[];
  adminToken: string;
  /** POST /tenants (201 expected), with the SDP credential given. */
  createTenant(input: {
    name: string;
    servicedesk_url: string;
    servicedesk_api_key: string;
  }): Promise<{ tenant_id: string; webhook_secret: string }>;
  /**
   * Sends the webhook (with `send`, e.g. the SDP simulator's signed sender)
   * until the ingress accepts it: it answers 403 for a tenant until the
   * tenant directory reaches it, milliseconds after creation.
   */
  sendUntilAccepted(
    send: (request: {
      url: string;
      secret: string;
      payload: object;
    }) => Promise<{ status: number }>,
    tenant: { tenant_id: string; webhook_secret: string },
    payload: object,
  ): Promise<void>;
  kill(): Promise<void>;
}

/** Starts them together: the others wait for the registry's JetStream topology. */
export async function startTestPlatform(options: {
  db: TestDatabase;
  /** Every service's variables (NATS_URL, NATS_NAMESPACE, …). */
  env: Record<string, string>;
  /** A service's own additions (its NATS user, LLM settings, …). */
  perService?: Partial<Record<ServiceName, Record<string, string>>>;
  adminToken?: string;
}): Promise<TestPlatform> {
  const adminToken = options.adminToken ?? 'test-platform-admin-token-'.padEnd(40, 'x');
  const key = testEncryptionKey();
  const common = {
    TENANT_ENCRYPTION_KEY: key,
    ALLOW_INSECURE_SERVICEDESK_URLS: 'true',
    DATABASE_URL: options.db.appUrl,
    ...options.env,
  };
  const envOf = (name: ServiceName, own: Record<string, string> = {}) => ({
    ...common,
    ...own,
    ...options.perService?.[name],
  });
  // Known before it starts: the notes' feedback links point at it.
  const ingressPort = await freePort();
  const [registry, ingress, gatherer, synthesizer, poster] = await Promise.all([
    startServiceProcess(
      'tenant-registry',
      envOf('tenant-registry', { DATABASE_URL: options.db.registryUrl, ADMIN_TOKENS: adminToken }),
    ),
    startServiceProcess('webhook-ingress', envOf('webhook-ingress'), undefined, ingressPort),
    startServiceProcess('context-gatherer', envOf('context-gatherer')),
    startServiceProcess('llm-synthesizer', envOf('llm-synthesizer')),
    startServiceProcess(
      'servicedesk-poster',
      envOf('servicedesk-poster', {
        DATABASE_URL: options.db.posterUrl,
        PUBLIC_WEBHOOK_BASE_URL: `http://127.0.0.1:${ingressPort}`,
      }),
    ),
  ]);
  const all = [registry, ingress, gatherer, synthesizer, poster];
  return {
    registry,
    ingress,
    gatherer,
    synthesizer,
    poster,
    all,
    adminToken,
    async createTenant(input) {
      const res = await fetch(`${registry.url}/tenants`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...input, tier: 'basic' }),
      });
      if (res.status !== 201)
        throw new Error(`POST /tenants answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { tenant_id: string; webhook_secret: string };
    },
    async sendUntilAccepted(send, tenant, payload) {
      await eventually(async () => {
        const reply = await send({
          url: `${ingress.url}/webhook/servicedesk?tenant_id=${tenant.tenant_id}`,
          secret: tenant.webhook_secret,
          payload,
        });
        return reply.status === 202 ? true : undefined;
      }, 15_000);
    },
    async kill() {
      await Promise.all(all.map((s) => s.kill()));
    },
  };
}
