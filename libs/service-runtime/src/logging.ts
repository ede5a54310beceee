import type { Params } from 'nestjs-pino';
import { currentJobLogFields } from '@tep/pipeline';

/**
 * Paths pino replaces with "[Redacted]": credentials must never reach a log
 * line, whatever object a developer logs.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-servicedesk-signature"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["webhook-signature"]',
  'req.headers.authtoken',
  'req.headers.cookie',
  '*.servicedesk_api_key',
  '*.webhook_secret',
  '*.webhook_signing_secret',
  '*.api_key',
  '*.apiKey',
  '*.secret',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
];

export function loggerParams(
  service: string,
  level: string,
  { requestLogs = true, pretty = false }: { requestLogs?: boolean; pretty?: boolean } = {},
): Params {
  return {
    pinoHttp: {
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
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
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
    },
  };
}
