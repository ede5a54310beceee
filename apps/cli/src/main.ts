/**
 * `tep`, the operator CLI: argument parsing only. Each subcommand calls a
 * command function in ./commands; exit codes: 0 ok, 1 a check or
 * validation failed, 2 usage or configuration error, 3 platform unreachable.
 *
 *   npm run tep -- onboard --file client.yaml
 */
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ZOHO_DATA_CENTRE_IDS } from '@tep/contracts';
import { resolveConfig, type GlobalFlags } from './config';
import type { CommandContext, CommandOutcome } from './context';
import { doctorCommand } from './commands/doctor';
import { listDeadLettersCommand, replayDeadLettersCommand } from './commands/dead-letters';
import { offboardCommand } from './commands/offboard';
import { onboardCommand, type OnboardOptions } from './commands/onboard';
import { rotateSecretCommand } from './commands/rotate-secret';
import { reportCommand } from './commands/report';
import { statusCommand } from './commands/status';
import { validateIsolationCommand } from './commands/validate-isolation';
import { CliError, ExitCode, errorMessage } from './errors';
import { Reporter, type Io } from './output';

const HELP_FOOTER = `
Configuration (flags win over the environment):
  TEP_REGISTRY_URL   tenant registry (http://127.0.0.1:8081)
  TEP_ADMIN_TOKEN    registry admin token (development token outside production)
  TEP_INGRESS_URL    webhook ingress (http://127.0.0.1:8080)
  TEP_SERVICE_URLS   health endpoints, name=url,… (defaults: 127.0.0.1:8080-8084)
  DATABASE_URL       application role (postgres://tep_app:tep_app@127.0.0.1:5432/ai_agents)
  NATS_URL, NATS_NAMESPACE
  SERVICEDESK_CREDENTIAL_KEY  doctor's SDP check, onboard's shared Zoho tokens
                     (outside production TENANT_ENCRYPTION_KEY stands in)
  TEP_SERVICEDESK_API_KEY  onboard: the client's SDP API key (keeps it out of ps and history)
  TEP_ZOHO_CLIENT_SECRET, TEP_ZOHO_REFRESH_TOKEN, TEP_ZOHO_GRANT_CODE
                     onboard, SDP Cloud: the Zoho OAuth secrets, likewise

Exit codes: 0 ok, 1 a check or validation failed, 2 usage or configuration error,
3 platform unreachable. --json prints one JSON document on stdout.`;

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};
const collect = (value: string, previous: string[]) => [...previous, value];

type Runner = (
  action: (ctx: CommandContext) => Promise<CommandOutcome>,
  command: Command,
) => Promise<void>;

function buildProgram(io: Io, run: Runner): Command {
  // Set before the subcommands are added: commander copies these settings into each one.
  const program = new Command('tep')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout(text), writeErr: (text) => io.stderr(text) })
    .description(
      'Operator CLI for the Ticket Enhancement Platform (automates the client onboarding runbook)',
    )
    .option('--json', 'print one JSON document on stdout (progress goes to stderr)')
    .option('--registry-url <url>', 'tenant registry base URL (TEP_REGISTRY_URL)')
    .option('--admin-token <token>', 'registry admin token (TEP_ADMIN_TOKEN; prefer the variable)')
    .option('--ingress-url <url>', 'webhook ingress base URL (TEP_INGRESS_URL)')
    .option(
      '--service-url <name=url>',
      'a service health base URL (repeatable; TEP_SERVICE_URLS)',
      collect,
      [],
    )
    .option('--database-url <url>', 'application-role PostgreSQL URL (DATABASE_URL)')
    .option('--nats-url <url>', 'NATS URL (NATS_URL)')
    .option('--nats-namespace <ns>', 'NATS namespace (NATS_NAMESPACE)')
    .showHelpAfterError('(tep --help shows every command and option)')
    .addHelpText('after', HELP_FOOTER);

  program
    .command('onboard')
    .description('run the client onboarding runbook end to end')
    .option('--file <path>', 'client information as JSON or YAML')
    .option('--name <company>', 'company name')
    .option('--servicedesk-url <url>', 'ServiceDesk Plus URL')
    .option(
      '--servicedesk-api-key <key>',
      'ServiceDesk Plus API key (prefer TEP_SERVICEDESK_API_KEY or --file)',
    )
    .option(
      '--edition <edition>',
      'ServiceDesk Plus edition: on-premises (API key, default) or cloud (Zoho OAuth)',
    )
    .option('--portal <name>', 'SDP Cloud: the portal name (the <portal> in /app/<portal>/)')
    .option(
      '--data-centre <dc>',
      `SDP Cloud: the Zoho data centre (${ZOHO_DATA_CENTRE_IDS.join(', ')}; default us)`,
    )
    .option(
      '--accounts-url <url>',
      'SDP Cloud: name the Zoho accounts server itself (allow-listed Zoho hosts only)',
    )
    .option('--zoho-client-id <id>', 'SDP Cloud: the Zoho OAuth client id (Self Client)')
    .option(
      '--zoho-client-secret <secret>',
      'SDP Cloud: the Zoho client secret (prefer TEP_ZOHO_CLIENT_SECRET or --file)',
    )
    .option(
      '--zoho-refresh-token <token>',
      'SDP Cloud: the Zoho refresh token (prefer TEP_ZOHO_REFRESH_TOKEN or --file)',
    )
    .option(
      '--zoho-grant-code <code>',
      'SDP Cloud: instead of a refresh token, a one-time Self Client grant code (TEP_ZOHO_GRANT_CODE)',
    )
    .option('--admin-email <email>', 'admin contact email')
    .addOption(new Option('--tier <tier>', 'support tier').choices(['basic', 'premium']))
    .option('--preferences <json>', 'enhancement preferences as JSON, or @file.json')
    .option('--rate-limit <n>', 'requests per minute')
    .option('--slug <slug>', 'namespace slug (default: from the company name)')
    .option('--manifests-dir <dir>', 'where Premium manifests go (default ./tenants/<slug>/)')
    .option('--apply', 'kubectl apply the Premium manifests (if kubectl is on PATH)')
    .option('--static-header', 'use the WEAKER static-header webhook authentication')
    .option(
      '--test-ticket-id <id>',
      'an existing SDP request for the test webhook (default: create one)',
    )
    .option(
      '--validation-timeout <seconds>',
      'how long to wait for the note',
      positiveInt('--validation-timeout'),
      60,
    )
    .option('--rollback-on-failure', 'roll back without asking when a step fails')
    .option('--operator <name>', 'who ran the onboarding, for the record (default $USER)')
    .action((opts: OnboardOptions, command: Command) =>
      run((ctx) => onboardCommand(opts, ctx), command),
    );

  program
    .command('offboard <tenant_id>')
    .description('remove a tenant through the registry and print the deleted row counts')
    .option('--purge', 'also delete every row the tenant has in every tenant table')
    .option('-y, --yes', 'do not ask for confirmation')
    .action((tenantId: string, opts: { purge?: boolean; yes?: boolean }, command: Command) =>
      run((ctx) => offboardCommand(tenantId, opts, ctx), command),
    );

  program
    .command('rotate-secret <tenant_id>')
    .description("rotate a tenant's webhook secret (printed once)")
    .option(
      '--grace-seconds <n>',
      'how long the old secret keeps working',
      positiveInt('--grace-seconds'),
    )
    .action((tenantId: string, opts: { graceSeconds?: number }, command: Command) =>
      run((ctx) => rotateSecretCommand(tenantId, opts, ctx), command),
    );

  program
    .command('validate-isolation')
    .description(
      "prove RLS tenant isolation (the runbook's tenant-isolation-validation.sh); leaves nothing behind",
    )
    .action((_opts: object, command: Command) =>
      run((ctx) => validateIsolationCommand(ctx), command),
    );

  program
    .command('doctor')
    .description('check the prerequisites, and one tenant with --tenant')
    .option('--tenant <tenant_id>', 'also check this tenant')
    .option('--since-hours <n>', 'window for recent enhancements', positiveInt('--since-hours'), 24)
    .action((opts: { tenant?: string; sinceHours?: number }, command: Command) =>
      run((ctx) => doctorCommand(opts, ctx), command),
    );

  program
    .command('status')
    .description('tenants, recent enhancements, queue depth and dead letters')
    .option('--since-hours <n>', 'window for recent enhancements', positiveInt('--since-hours'), 24)
    .action((opts: { sinceHours?: number }, command: Command) =>
      run((ctx) => statusCommand(opts, ctx), command),
    );

  program
    .command('report <tenant_id>')
    .description(
      "the client's post-onboarding documents: profile, configuration, baseline metrics and feedback (Markdown with SVG charts, and JSON)",
    )
    .option('--since <period>', 'the period, ending now (e.g. 7d, 30d, 24h)', '7d')
    .option('--out <dir>', 'where to write the documents', '.')
    .action((tenantId: string, opts: { since?: string; out?: string }, command: Command) =>
      run((ctx) => reportCommand(tenantId, opts, ctx), command),
    );

  const deadLetters = program
    .command('dead-letters')
    .description('list or replay dead-lettered jobs');
  deadLetters
    .command('list')
    .option('--tenant <tenant_id>', 'only this tenant')
    .option('--stage <stage>', 'only this stage (e.g. servicedesk-poster)')
    .action((opts: { tenant?: string; stage?: string }, command: Command) =>
      run((ctx) => listDeadLettersCommand(opts, ctx), command),
    );
  deadLetters
    .command('replay [sequence]')
    .description(
      'republish a dead letter (by its sequence) or all of a tenant’s to their original stage',
    )
    .option('--all-for-tenant <tenant_id>', 'every dead letter of this tenant')
    .action((sequence: string | undefined, opts: { allForTenant?: string }, command: Command) =>
      run((ctx) => replayDeadLettersCommand(sequence, opts, ctx), command),
    );
  return program;
}

/** "dead-letters list", not just "list". */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Parses `argv` (without node and script), runs the command, returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  // `npm run tep` runs in the repository root; INIT_CWD is where the operator typed it.
  cwd: string = env['INIT_CWD'] ?? process.cwd(),
): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  let json = argv.includes('--json');
  const program = buildProgram(io, async (action, command) => {
    const flags = command.optsWithGlobals<GlobalFlags & { json?: boolean }>();
    json = flags.json === true;
    const out = new Reporter(io, json);
    try {
      const outcome = await action({ config: resolveConfig(flags, env), out, env, cwd });
      out.document(outcome.json);
      exitCode = outcome.exitCode;
    } catch (error) {
      exitCode = error instanceof CliError ? error.exitCode : ExitCode.CheckFailed;
      out.error(errorMessage(error));
      out.document({
        command: commandPath(command),
        ok: false,
        exit_code: exitCode,
        error: errorMessage(error),
      });
    }
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) {
        return ExitCode.Ok;
      }
      if (json)
        io.stdout(
          `${JSON.stringify({ ok: false, exit_code: ExitCode.Usage, error: error.message })}\n`,
        );
      return ExitCode.Usage;
    }
    throw error;
  }
  return exitCode;
}

async function main(): Promise<void> {
  const tty = process.stdin.isTTY === true;
  const io: Io = {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    ...(tty
      ? {
          confirm: async (question: string) => {
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            try {
              return /^y(es)?$/i.test((await rl.question(question)).trim());
            } finally {
              rl.close();
            }
          },
        }
      : {}),
  };
  const code = await runCli(process.argv.slice(2), io);
  process.exit(code);
}

/** Runs `tep` with the process's arguments and exits with its code (bin/tep.js, `npx tep`). */
export function runAsProgram(): void {
  main().catch((error: unknown) => {
    process.stderr.write(`tep: ${errorMessage(error)}\n`);
    process.exit(ExitCode.CheckFailed);
  });
}

if (require.main === module) runAsProgram();
