/**
 * `tep rotate-secret <tenant_id> [--grace-seconds N]`: a new webhook secret,
 * shown once; the old one keeps working for the grace period so the SDP
 * side can be updated without dropping webhooks.
 */
import { isUuid } from '@tep/data';
import type { CommandContext, CommandOutcome } from '../context';
import { ExitCode, UsageError, notTenantId } from '../errors';
import { RegistryClient } from '../registry-client';

export async function rotateSecretCommand(
  tenantId: string,
  options: { graceSeconds?: number },
  ctx: CommandContext,
): Promise<CommandOutcome> {
  if (!isUuid(tenantId)) throw notTenantId(tenantId);
  const grace = options.graceSeconds;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) {
    throw new UsageError('--grace-seconds must be a whole number of seconds, 0 or more');
  }
  const { out, config } = ctx;
  const registry = new RegistryClient(config.registryUrl, config.adminToken);
  const rotated = await registry.rotateWebhookSecret(tenantId, grace);
  const oldStops = rotated.previous_secret_expires_at
    ? `at ${rotated.previous_secret_expires_at}`
    : 'now (no grace period)';
  out.print(`New webhook secret for tenant ${tenantId} (shown once, store it now):\n`);
  out.print(`  ${rotated.webhook_secret}\n`);
  out.print(`The previous secret stops being accepted ${oldStops}.`);
  out.print(
    "Paste the new secret into the tenant's SDP custom function (webhookSecret) before then.",
  );
  return {
    exitCode: ExitCode.Ok,
    json: {
      command: 'rotate-secret',
      tenant_id: tenantId,
      webhook_secret: rotated.webhook_secret,
      previous_secret_expires_at: rotated.previous_secret_expires_at,
    },
  };
}
