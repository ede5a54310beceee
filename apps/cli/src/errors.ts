/**
 * Exit codes scripts can branch on: 1 means the platform answered and
 * something is wrong with it (fix the data or the tenant), 2 means the
 * command itself was wrong (fix the invocation), 3 means a part of the
 * platform could not be reached at all (fix the network or start it).
 */
export const ExitCode = {
  Ok: 0,
  CheckFailed: 1,
  Usage: 2,
  Unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage or configuration mistake: nothing was changed. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(ExitCode.Usage, message);
    this.name = 'UsageError';
  }
}

/** A platform part (registry, ingress, Postgres, NATS, a service) did not answer. */
export class UnreachableError extends CliError {
  constructor(message: string) {
    super(ExitCode.Unreachable, message);
    this.name = 'UnreachableError';
  }
}

/** The platform answered, and the answer is a failed check. */
export class CheckFailedError extends CliError {
  constructor(message: string) {
    super(ExitCode.CheckFailed, message);
    this.name = 'CheckFailedError';
  }
}

/** For a value that failed the UUID check (TypeScript narrows it to never there). */
export function notTenantId(value: unknown): UsageError {
  return new UsageError(`"${String(value)}" is not a tenant id (a UUID)`);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The worst of several outcomes: unreachable beats usage beats a failed check. */
export function worstExitCode(codes: readonly number[]): ExitCode {
  const rank = (code: number) =>
    code === ExitCode.Unreachable ? 3 : code === ExitCode.Usage ? 2 : code === 0 ? 0 : 1;
  const worst = codes.reduce((a, b) => (rank(b) > rank(a) ? b : a), 0);
  return (
    [ExitCode.Ok, ExitCode.CheckFailed, ExitCode.Usage, ExitCode.Unreachable] as number[]
  ).includes(worst)
    ? (worst as ExitCode)
    : ExitCode.CheckFailed;
}
