import vectors from './test-vectors/webhook-signatures.json';
import { hmacEngine } from './hmac';
import { signHex, signStandardWebhook, verifyHexSignature, verifyStandardWebhook } from './index';

const body = Buffer.from('{"ticket_id":"TKT-123"}');

describe('runbook and GitHub hex signatures', () => {
  const gh = vectors.github_x_hub_signature_256;

  it("passes GitHub's published vector in the sha256= form and as bare hex", () => {
    const rawBody = Buffer.from(gh.payload);
    expect(
      verifyHexSignature({ rawBody, signatureHeader: gh.header, secrets: [gh.secret] }),
    ).toEqual({ ok: true, matchedSecretIndex: 0 });
    expect(verifyHexSignature({ rawBody, signatureHeader: gh.hex, secrets: [gh.secret] })).toEqual({
      ok: true,
      matchedSecretIndex: 0,
    });
    expect(signHex(gh.secret, gh.payload)).toBe(gh.hex);
  });

  it('accepts uppercase hex and surrounding whitespace', () => {
    const sig = signHex('s3cret', body).toUpperCase();
    expect(
      verifyHexSignature({ rawBody: body, signatureHeader: ` ${sig} `, secrets: ['s3cret'] }).ok,
    ).toBe(true);
  });

  it('matches the second secret during a rotation and says which', () => {
    const sig = signHex('new', body);
    expect(
      verifyHexSignature({ rawBody: body, signatureHeader: sig, secrets: ['old', 'new'] }),
    ).toEqual({ ok: true, matchedSecretIndex: 1 });
  });

  it.each([
    ['missing', undefined, 'missing'],
    ['empty', '', 'missing'],
    ['wrong secret', signHex('other', body), 'mismatch'],
    ['wrong length', 'abc123', 'mismatch'],
    ['non-hex', 'z'.repeat(64), 'mismatch'],
    ['63 hex chars', signHex('s3cret', body).slice(1), 'mismatch'],
    ['oversized header', 'a'.repeat(5000), 'malformed'],
  ])('%s → %s, never a throw', (_name, header, reason) => {
    expect(
      verifyHexSignature({ rawBody: body, signatureHeader: header, secrets: ['s3cret'] }),
    ).toEqual({ ok: false, reason });
  });

  it("fails when one trailing newline differs (the runbook's curl -d pitfall)", () => {
    const file = Buffer.from('{\n  "ticket_id": "TKT-12345"\n}\n');
    const sig = signHex('s3cret', file);
    const curlDashD = Buffer.from(file.toString().replace(/\n/g, ''));
    expect(
      verifyHexSignature({ rawBody: file, signatureHeader: sig, secrets: ['s3cret'] }).ok,
    ).toBe(true);
    expect(
      verifyHexSignature({ rawBody: curlDashD, signatureHeader: sig, secrets: ['s3cret'] }),
    ).toEqual({ ok: false, reason: 'mismatch' });
    expect(
      verifyHexSignature({
        rawBody: file.subarray(0, -1),
        signatureHeader: sig,
        secrets: ['s3cret'],
      }).ok,
    ).toBe(false);
  });
});

describe('Standard Webhooks v1', () => {
  const v = vectors.standard_webhooks_v1;
  const rawBody = Buffer.from(v.payload);
  const headers = {
    id: v.webhook_id,
    timestamp: v.webhook_timestamp,
    signature: v.webhook_signature,
  };
  const at = (seconds: number) => new Date(seconds * 1000);
  const sent = Number(v.webhook_timestamp);

  it('passes the published vector and returns the delivery id', () => {
    expect(verifyStandardWebhook({ rawBody, headers, secrets: [v.secret], now: at(sent) })).toEqual(
      {
        ok: true,
        matchedSecretIndex: 0,
        webhookId: v.webhook_id,
      },
    );
    expect(
      signStandardWebhook({
        secret: v.secret,
        id: v.webhook_id,
        timestamp: v.webhook_timestamp,
        body: v.payload,
      }),
    ).toBe(v.webhook_signature);
  });

  it('accepts any of several v1 signatures (rotation) and ignores other versions', () => {
    const signature = `v2,abc v1,${Buffer.alloc(32).toString('base64')} ${v.webhook_signature}`;
    expect(
      verifyStandardWebhook({
        rawBody,
        headers: { ...headers, signature },
        secrets: [v.secret],
        now: at(sent),
      }).ok,
    ).toBe(true);
  });

  it('refuses stale and future timestamps before computing any HMAC', () => {
    const spy = jest.spyOn(hmacEngine, 'sha256');
    try {
      expect(
        verifyStandardWebhook({ rawBody, headers, secrets: [v.secret], now: at(sent + 301) }),
      ).toEqual({ ok: false, reason: 'stale' });
      expect(
        verifyStandardWebhook({ rawBody, headers, secrets: [v.secret], now: at(sent - 301) }),
      ).toEqual({ ok: false, reason: 'future' });
      expect(spy).not.toHaveBeenCalled();
      expect(
        verifyStandardWebhook({ rawBody, headers, secrets: [v.secret], now: at(sent + 299) }).ok,
      ).toBe(true);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it.each([
    ['missing id', { ...headers, id: undefined }, 'missing'],
    ['non-numeric timestamp', { ...headers, timestamp: '16142653e0' }, 'malformed'],
    ['no v1 entry', { ...headers, signature: 'v2,abc' }, 'malformed'],
    [
      'tampered signature',
      { ...headers, signature: 'v1,' + Buffer.alloc(32).toString('base64') },
      'mismatch',
    ],
    ['short signature', { ...headers, signature: 'v1,AAAA' }, 'mismatch'],
  ])('%s → %s', (_name, h, reason) => {
    expect(
      verifyStandardWebhook({ rawBody, headers: h, secrets: [v.secret], now: at(sent) }),
    ).toEqual({ ok: false, reason });
  });
});
