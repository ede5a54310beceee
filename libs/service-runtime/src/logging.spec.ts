import { Writable } from 'node:stream';
import pino from 'pino';
import { censorSecrets, loggerParams } from './logging';

/** A logger with the services' options (loggerParams), writing lines to an array. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const [options] = loggerParams('test-service', 'info').pinoHttp as [pino.LoggerOptions, unknown];
  const logger = pino(options, sink);
  return { logger, lines };
}

describe('secrets in log lines', () => {
  it('censors secret keys at the top of a logged object and one level down', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: 'hunter2',
        tenant: { webhook_secret: 'whsec_abc', servicedesk_api_key: 'sdp-key', name: 'Acme' },
        oauth: { refresh_token: 'rt', access_token: 'at' },
        tenant_id: 'kept',
      },
      'line',
    );
    expect(lines[0]).toMatchObject({
      password: '[Redacted]',
      tenant: { webhook_secret: '[Redacted]', servicedesk_api_key: '[Redacted]', name: 'Acme' },
      oauth: { refresh_token: '[Redacted]', access_token: '[Redacted]' },
      tenant_id: 'kept',
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/hunter2|whsec_abc|sdp-key|"rt"|"at"/);
  });

  it('logs a request as method, url and id only: no headers, so no signature or credential', () => {
    const { logger, lines } = capture();
    logger.info({
      req: {
        id: 1,
        method: 'POST',
        url: '/webhook/servicedesk?tenant_id=t',
        headers: { authorization: 'Bearer admin', 'x-servicedesk-signature': 'abc' },
      },
    });
    expect(lines[0]['req']).toEqual({
      id: 1,
      method: 'POST',
      url: '/webhook/servicedesk?tenant_id=t',
    });
  });

  it('leaves the caller’s object as it was, and returns it untouched when nothing matched', () => {
    const logged = { tenant: { secret: 's' }, n: 1 };
    const censored = censorSecrets(logged);
    expect(censored).toEqual({ tenant: { secret: '[Redacted]' }, n: 1 });
    expect(logged.tenant.secret).toBe('s');
    const clean = { tenant_id: 't', job: { id: 'j' } };
    expect(censorSecrets(clean)).toBe(clean);
  });
});
