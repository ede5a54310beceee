/**
 * `tep validate-isolation`: the runbook's tenant-isolation-validation.sh.
 * Exit 0 only when every probe held and nothing was left behind.
 */
import type { Fact } from '../checklist';
import type { CommandContext, CommandOutcome } from '../context';
import { CliError, ExitCode, errorMessage } from '../errors';
import { runIsolationCheck, type IsolationResult } from '../isolation';

export async function validateIsolationCommand(ctx: CommandContext): Promise<CommandOutcome> {
  const { out } = ctx;
  out.progress('Tenant isolation validation (as the application role, rolled back at the end)');
  const result = await runIsolationCheck(ctx.config);
  out.progress(`  Tenant A = ${result.tenants.a}, Tenant B = ${result.tenants.b} (synthetic)\n`);
  for (const line of result.lines) out.progress(`${line.ok ? '✅' : '❌'} ${line.text}`);
  const exitCode = result.ok ? ExitCode.Ok : ExitCode.CheckFailed;
  return { exitCode, json: { command: 'validate-isolation', exit_code: exitCode, ...result } };
}

/** The isolation check as an onboarding checklist fact. */
export async function isolationFact(urls: {
  databaseUrl: string;
  registryDatabaseUrl: string;
}): Promise<{ fact: Fact; result?: IsolationResult }> {
  try {
    const result = await runIsolationCheck(urls);
    const failedLines = result.lines.filter((l) => !l.ok);
    return {
      result,
      fact: result.ok
        ? {
            ok: true,
            detail: `${result.lines.length} probes held for 2 synthetic tenants across every tenant table; rolled back, 0 rows left`,
          }
        : { ok: false, detail: failedLines.map((l) => l.text).join('; ') },
    };
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.Unreachable) throw error;
    return { fact: { ok: false, detail: errorMessage(error) } };
  }
}
