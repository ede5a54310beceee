/**
 * `tep status`: every tenant with its status, tier and webhook
 * authentication (static_header flagged WEAKER), its recent enhancements and
 * success rate (read under each tenant's own RLS context), the queue depth
 * per consumer and the dead letters. A part that does not answer is shown
 * as such and makes the exit code 3; the rest is still reported.
 */
import type { CommandContext, CommandOutcome } from '../context';
import { enhancementStats, withPg, type EnhancementStats } from '../db';
import { CliError, ExitCode, errorMessage, worstExitCode } from '../errors';
import {
  countBySubject,
  deadLetterFilter,
  queueDepth,
  withNats,
  type ConsumerDepth,
} from '../nats';
import { renderTable } from '../output';
import { RegistryClient, type TenantView } from '../registry-client';

const codeOf = (error: unknown) =>
  error instanceof CliError ? error.exitCode : ExitCode.CheckFailed;

export async function statusCommand(
  options: { sinceHours?: number },
  ctx: CommandContext,
): Promise<CommandOutcome> {
  const { out, config } = ctx;
  const sinceHours = options.sinceHours ?? 24;
  const codes: number[] = [];
  const errors: Record<string, string> = {};

  let tenants: TenantView[] = [];
  try {
    tenants = await new RegistryClient(config.registryUrl, config.adminToken).listTenants();
  } catch (error) {
    errors['registry'] = errorMessage(error);
    codes.push(codeOf(error));
  }

  const stats = new Map<string, EnhancementStats>();
  if (tenants.length) {
    try {
      await withPg(config.databaseUrl, async (client) => {
        for (const t of tenants)
          stats.set(t.tenant_id, await enhancementStats(client, t.tenant_id, sinceHours));
      });
    } catch (error) {
      errors['database'] = errorMessage(error);
      codes.push(codeOf(error));
    }
  }

  let depth: ConsumerDepth[] = [];
  let deadByTenant: Record<string, number> = {};
  let deadByStage: Record<string, number> = {};
  let deadTotal: number | null = null;
  try {
    await withNats(config, async (nats) => {
      depth = await queueDepth(nats);
      const subjects = await countBySubject(
        nats.jsm,
        nats.topology.deadLetterStream,
        deadLetterFilter(nats.topology),
      );
      deadTotal = 0;
      for (const [subject, n] of Object.entries(subjects)) {
        // <ns.>tickets.dead.<stage>.<tenant>
        const parts = subject.split('.');
        const tenant = parts[parts.length - 1];
        const stage = parts[parts.length - 2];
        deadByTenant[tenant] = (deadByTenant[tenant] ?? 0) + n;
        deadByStage[stage] = (deadByStage[stage] ?? 0) + n;
        deadTotal += n;
      }
    });
  } catch (error) {
    errors['nats'] = errorMessage(error);
    codes.push(codeOf(error));
    deadByTenant = {};
    deadByStage = {};
  }

  const rows = tenants.map((t) => {
    const s = stats.get(t.tenant_id);
    return {
      tenant_id: t.tenant_id,
      name: t.name,
      status: t.status,
      tier: t.tier,
      webhook_auth_scheme: t.webhook_auth_scheme,
      webhook_auth_weaker: t.webhook_auth_weaker,
      enhancements: s ?? null,
      dead_letters: deadTotal === null ? null : (deadByTenant[t.tenant_id] ?? 0),
    };
  });

  out.print(
    errors['registry']
      ? 'Tenants: unavailable (the registry did not answer)'
      : `Tenants (${rows.length}); enhancements in the last ${sinceHours} h`,
  );
  out.print(
    renderTable(
      [
        'Tenant',
        'Name',
        'Status',
        'Tier',
        'Webhook auth',
        'Posted',
        'Failed',
        'Pending',
        'Success',
        'Dead letters',
      ],
      rows.map((r) => [
        r.tenant_id,
        r.name,
        r.status,
        r.tier,
        r.webhook_auth_weaker ? `${r.webhook_auth_scheme} ⚠️ WEAKER` : r.webhook_auth_scheme,
        String(r.enhancements?.posted ?? '?'),
        String(r.enhancements?.failed ?? '?'),
        String(r.enhancements?.pending ?? '?'),
        r.enhancements?.success_rate == null
          ? '-'
          : `${Math.round(r.enhancements.success_rate * 100)}%`,
        r.dead_letters === null ? '?' : String(r.dead_letters),
      ]),
    ),
  );
  out.print('\nQueue depth (JetStream num_pending per consumer of the tickets stream)');
  out.print(
    renderTable(
      ['Consumer', 'Pending', 'Ack pending', 'Redelivered'],
      depth.map((d) => [
        d.consumer,
        String(d.num_pending),
        String(d.num_ack_pending),
        String(d.num_redelivered),
      ]),
    ),
  );
  const known = new Set(tenants.map((t) => t.tenant_id));
  const orphaned = Object.entries(deadByTenant)
    .filter(([tenant]) => !known.has(tenant))
    .reduce((sum, [, n]) => sum + n, 0);
  const notes = [
    ...Object.entries(deadByStage).map(([stage, n]) => `${stage}: ${n}`),
    ...(orphaned && !errors['registry']
      ? [`${orphaned} for tenants no longer in the registry`]
      : []),
  ];
  out.print(`\nDead letters: ${deadTotal ?? '?'}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  for (const [part, message] of Object.entries(errors)) out.error(`${part}: ${message}`);

  const exitCode = worstExitCode(codes);
  return {
    exitCode,
    json: {
      command: 'status',
      exit_code: exitCode,
      since_hours: sinceHours,
      tenants: rows,
      queue_depth: depth,
      dead_letters: { total: deadTotal, by_stage: deadByStage, by_tenant: deadByTenant },
      ...(Object.keys(errors).length ? { errors } : {}),
    },
  };
}
