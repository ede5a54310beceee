/**
 * `npm run db:reencrypt-credentials`: re-encrypts every tenant's stored SDP
 * credential under the first key of SERVICEDESK_CREDENTIAL_KEY. For a
 * rotation of that key (`new,old`: afterwards `old` can be dropped) and for
 * the move to a key of its own (credentials stored before it existed are
 * under TENANT_ENCRYPTION_KEY, whose keys are read as older keys here).
 * Runs as the registry's role; each change is audited. Safe to run again.
 */
import { PLATFORM_DEFAULTS, encryptionKeySchema, loadConfig, postgresUrl } from '@tep/config';
import { RegistryAdminStore, createDataSource } from '@tep/data';
import { SecretCipher } from '@tep/encryption';
import { z } from 'zod';

const schema = z.object({
  DATABASE_REGISTRY_URL: postgresUrl.default(PLATFORM_DEFAULTS.databaseRegistryUrl),
  SERVICEDESK_CREDENTIAL_KEY: encryptionKeySchema,
  /** Keys credentials may still be under (the upgrade); never used to encrypt. */
  TENANT_ENCRYPTION_KEY: encryptionKeySchema.optional(),
});

export async function reencryptCredentials(
  env: z.infer<typeof schema>,
  log: (line: string) => void = console.log,
): Promise<{ tenants: number; reencrypted: number }> {
  const cipher = SecretCipher.fromEnv(
    [env.SERVICEDESK_CREDENTIAL_KEY, env.TENANT_ENCRYPTION_KEY].filter(Boolean).join(','),
    'SERVICEDESK_CREDENTIAL_KEY',
  );
  const dataSource = createDataSource({
    url: env.DATABASE_REGISTRY_URL,
    poolSize: 1,
    applicationName: 'reencrypt-credentials',
  });
  await dataSource.initialize();
  const store = new RegistryAdminStore(dataSource);
  let tenants = 0;
  let reencrypted = 0;
  try {
    for (let after: string | undefined; ;) {
      const page = await store.list({ limit: 200, after });
      if (page.length === 0) break;
      for (const tenant of page) {
        tenants++;
        if (!cipher.needsRotation(tenant.servicedesk_api_key_encrypted)) continue;
        await store.update(
          tenant.tenant_id,
          { servicedesk_api_key_encrypted: cipher.rotate(tenant.servicedesk_api_key_encrypted) },
          {
            actor: 'db:reencrypt-credentials',
            action: 'tenant.servicedesk_credential_reencrypted',
            tenantId: tenant.tenant_id,
          },
        );
        reencrypted++;
      }
      after = page[page.length - 1].tenant_id;
    }
  } finally {
    await dataSource.destroy();
  }
  log(`[db:reencrypt-credentials] ${reencrypted} of ${tenants} tenants re-encrypted`);
  return { tenants, reencrypted };
}

if (require.main === module) {
  reencryptCredentials(loadConfig(schema)).catch((error: unknown) => {
    // The message names variables, never a key (SecretCipher's errors).
    console.error(
      `[db:reencrypt-credentials] failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  });
}
