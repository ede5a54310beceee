/**
 * `npm start`: the whole platform on this machine, in one terminal.
 * Runs the migrations, starts the SDP simulator and the five services with
 * prefixed logs, creates a demo tenant with some history, and prints the
 * commands to send the runbook's test webhook and read the note.
 * Ctrl-C stops everything.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLATFORM_DEFAULTS, type ServiceName } from '@tep/config';
import { RegistryAdminStore, TenantDatabase, createDataSource, provisionDatabase } from '@tep/data';
import { Fernet } from '@tep/encryption';
import { seedDemoData, RUNBOOK_TEST_PAYLOAD } from '@tep/demo';
import { ServiceProcess } from '@tep/service-process';

const ROOT = join(__dirname, '..', '..');
const STATE_DIR = join(ROOT, '.dev');
const DEV_ADMIN_TOKEN = 'dev-admin-token-not-for-production';
const SIMULATOR_URL = 'http://127.0.0.1:8090';
const REGISTRY_URL = `http://127.0.0.1:${PLATFORM_DEFAULTS.ports['tenant-registry']}`;
const INGRESS_URL = `http://127.0.0.1:${PLATFORM_DEFAULTS.ports['webhook-ingress']}`;

interface DevState {
  encryptionKey: string;
  simulatorApiKey: string;
  demoTenant?: { tenant_id: string; webhook_secret: string };
}

/** Development secrets persist in .dev/ (git-ignored) so restarts keep tenants readable. */
function loadState(): DevState {
  mkdirSync(STATE_DIR, { recursive: true });
  const file = join(STATE_DIR, 'state.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevState;
  const state: DevState = {
    encryptionKey: Fernet.generateKey(),
    simulatorApiKey: `sdp-dev-${Date.now().toString(36)}`,
  };
  saveState(state);
  return state;
}

function saveState(state: DevState): void {
  writeFileSync(join(STATE_DIR, 'state.json'), JSON.stringify(state, null, 2), { mode: 0o600 });
}

async function ensureDemoTenant(
  state: DevState,
): Promise<{ tenant_id: string; webhook_secret: string }> {
  const registryDb = createDataSource({
    url: process.env.DATABASE_REGISTRY_URL ?? PLATFORM_DEFAULTS.databaseRegistryUrl,
    poolSize: 1,
  });
  await registryDb.initialize();
  try {
    if (
      state.demoTenant &&
      (await new RegistryAdminStore(registryDb).get(state.demoTenant.tenant_id))
    ) {
      return state.demoTenant;
    }
  } finally {
    await registryDb.destroy();
  }
  const res = await fetch(`${REGISTRY_URL}/tenants`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${DEV_ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: 'Acme Corp MSP (demo)',
      servicedesk_url: SIMULATOR_URL,
      servicedesk_api_key: state.simulatorApiKey,
      tier: 'basic',
      admin_email: 'admin@acmecorp.com',
    }),
  });
  if (res.status !== 201)
    throw new Error(`creating the demo tenant failed: ${res.status} ${await res.text()}`);
  const created = (await res.json()) as { tenant_id: string; webhook_secret: string };
  state.demoTenant = { tenant_id: created.tenant_id, webhook_secret: created.webhook_secret };
  saveState(state);
  return state.demoTenant;
}

async function seed(tenantId: string): Promise<void> {
  const appDb = createDataSource({
    url: process.env.DATABASE_URL ?? PLATFORM_DEFAULTS.databaseUrl,
    poolSize: 1,
  });
  await appDb.initialize();
  try {
    await new TenantDatabase(appDb).withTenant(tenantId, seedDemoData);
  } finally {
    await appDb.destroy();
  }
}

function instructions(
  tenant: { tenant_id: string; webhook_secret: string },
  apiKey: string,
): string {
  const payloadFile = join(STATE_DIR, 'test_webhook_payload.json');
  writeFileSync(payloadFile, RUNBOOK_TEST_PAYLOAD);
  return `
================================================================================
 Ticket Enhancement Platform is up (development mode)
   webhook-ingress   ${INGRESS_URL}      tenant-registry  ${REGISTRY_URL}
   SDP simulator     ${SIMULATOR_URL}      admin token      ${DEV_ADMIN_TOKEN}
   demo tenant       ${tenant.tenant_id}
   webhook secret    ${tenant.webhook_secret}

 NATS here is the development server on loopback, without authentication:
 for this machine only; never expose it. Production refuses it: each service
 connects over TLS as its own NATS user (deploy/k8s/base/nats/auth.conf).

 Send the runbook's test webhook (step 5.1, corrected: sign the file's exact
 bytes and send those bytes with --data-binary, not -d):

   TENANT_ID=${tenant.tenant_id}
   WEBHOOK_SECRET=${tenant.webhook_secret}
   SIGNATURE=$(openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" < ${payloadFile} | awk '{print $NF}')
   curl -sS -X POST "${INGRESS_URL}/webhook/servicedesk?tenant_id=$TENANT_ID" \\
     -H "Content-Type: application/json" \\
     -H "X-ServiceDesk-Signature: $SIGNATURE" \\
     --data-binary @${payloadFile}

 Read the note it produced on TKT-12345 (as SDP's API returns it):

   curl -sS -H "authtoken: ${apiKey}" -H "Accept: application/vnd.manageengine.sdp.v3+json" \\
     ${SIMULATOR_URL}/api/v3/requests/TKT-12345/notes
================================================================================
`;
}

async function main(): Promise<void> {
  const state = loadState();
  await provisionDatabase({
    adminUrl: process.env.DATABASE_ADMIN_URL ?? PLATFORM_DEFAULTS.databaseAdminUrl,
    ownerUrl: process.env.DATABASE_OWNER_URL ?? PLATFORM_DEFAULTS.databaseOwnerUrl,
    applicationUrl: process.env.DATABASE_URL ?? PLATFORM_DEFAULTS.databaseUrl,
    registryUrl: process.env.DATABASE_REGISTRY_URL ?? PLATFORM_DEFAULTS.databaseRegistryUrl,
    posterUrl: process.env.DATABASE_POSTER_URL ?? PLATFORM_DEFAULTS.databasePosterUrl,
    log: (line) => console.log(`[db:migrate] ${line}`),
  });

  // Over what the shell sets: the processes get the rest of its environment as it is.
  const env = {
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    TENANT_ENCRYPTION_KEY: process.env.TENANT_ENCRYPTION_KEY ?? state.encryptionKey,
    ADMIN_TOKENS: process.env.ADMIN_TOKENS ?? DEV_ADMIN_TOKEN,
    SDP_SIMULATOR_API_KEYS: process.env.SDP_SIMULATOR_API_KEYS ?? state.simulatorApiKey,
    // Readable, coloured lines in the terminal; LOG_FORMAT=json for the raw lines.
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
    HOST: process.env.HOST ?? '127.0.0.1',
  };
  const services: ServiceName[] = [
    'webhook-ingress',
    'tenant-registry',
    'context-gatherer',
    'llm-synthesizer',
    'servicedesk-poster',
  ];
  const names = ['sdp-simulator', ...services];
  const width = Math.max(...names.map((n) => n.length));
  const colour = (index: number, text: string) =>
    process.stdout.isTTY ? `\x1b[${[90, 36, 32, 33, 35, 34][index % 6]}m${text}\x1b[0m` : text;
  // Each line prefixed with its process's name, as one terminal shows them all.
  const output = (name: string) => ({
    onLine: (line: string) =>
      console.log(`${colour(names.indexOf(name), `[${name.padEnd(width)}]`)} ${line}`),
  });

  const running: ServiceProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(running.map((p) => p.kill('SIGTERM')));
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  const start = async (options: Parameters<typeof ServiceProcess.start>[0]) => {
    const proc = await ServiceProcess.start(options);
    running.push(proc);
    // One process ending on its own ends the platform: the rest would be half of it.
    void proc.exited.then((code) => {
      if (stopping) return;
      console.error(`[start] ${proc.name} exited with ${code}; stopping the others`);
      void stopAll(1);
    });
    return proc;
  };

  try {
    await Promise.all([
      start({
        name: 'sdp-simulator',
        script: 'tools/sdp-simulator/src/main.ts',
        port: Number(new URL(SIMULATOR_URL).port),
        portVariable: 'SDP_SIMULATOR_PORT',
        readyPath: '/_sim/calls',
        env,
        output: output('sdp-simulator'),
      }),
      ...services.map((name) =>
        start({ name, port: PLATFORM_DEFAULTS.ports[name], env, output: output(name) }),
      ),
    ]);
  } catch (error) {
    console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
  }

  try {
    const tenant = await ensureDemoTenant(state);
    await seed(tenant.tenant_id);
    console.log(instructions(tenant, env.SDP_SIMULATOR_API_KEYS));
  } catch (error) {
    console.error(
      `[start] demo setup failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
