/**
 * `tep doctor [--tenant <id>]`: the prerequisites, and for one tenant what
 * the runbook's troubleshooting section asks first — is it registered and
 * active, does the ingress know it, what happened to its recent tickets,
 * and (only when TENANT_ENCRYPTION_KEY is set) can we reach its SDP — for
 * a Cloud tenant with the platform's shared Zoho access token, so the check
 * mints none of its own while NATS is reachable.
 */
import { ServiceDeskSettingsSchema } from '@tep/contracts';
import { isUuid } from '@tep/data';
import { SecretCipher } from '@tep/encryption';
import {
  clientForTenant,
  serviceDeskGuard,
  type TenantServiceDeskConfig,
} from '@tep/servicedesk-client';
import type { Client } from 'pg';
import { exitCodeOf, runPrerequisites } from '../checks';
import type { CommandContext, CommandOutcome } from '../context';
import { enhancementStats, readAsTenant, withPg } from '../db';
import { CliError, ExitCode, errorMessage, worstExitCode, notTenantId } from '../errors';
import {
  countBySubject,
  deadLetterFilter,
  directoryEntry,
  sharedTokenStoreOrWarn,
  withNats,
} from '../nats';
import type { Status } from '../output';
import { RegistryClient, type TenantView } from '../registry-client';

interface DoctorCheck {
  name: string;
  status: Status;
  detail: string;
  unreachable?: boolean;
}

/** The tenant's SDP connection columns, read under its own RLS context as the app role. */
async function loadServiceDeskConfig(
  client: Client,
  tenantId: string,
): Promise<TenantServiceDeskConfig | undefined> {
  return readAsTenant(client, tenantId, async () => {
    const { rows } = await client.query<TenantServiceDeskConfig>(
      `SELECT servicedesk_url, servicedesk_api_key_encrypted, servicedesk_settings
         FROM tenant_configs WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0];
  });
}

async function tenantChecks(
  tenantId: string,
  sinceHours: number,
  ctx: CommandContext,
): Promise<DoctorCheck[]> {
  const { config } = ctx;
  const checks: DoctorCheck[] = [];
  const guard = async (name: string, work: () => Promise<DoctorCheck | DoctorCheck[]>) => {
    try {
      const result = await work();
      checks.push(...(Array.isArray(result) ? result : [result]));
    } catch (error) {
      checks.push({
        name,
        status: 'failed',
        detail: errorMessage(error),
        unreachable: error instanceof CliError && error.exitCode === ExitCode.Unreachable,
      });
    }
  };

  let tenant: TenantView | undefined;
  await guard('Registry record', async () => {
    tenant = await new RegistryClient(config.registryUrl, config.adminToken).getTenant(tenantId);
    if (!tenant)
      return { name: 'Registry record', status: 'failed', detail: `no tenant ${tenantId}` };
    const record = tenant.onboarding_record;
    const items = record?.checklist ?? [];
    const manual = items.filter((c) => !c.passed && c.detail?.startsWith('MANUAL')).length;
    const failed = items.filter((c) => !c.passed).length - manual;
    return [
      {
        name: 'Registry record',
        status: 'passed',
        detail: `"${tenant.name}", ${tenant.tier} tier`,
      },
      tenant.status === 'active'
        ? { name: 'Status', status: 'passed', detail: 'active' }
        : {
            name: 'Status',
            status: 'failed',
            detail: 'disabled: the ingress refuses its webhooks',
          },
      tenant.webhook_auth_weaker
        ? {
            name: 'Webhook authentication',
            status: 'warning',
            detail:
              'static_header — WEAKER: a shared secret in X-ServiceDesk-Token instead of an HMAC signature',
          }
        : {
            name: 'Webhook authentication',
            status: 'passed',
            detail: 'hmac (X-ServiceDesk-Signature)',
          },
      record
        ? {
            name: 'Onboarding record',
            status: failed ? 'warning' : 'passed',
            detail: `completed ${record.completed_at}${record.operator ? ` by ${record.operator}` : ''}: ${items.length - manual - failed} passed, ${failed} failed, ${manual} manual`,
          }
        : {
            name: 'Onboarding record',
            status: 'warning',
            detail: 'none (not onboarded with tep?)',
          },
    ];
  });

  await guard('Ingress directory entry', () =>
    withNats(config, async (nats) => {
      const entry = await directoryEntry(nats, tenantId);
      const dead = await countBySubject(
        nats.jsm,
        nats.topology.deadLetterStream,
        deadLetterFilter(nats.topology, { tenantId }),
      );
      const deadCount = Object.values(dead).reduce((a, b) => a + b, 0);
      const directory: DoctorCheck = !entry
        ? {
            name: 'Ingress directory entry',
            status: 'failed',
            detail: 'missing: the ingress will refuse this tenant (403)',
          }
        : tenant &&
            (entry.status !== tenant.status || entry.auth_scheme !== tenant.webhook_auth_scheme)
          ? {
              name: 'Ingress directory entry',
              status: 'failed',
              detail: `out of step with the registry (directory: ${entry.status}/${entry.auth_scheme})`,
            }
          : {
              name: 'Ingress directory entry',
              status: 'passed',
              detail: `${entry.status}, ${entry.auth_scheme}, ${entry.webhook_secrets.length} active secret(s), updated ${entry.updated_at}`,
            };
      return [
        directory,
        deadCount
          ? {
              name: 'Dead letters',
              status: 'warning',
              detail: `${deadCount} (tep dead-letters list --tenant ${tenantId})`,
            }
          : { name: 'Dead letters', status: 'passed', detail: 'none' },
      ];
    }),
  );

  await guard('Recent enhancements', () =>
    withPg(config.databaseUrl, async (client) => {
      const stats = await enhancementStats(client, tenantId, sinceHours);
      const rate = stats.success_rate === null ? 'n/a' : `${Math.round(stats.success_rate * 100)}%`;
      return {
        name: `Enhancements (last ${sinceHours} h, under the tenant's RLS context)`,
        status: stats.failed > 0 ? 'warning' : 'passed',
        detail: `${stats.posted} posted, ${stats.failed} failed, ${stats.pending} pending, success ${rate}${stats.last_error ? `; last error: ${stats.last_error}` : ''}`,
      };
    }),
  );

  if (!config.encryptionKey) {
    checks.push({
      name: 'ServiceDesk Plus reachable',
      status: 'skipped',
      detail:
        'SERVICEDESK_CREDENTIAL_KEY not set (needed to decrypt the tenant’s API key; outside production TENANT_ENCRYPTION_KEY stands in)',
    });
  } else {
    await guard('ServiceDesk Plus reachable', () =>
      withPg(config.registryDatabaseUrl, async (client) => {
        const row = await loadServiceDeskConfig(client, tenantId);
        if (!row)
          return {
            name: 'ServiceDesk Plus reachable',
            status: 'failed',
            detail: 'no tenant_configs row',
          };
        const cipher = SecretCipher.fromEnv(config.encryptionKey, 'SERVICEDESK_CREDENTIAL_KEY');
        const results: DoctorCheck[] = [];
        const cloud =
          ServiceDeskSettingsSchema.safeParse(row.servicedesk_settings ?? {}).data?.auth_kind ===
          'oauth';
        const storeCheck = 'Shared Zoho access-token store';
        const shared = cloud
          ? await sharedTokenStoreOrWarn(config, cipher, (detail) =>
              results.push({ name: storeCheck, status: 'warning', detail }),
            )
          : undefined;
        if (shared) {
          results.push({
            name: storeCheck,
            status: 'passed',
            detail: `NATS KV bucket ${shared.bucket} (encrypted)`,
          });
        }
        try {
          const sdp = clientForTenant(row, cipher, {
            timeoutMs: 10_000,
            // As the poster: the address connected to is the address checked.
            ...serviceDeskGuard(config.allowInsecureServiceDeskUrls),
            tokenStore: shared?.store,
          });
          await sdp.listRequests({ rowCount: 1 });
          results.push({
            name: 'ServiceDesk Plus reachable',
            status: 'passed',
            detail: `${row.servicedesk_url} answered the ${cloud ? 'Cloud API (Zoho OAuth)' : 'API'}`,
          });
        } catch (error) {
          results.push({
            name: 'ServiceDesk Plus reachable',
            status: 'failed',
            detail: `${row.servicedesk_url}: ${errorMessage(error)}`,
          });
        } finally {
          await shared?.close();
        }
        return results;
      }),
    );
  }
  return checks;
}

export async function doctorCommand(
  options: { tenant?: string; sinceHours?: number },
  ctx: CommandContext,
): Promise<CommandOutcome> {
  if (options.tenant !== undefined && !isUuid(options.tenant)) {
    throw notTenantId(options.tenant);
  }
  const { out, config } = ctx;
  const sinceHours = options.sinceHours ?? 24;
  out.progress('Prerequisites');
  const prerequisites = await runPrerequisites(config);
  for (const r of prerequisites) out.check(r.status, r.name, r.detail);
  const codes: number[] = [exitCodeOf(prerequisites)];
  let tenant: DoctorCheck[] | undefined;
  if (options.tenant) {
    out.progress(`\nTenant ${options.tenant}`);
    tenant = await tenantChecks(options.tenant, sinceHours, ctx);
    for (const c of tenant) out.check(c.status, c.name, c.detail);
    codes.push(
      tenant.some((c) => c.status === 'failed' && c.unreachable)
        ? ExitCode.Unreachable
        : tenant.some((c) => c.status === 'failed')
          ? ExitCode.CheckFailed
          : ExitCode.Ok,
    );
  }
  const exitCode = worstExitCode(codes);
  out.progress(exitCode === ExitCode.Ok ? '\nAll checks passed.' : '\nSome checks failed.');
  return {
    exitCode,
    json: {
      command: 'doctor',
      ok: exitCode === ExitCode.Ok,
      exit_code: exitCode,
      prerequisites,
      ...(tenant ? { tenant_id: options.tenant, tenant: tenant } : {}),
    },
  };
}
