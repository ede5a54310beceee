import type { Params } from 'nestjs-pino';
import pino from 'pino';
import { currentJobLogFields } from '@tep/pipeline';

/**
 * Request-header paths pino replaces with "[Redacted]" in request logs.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-servicedesk-signature"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["webhook-signature"]',
  'req.headers.authtoken',
  'req.headers.cookie',
];

/**
 * Keys whose values never reach a log line, at the top of a logged object or
 * one level down (`{ tenant: { webhook_secret } }`), whatever a developer logs.
 */
export const SECRET_LOG_KEYS: ReadonlySet<string> = new Set([
  'servicedesk_api_key',
  'webhook_secret',
  'webhook_signing_secret',
  'api_key',
  'apiKey',
  'secret',
  'password',
  'token',
  'access_token',
  'refresh_token',
]);

const CENSOR = '[Redacted]';
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function censorKeys(object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    if (SECRET_LOG_KEYS.has(key)) (copy ??= { ...object })[key] = CENSOR;
  }
  return copy ?? object;
}

/**
 * pino's formatter for every line's own fields: censors SECRET_LOG_KEYS,
 * copying only what it changes. pino's wildcard `redact` paths did the same
 * at 7 µs per line (it parses every path and clones the object on every
 * call), a tenth of the ingress's CPU per webhook; exact paths stay with pino.
 */
export function censorSecrets(object: Record<string, unknown>): Record<string, unknown> {
  let result = censorKeys(object);
  for (const key in result) {
    const value = result[key];
    if (!isPlainObject(value) || value instanceof Error) continue;
    const censored = censorKeys(value);
    if (censored !== value) {
      if (result === object) result = { ...object };
      result[key] = censored;
    }
  }
  return result;
}

export function loggerParams(
  service: string,
  level: string,
  { requestLogs = true, pretty = false }: { requestLogs?: boolean; pretty?: boolean } = {},
): Params {
  const options = {
    name: service,
    level,
    // pino-pretty (a development dependency) only when asked: JSON is what log pipelines read.
    transport: pretty
      ? {
          target: 'pino-pretty',
          options: {
            colorize: true,
            translateTime: 'SYS:HH:MM:ss.l',
            ignore: 'pid,hostname,service',
          },
        }
      : undefined,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    formatters: { log: censorSecrets },
    // Probes and scrapes would drown the useful lines.
    autoLogging: requestLogs
      ? { ignore: (req) => /^\/(health|metrics)\b/.test(req.url ?? '') }
      : false,
    customProps: () => ({ service }),
    // tenant_id, job_id and trace_id of the job being handled, on every line of it.
    mixin: () => currentJobLogFields() ?? {},
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        // Query strings are kept: tenant_id is the only thing they carry.
        url: req.url,
      }),
    },
  } satisfies Params['pinoHttp'];
  if (pretty) return { pinoHttp: options };
  // Asynchronous writes: a synchronous write(2) per line cost the ingress a
  // sixth of its CPU (docs/benchmarks.md). Lines written while one write is in
  // flight go out together; pino flushes what is left when the process exits.
  return { pinoHttp: [options, pino.destination({ dest: 1, sync: false })] };
}
