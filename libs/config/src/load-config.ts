import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's schema. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** The variables a schema reads (an object schema, possibly refined). */
function variablesOf(schema: z.ZodType): ReadonlySet<string> {
  if (schema instanceof z.ZodObject) return new Set(Object.keys(schema.shape));
  if (schema instanceof z.ZodPipe) return variablesOf(schema.in as z.ZodType);
  return new Set();
}

/**
 * `<NAME>_FILE=/path` supplies `<NAME>` from a file, as Kubernetes secret
 * volumes and Docker secrets provide them (one trailing newline dropped),
 * for the variables the schema reads (others' `*_FILE`, e.g. SSL_CERT_FILE,
 * are not ours). Setting both is refused rather than guessed.
 */
export function withFileVariables(
  env: NodeJS.ProcessEnv,
  variables: ReadonlySet<string>,
): { env: NodeJS.ProcessEnv; problems: string[] } {
  const resolved: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  for (const [key, path] of Object.entries(env)) {
    if (!key.endsWith('_FILE') || !path) continue;
    const name = key.slice(0, -'_FILE'.length);
    if (!variables.has(name)) continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name}: set either ${name} or ${key}, not both`);
      continue;
    }
    try {
      resolved[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`${key}: cannot read ${path} (${reason})`);
    }
  }
  return { env: resolved, problems };
}

/**
 * Parses `env` once at boot into a typed, frozen object. Every problem is
 * reported with the variable's name (never its value: it may be a secret).
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): DeepReadonly<z.infer<S>> {
  const files = withFileVariables(env, variablesOf(schema));
  if (files.problems.length > 0) throw new ConfigError(files.problems);
  const result = schema.safeParse(files.env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = issue.path.join('.') || '(environment)';
        return `${variable}: ${issue.message}`;
      }),
    );
  }
  return deepFreeze(result.data) as DeepReadonly<z.infer<S>>;
}
