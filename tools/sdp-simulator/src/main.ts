/*
 * Standalone ServiceDesk Plus simulator for demos and local runs:
 *   node -r ./tools/register.js tools/sdp-simulator/src/main.ts
 * Environment: SDP_SIMULATOR_HOST (127.0.0.1), SDP_SIMULATOR_PORT (8090),
 * SDP_SIMULATOR_MODE (onprem | cloud), SDP_SIMULATOR_API_KEYS (comma-separated;
 * default: a printed development key), SDP_SIMULATOR_SEED (demo | empty).
 */
import { z } from 'zod';
import { DEMO_SEED } from './demo-data';
import { DEV_API_KEY, startSdpSimulator } from './server';

const envSchema = z.object({
  SDP_SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SDP_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  SDP_SIMULATOR_MODE: z.enum(['onprem', 'cloud']).default('onprem'),
  SDP_SIMULATOR_API_KEYS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    ),
  SDP_SIMULATOR_SEED: z.enum(['demo', 'empty']).default('demo'),
});

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    // Names only: a value may be a key.
    for (const issue of parsed.error.issues) {
      console.error(`Invalid ${issue.path.join('.')}: ${issue.message}`);
    }
    process.exit(1);
  }
  const env = parsed.data;
  const simulator = await startSdpSimulator({
    host: env.SDP_SIMULATOR_HOST,
    port: env.SDP_SIMULATOR_PORT,
    mode: env.SDP_SIMULATOR_MODE,
    apiKeys: env.SDP_SIMULATOR_API_KEYS,
    seed: env.SDP_SIMULATOR_SEED === 'demo' ? DEMO_SEED : undefined,
    log: (line) => console.log(line),
  });

  console.log(`SDP simulator (${simulator.mode}) listening on ${simulator.url}/api/v3`);
  if (simulator.credentials.oauth) {
    const { accountsUrl, clientId, clientSecret, refreshToken } = simulator.credentials.oauth;
    console.log(`OAuth token endpoint: POST ${accountsUrl}/oauth/v2/token`);
    console.log(`  development client_id=${clientId} client_secret=${clientSecret}`);
    console.log(`  development refresh_token=${refreshToken}`);
    const grant = simulator.control.issueGrantCode();
    console.log(
      `  one-time grant_code=${grant.code} (valid ${grant.expiresInSeconds / 60} min; another: POST ${simulator.url}/_sim/grant-code)`,
    );
  } else if (env.SDP_SIMULATOR_API_KEYS.length) {
    console.log(
      `Accepting ${env.SDP_SIMULATOR_API_KEYS.length} API key(s) from SDP_SIMULATOR_API_KEYS`,
    );
  } else {
    console.log(`Development API key (header "authtoken"): ${DEV_API_KEY}`);
  }
  if (env.SDP_SIMULATOR_SEED === 'demo') {
    console.log('Seeded demo data; TKT-12345 resolves by display id, e.g.');
    const header =
      simulator.mode === 'cloud' ? 'Authorization: Zoho-oauthtoken <token>' : 'authtoken: <key>';
    console.log(`  curl -H '${header}' ${simulator.url}/api/v3/requests/TKT-12345`);
  }

  const stop = () => {
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('SDP simulator failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
