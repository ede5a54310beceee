import type { CliConfig } from './config';
import type { ExitCode } from './errors';
import type { Reporter } from './output';

/** What every command function gets; main.ts builds it, specs build their own. */
export interface CommandContext {
  config: CliConfig;
  out: Reporter;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A command's result: its exit code and the document `--json` prints. */
export interface CommandOutcome {
  exitCode: ExitCode;
  json: Record<string, unknown>;
}
