/**
 * The runbook's rollback procedure for a failed onboarding: the tenant
 * removed through the registry with purge (its rows in every tenant table
 * too), its manifests removed (and deleted from the cluster if they were
 * applied), and its messages cleared from the streams. What a program
 * cannot undo (the SDP side) is listed for the operator.
 */
import { TENANT_TABLES } from '@tep/data';
import { escapeIdentifier } from 'pg';
import type { CliConfig } from './config';
import { findJob, readAsTenant, withPg } from './db';
import { errorMessage } from './errors';
import { fileArgs, runKubectl } from './kubectl';
import { removeManifests } from './manifests';
import { purgeTenantMessages, withNats } from './nats';
import type { RegistryClient } from './registry-client';

export interface RollbackPlan {
  tenantId?: string;
  /** A test webhook was accepted: its job may still be moving through the pipeline. */
  jobId?: string;
  /** The directory rollback removes (see WrittenManifests.removable). */
  manifestsDir?: string;
  manifestPaths: string[];
  /** kubectl apply ran (even if it failed half-way): delete what it may have created. */
  kubectlApplied?: { executable: string };
  /** Left in the client's SDP; we can only say so. */
  sdpRequestId?: string;
}

export interface RollbackAction {
  action: string;
  status: 'done' | 'failed' | 'manual';
  detail: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lets an in-flight job reach posted/failed so no stage writes after the purge. */
async function settleJob(config: CliConfig, tenantId: string, jobId: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  return withPg(config.databaseUrl, async (client) => {
    for (;;) {
      const job = await findJob(client, tenantId, jobId);
      if (job && job.status !== 'pending') return `job ${jobId} ${job.status}`;
      if (Date.now() > deadline)
        return `job ${jobId} still ${job?.status ?? 'unrecorded'} after 10 s`;
      await sleep(250);
    }
  });
}

/** Rows left for the tenant in each tenant table, read under its own RLS context. */
export async function remainingRows(
  config: CliConfig,
  tenantId: string,
): Promise<Record<string, number>> {
  return withPg(config.databaseUrl, (client) =>
    readAsTenant(client, tenantId, async () => {
      const counts: Record<string, number> = {};
      for (const table of TENANT_TABLES) {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${escapeIdentifier(table)}`,
        );
        counts[table] = rows[0].n;
      }
      return counts;
    }),
  );
}

export async function rollback(
  plan: RollbackPlan,
  deps: { config: CliConfig; registry: RegistryClient; env: NodeJS.ProcessEnv },
): Promise<RollbackAction[]> {
  const actions: RollbackAction[] = [];
  const attempt = async (action: string, work: () => Promise<string>) => {
    try {
      actions.push({ action, status: 'done', detail: await work() });
    } catch (error) {
      actions.push({ action, status: 'failed', detail: errorMessage(error) });
    }
  };
  const { config, registry } = deps;
  const tenantId = plan.tenantId;

  if (tenantId && plan.jobId) {
    const jobId = plan.jobId;
    // Stop new webhooks first, then let the test job finish, so nothing writes after the purge.
    await attempt('Tenant disabled (ingress refuses its webhooks)', async () => {
      await registry.disable(tenantId);
      return 'status disabled';
    });
    await attempt('Test job settled', () => settleJob(config, tenantId, jobId));
  }

  if (plan.kubectlApplied && plan.manifestPaths.length) {
    const executable = plan.kubectlApplied.executable;
    await attempt('Kubernetes resources deleted (kubectl delete -f)', async () => {
      const result = await runKubectl(
        executable,
        ['delete', '--ignore-not-found', ...fileArgs([...plan.manifestPaths].reverse())],
        deps.env,
      );
      if (result.code !== 0)
        throw new Error(result.stderr.trim() || `kubectl exited ${result.code}`);
      return result.stdout.trim() || 'nothing to delete';
    });
  }

  if (plan.manifestsDir && plan.manifestPaths.length) {
    const dir = plan.manifestsDir;
    await attempt('Manifests directory removed', async () => {
      await removeManifests(dir);
      return dir;
    });
  }

  if (tenantId) {
    await attempt(
      'Registry record deleted with purge (DELETE /tenants/:id?purge=true)',
      async () => {
        const result = await registry.offboard(tenantId, true);
        return Object.entries(result.deleted)
          .map(([table, n]) => `${table}: ${n}`)
          .join(', ');
      },
    );
    await attempt("Tenant's queued messages and dead letters purged", async () => {
      const purged = await withNats(config, (nats) => purgeTenantMessages(nats, tenantId));
      return `${purged.tickets} queued, ${purged.dead_letters} dead letters`;
    });
    await attempt('Verified: no trace left', async () => {
      const record = await registry.getTenant(tenantId);
      const rows = await remainingRows(config, tenantId);
      const left = Object.entries(rows).filter(([, n]) => n > 0);
      if (record || left.length) {
        throw new Error(
          `${record ? 'registry record still present; ' : ''}${left.map(([t, n]) => `${t}: ${n} rows`).join(', ')}`,
        );
      }
      return 'registry 404, 0 rows in every tenant table';
    });
  }

  actions.push({
    action: 'Disable the ServiceDesk Plus webhook / custom function (runbook rollback step 3)',
    status: 'manual',
    detail: 'if it was already configured in the client’s SDP',
  });
  if (plan.sdpRequestId) {
    actions.push({
      action: `Close the validation request ${plan.sdpRequestId} in ServiceDesk Plus`,
      status: 'manual',
      detail: 'tep created it for the test webhook and cannot delete it',
    });
  }
  return actions;
}
