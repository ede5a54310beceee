import { classifyFailure, ServiceDeskError, truncateUpstreamText } from './errors';

describe('classifyFailure', () => {
  it.each([
    [401, 4022, 'auth'],
    [403, 4002, 'auth'],
    [404, 4007, 'not_found'],
    [400, 4001, 'validation'],
    [400, 4008, 'validation'],
    [400, 4009, 'validation'],
    [400, 4012, 'validation'],
    [400, 4014, 'validation'],
    [400, 4021, 'validation'],
    [429, 4015, 'rate_limited'],
    [500, 4004, 'unavailable'],
    [401, undefined, 'auth'],
    [403, undefined, 'auth'],
    [404, undefined, 'not_found'],
    [429, undefined, 'rate_limited'],
    [502, undefined, 'unavailable'],
    [400, 4000, 'validation'],
    [405, undefined, 'unexpected_response'],
  ] as const)('HTTP %s with SDP %s is %s', (http, sdp, kind) => {
    expect(classifyFailure(http, sdp)).toBe(kind);
  });

  it('makes rate_limited, unavailable and timeout retryable by default, the rest not', () => {
    const retryable = (
      [
        'auth',
        'not_found',
        'validation',
        'rate_limited',
        'unavailable',
        'timeout',
        'unexpected_response',
      ] as const
    ).filter((kind) => new ServiceDeskError(kind, 'x').retryable);
    expect(retryable).toEqual(['rate_limited', 'unavailable', 'timeout']);
  });

  it('keeps upstream text short and on one line', () => {
    const text = truncateUpstreamText(`line1\r\nline2 ${'x'.repeat(500)}`);
    expect(text.startsWith('line1 line2 ')).toBe(true);
    expect(text.length).toBe(161);
  });
});
