/** `tep offboard <tenant_id> [--purge]`: the registry removes the tenant (and with --purge every row it has). */
import { isUuid } from '@tep/data';
import type { CommandContext, CommandOutcome } from '../context';
import { ExitCode, notTenantId } from '../errors';
import { renderTable } from '../output';
import { RegistryClient } from '../registry-client';

export async function offboardCommand(
  tenantId: string,
  options: { purge?: boolean; yes?: boolean },
  ctx: CommandContext,
): Promise<CommandOutcome> {
  if (!isUuid(tenantId)) throw notTenantId(tenantId);
  const { out, config } = ctx;
  const registry = new RegistryClient(config.registryUrl, config.adminToken);
  const purge = options.purge === true;
  if (out.interactive && !options.yes) {
    const tenant = await registry.getTenant(tenantId);
    const name = tenant ? `"${tenant.name}" (${tenantId})` : tenantId;
    const sure = await out.confirm(
      `Offboard ${name}${purge ? ' and DELETE all its rows in every tenant table' : ''}? [y/N] `,
    );
    if (!sure) {
      out.print('Not offboarded.');
      return {
        exitCode: ExitCode.CheckFailed,
        json: { command: 'offboard', tenant_id: tenantId, cancelled: true },
      };
    }
  }
  const result = await registry.offboard(tenantId, purge);
  out.print(
    `Offboarded tenant ${tenantId}${purge ? ' with purge' : ' (configuration only; rows kept)'}. Deleted rows:`,
  );
  out.print(
    renderTable(
      ['Table', 'Deleted'],
      Object.entries(result.deleted).map(([t, n]) => [t, String(n)]),
    ),
  );
  if (!purge)
    out.print(
      "\nThe tenant's history rows remain; run again with --purge to delete them (audit log is kept).",
    );
  return {
    exitCode: ExitCode.Ok,
    json: { command: 'offboard', tenant_id: tenantId, purge, deleted: result.deleted },
  };
}
