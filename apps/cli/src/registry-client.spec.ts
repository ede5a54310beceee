import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CheckFailedError, ExitCode, UnreachableError, UsageError } from './errors';
import { RegistryClient, TenantNotFoundError } from './registry-client';

const TENANT = '550e8400-e29b-41d4-a716-446655440000';
const view = {
  tenant_id: TENANT,
  name: 'Acme Corp MSP',
  tier: 'basic',
  status: 'active',
  admin_email: null,
  servicedesk_url: 'https://sdp.example.com',
  servicedesk_settings: {},
  webhook_url: `http://127.0.0.1:8080/webhook/servicedesk?tenant_id=${TENANT}`,
  webhook_auth_scheme: 'hmac',
  webhook_auth_weaker: false,
  previous_webhook_secret_expires_at: null,
  enhancement_preferences: {},
  rate_limits: { requests_per_minute: null },
  onboarding_record: null,
  created_at: '2025-11-03T10:30:00.000Z',
  updated_at: '2025-11-03T10:30:00.000Z',
};

type Handler = (req: IncomingMessage, body: string) => { status: number; body?: unknown };

describe('registry client', () => {
  let server: Server;
  let url: string;
  let handler: Handler;
  const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        const reply = handler(req, body);
        res.writeHead(reply.status, { 'Content-Type': 'application/json' });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (seen.length = 0));

  it('sends the bearer token and the acknowledgement the weaker scheme needs', async () => {
    handler = () => ({
      status: 200,
      body: { ...view, webhook_auth_scheme: 'static_header', webhook_auth_weaker: true },
    });
    const client = new RegistryClient(url, 'the-token');
    const result = await client.setWebhookAuthScheme(TENANT, 'static_header');
    expect(result.webhook_auth_weaker).toBe(true);
    expect(seen[0]).toMatchObject({
      method: 'PUT',
      url: `/tenants/${TENANT}/webhook-auth-scheme`,
      auth: 'Bearer the-token',
    });
    expect(JSON.parse(seen[0].body)).toEqual({
      scheme: 'static_header',
      acknowledge_weaker_security: true,
    });
  });

  it('follows next_cursor through every page of tenants', async () => {
    const second = { ...view, tenant_id: '650e8400-e29b-41d4-a716-446655440000' };
    handler = (req) =>
      req.url?.includes('after=')
        ? { status: 200, body: { tenants: [second], next_cursor: null } }
        : { status: 200, body: { tenants: [view], next_cursor: TENANT } };
    const tenants = await new RegistryClient(url, 't').listTenants();
    expect(tenants.map((t) => t.tenant_id)).toEqual([TENANT, second.tenant_id]);
    expect(seen.map((s) => s.url)).toEqual([
      '/tenants?limit=200',
      `/tenants?limit=200&after=${TENANT}`,
    ]);
  });

  it('maps refusals to exit codes: 401 usage, 404 not found, 422 usage with fields, 5xx unreachable', async () => {
    const client = new RegistryClient(url, 'bad');
    handler = () => ({ status: 401, body: { message: 'nope' } });
    await expect(client.listTenants()).rejects.toThrow(UsageError);

    handler = () => ({ status: 404, body: { error: 'not_found' } });
    expect(await client.getTenant(TENANT)).toBeUndefined();
    const gone = await client.offboard(TENANT, true).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(TenantNotFoundError);
    expect((gone as CheckFailedError).exitCode).toBe(ExitCode.CheckFailed);
    expect(seen.at(-1)!.url).toBe(`/tenants/${TENANT}?purge=true`);

    handler = () => ({
      status: 422,
      body: {
        message: 'Request body is invalid',
        fields: [{ field: 'servicedesk_url', message: 'must be https' }],
      },
    });
    await expect(
      client.createTenant({
        name: 'x',
        servicedesk_url: 'http://x',
        servicedesk_api_key: 'k',
        tier: 'basic',
      }),
    ).rejects.toThrow(
      'the tenant registry refused the request: Request body is invalid (servicedesk_url: must be https)',
    );

    handler = () => ({ status: 503, body: { message: 'down' } });
    await expect(client.listTenants()).rejects.toThrow(UnreachableError);
  });

  it('reports a registry that does not answer as unreachable', async () => {
    // A port that was just free: nothing listens there (fetch refuses low "bad ports" by itself).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = new RegistryClient(`http://127.0.0.1:${port}`, 't');
    const error = await client.listTenants().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});
