/**
 * The runbook's system prerequisites, as checks: PostgreSQL answers, NATS
 * answers with JetStream and the platform's streams, every service's
 * /health is 200 {"status":"healthy"}, and RLS is enabled, FORCED and has a
 * tenant policy on every tenant table (prerequisite 5, tightened: the
 * runbook's query only lists policies; a table that is not FORCED lets its
 * owner read everything).
 */
import type { Client } from 'pg';
import { AUDIT_TABLE, TENANT_TABLES } from '@tep/data';
import type { CliConfig } from './config';
import { redactUrl, withPg } from './db';
import { CliError, ExitCode, errorMessage } from './errors';
import { streamExists, withNats, type CliNatsOptions } from './nats';
import { causeOf } from './registry-client';

const HEALTH_TIMEOUT_MS = 5_000;

export interface CheckResult {
  name: string;
  status: 'passed' | 'failed';
  detail: string;
  /** The part did not answer at all (exit code 3 rather than 1). */
  unreachable?: boolean;
}

const passed = (name: string, detail: string): CheckResult => ({ name, status: 'passed', detail });
const failed = (name: string, detail: string, unreachable = false): CheckResult => ({
  name,
  status: 'failed',
  detail,
  ...(unreachable ? { unreachable: true } : {}),
});

function fromError(name: string, error: unknown): CheckResult {
  return failed(
    name,
    errorMessage(error),
    error instanceof CliError && error.exitCode === ExitCode.Unreachable,
  );
}

export async function checkServiceHealth(name: string, url: string): Promise<CheckResult> {
  const check = `${name} /health`;
  let res: Response;
  try {
    res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
  } catch (error) {
    return failed(check, `unreachable at ${url}: ${causeOf(error)}`, true);
  }
  const body = await res.text();
  let status: unknown;
  try {
    status = (JSON.parse(body) as { status?: unknown }).status;
  } catch {
    status = undefined;
  }
  if (res.status === 200 && status === 'healthy') return passed(check, `${url} healthy`);
  return failed(check, `${url} answered ${res.status} ${body.slice(0, 200)}`);
}

export async function checkServices(serviceUrls: Record<string, string>): Promise<CheckResult[]> {
  return Promise.all(
    Object.entries(serviceUrls).map(([name, url]) => checkServiceHealth(name, url)),
  );
}

interface TableSecurity {
  table: string;
  exists: boolean;
  relrowsecurity: boolean;
  relforcerowsecurity: boolean;
  policies: { policyname: string; cmd: string; qual: string | null; with_check: string | null }[];
}

const TENANT_SETTING = 'app.current_tenant_id';

/** Prerequisite 5's pg_policies query over every tenant table, plus pg_class's RLS flags. */
export async function readTableSecurity(
  client: Client,
  tables: readonly string[],
): Promise<TableSecurity[]> {
  const flags = await client.query<{
    table: string;
    exists: boolean;
    relrowsecurity: boolean | null;
    relforcerowsecurity: boolean | null;
  }>(
    `SELECT t AS table, c.oid IS NOT NULL AS exists, c.relrowsecurity, c.relforcerowsecurity
       FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n)
       LEFT JOIN pg_class c ON c.oid = to_regclass(t)
      ORDER BY n`,
    [tables],
  );
  const policies = await client.query<{
    tablename: string;
    policyname: string;
    cmd: string;
    qual: string | null;
    with_check: string | null;
  }>(
    `SELECT tablename, policyname, cmd, qual, with_check
       FROM pg_policies
      WHERE schemaname = current_schema() AND tablename = ANY($1::text[])
      ORDER BY tablename, policyname`,
    [tables],
  );
  return flags.rows.map((row) => ({
    table: row.table,
    exists: row.exists,
    relrowsecurity: row.relrowsecurity === true,
    relforcerowsecurity: row.relforcerowsecurity === true,
    policies: policies.rows.filter((p) => p.tablename === row.table),
  }));
}

/** What each table must have; the audit log is read-only for tenants, so USING suffices there. */
export function judgeTableSecurity(
  security: TableSecurity,
  requireWithCheck: boolean,
): CheckResult {
  const name = `RLS on ${security.table}`;
  if (!security.exists) return failed(name, 'table does not exist (migrations not run?)');
  const problems: string[] = [];
  if (!security.relrowsecurity) problems.push('row level security is not enabled');
  if (!security.relforcerowsecurity) problems.push('row level security is not FORCED');
  const tenantPolicies = security.policies.filter(
    (p) =>
      (p.qual ?? '').includes(TENANT_SETTING) &&
      (!requireWithCheck || (p.cmd === 'ALL' && (p.with_check ?? '').includes(TENANT_SETTING))),
  );
  if (tenantPolicies.length === 0) {
    problems.push(
      requireWithCheck
        ? `no policy FOR ALL with USING and WITH CHECK on current_setting('${TENANT_SETTING}')`
        : `no policy using current_setting('${TENANT_SETTING}')`,
    );
  }
  return problems.length
    ? failed(name, problems.join('; '))
    : passed(
        name,
        `enabled, forced, ${security.policies.length} ${security.policies.length === 1 ? 'policy' : 'policies'} (${tenantPolicies.map((p) => `${p.policyname} ${p.cmd}`).join(', ')})`,
      );
}

export async function checkRls(client: Client): Promise<CheckResult[]> {
  const tables = [...TENANT_TABLES, AUDIT_TABLE];
  const security = await readTableSecurity(client, tables);
  const results = security.map((s) =>
    judgeTableSecurity(s, (TENANT_TABLES as readonly string[]).includes(s.table)),
  );
  const role = await client.query<{ role: string; rolsuper: boolean; rolbypassrls: boolean }>(
    `SELECT current_user AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
  );
  const r = role.rows[0];
  results.push(
    r && !r.rolsuper && !r.rolbypassrls
      ? passed('Application role is subject to RLS', `${r.role}: not superuser, no BYPASSRLS`)
      : failed(
          'Application role is subject to RLS',
          `${r?.role ?? 'current role'} bypasses RLS (superuser or BYPASSRLS): DATABASE_URL must name the application role`,
        ),
  );
  return results;
}

/** PostgreSQL reachable, then the RLS catalogue checks on the same connection. */
export async function checkDatabase(databaseUrl: string): Promise<CheckResult[]> {
  try {
    return await withPg(databaseUrl, async (client) => {
      const { rows } = await client.query<{ version: string }>('SELECT version()');
      return [
        passed(
          'PostgreSQL reachable',
          `${redactUrl(databaseUrl)}: ${rows[0].version.split(' on ')[0]}`,
        ),
        ...(await checkRls(client)),
      ];
    });
  } catch (error) {
    return [fromError('PostgreSQL reachable', error)];
  }
}

export async function checkNats(options: CliNatsOptions): Promise<CheckResult[]> {
  try {
    return await withNats(options, async (nats) => {
      const account = await nats.jsm.getAccountInfo();
      const results = [
        passed(
          'NATS reachable with JetStream',
          `${options.natsUrl}: ${account.streams} streams, ${account.consumers} consumers`,
        ),
      ];
      for (const stream of [nats.topology.ticketsStream, nats.topology.deadLetterStream]) {
        results.push(
          (await streamExists(nats.jsm, stream))
            ? passed(`JetStream stream ${stream}`, 'exists')
            : failed(`JetStream stream ${stream}`, 'missing (have the services started once?)'),
        );
      }
      return results;
    });
  } catch (error) {
    return [fromError('NATS reachable with JetStream', error)];
  }
}

/** Every prerequisite, in the runbook's order, run concurrently. */
export async function runPrerequisites(config: CliConfig): Promise<CheckResult[]> {
  const [database, nats, services] = await Promise.all([
    checkDatabase(config.databaseUrl),
    checkNats(config),
    checkServices(config.serviceUrls),
  ]);
  return [...database, ...nats, ...services];
}

/** 0 when all passed; 3 when something did not answer; 1 otherwise. */
export function exitCodeOf(results: readonly CheckResult[]): ExitCode {
  if (results.some((r) => r.status === 'failed' && r.unreachable)) return ExitCode.Unreachable;
  return results.some((r) => r.status === 'failed') ? ExitCode.CheckFailed : ExitCode.Ok;
}
