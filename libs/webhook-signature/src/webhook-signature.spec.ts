import { createHmac, randomBytes } from 'node:crypto';
// In-repo copy of the published vectors: CI clones this repo alone.
import vectors from './test-vectors/webhook-signatures.json';
import { hmacEngine } from './hmac';
import {
  GITHUB_SIGNATURE_HEADER,
  SERVICEDESK_SIGNATURE_HEADER,
  STANDARD_WEBHOOK_HEADERS,
  WebhookSecretError,
  signHex,
  signStandardWebhook,
  standardWebhookKey,
  verifyHexSignature,
  verifyStandardWebhook,
  verifyStaticToken,
  standardWebhookSecretFor,
} from './index';

const body = Buffer.from('{"ticket_id":"TKT-123"}');

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

it('exports the lower-cased header names Node presents', () => {
  expect(SERVICEDESK_SIGNATURE_HEADER).toBe('x-servicedesk-signature');
  expect(GITHUB_SIGNATURE_HEADER).toBe('x-hub-signature-256');
  expect(STANDARD_WEBHOOK_HEADERS).toEqual({
    id: 'webhook-id',
    timestamp: 'webhook-timestamp',
    signature: 'webhook-signature',
  });
});

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
    expect(signHex(gh.secret, rawBody)).toBe(gh.hex);
  });

  it('matches `openssl dgst -sha256 -hmac "$SECRET"`: the secret string bytes, not hex-decoded', () => {
    // Recorded from: printf '<body>' > body.json && openssl dgst -sha256 -hmac "7f3e9a2b4c1d" body.json
    const file = Buffer.from('{"ticket_id":"TKT-12345","event":"request_created"}');
    const opensslOutput = '5f8b10ae9b3b2ede754a8f214acdfff56d17e79cbba11cecf376100d71a2440c';
    expect(signHex('7f3e9a2b4c1d', file)).toBe(opensslOutput);
    const hexDecodedKey = createHmac('sha256', Buffer.from('7f3e9a2b4c1d', 'hex'))
      .update(file)
      .digest('hex');
    expect(
      verifyHexSignature({
        rawBody: file,
        signatureHeader: hexDecodedKey,
        secrets: ['7f3e9a2b4c1d'],
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('accepts uppercase hex, an uppercase prefix and surrounding whitespace', () => {
    const sig = signHex('s3cret', body);
    for (const header of [
      sig.toUpperCase(),
      ` ${sig} `,
      `SHA256=${sig}`,
      `sha256=${sig.toUpperCase()}`,
    ]) {
      expect(
        verifyHexSignature({ rawBody: body, signatureHeader: header, secrets: ['s3cret'] }),
      ).toEqual({
        ok: true,
        matchedSecretIndex: 0,
      });
    }
  });

  it('matches the second secret during a rotation and says which', () => {
    expect(
      verifyHexSignature({
        rawBody: body,
        signatureHeader: signHex('new', body),
        secrets: ['old', 'new'],
      }),
    ).toEqual({ ok: true, matchedSecretIndex: 1 });
    expect(
      verifyHexSignature({
        rawBody: body,
        signatureHeader: signHex('old', body),
        secrets: ['old', 'new'],
      }),
    ).toEqual({ ok: true, matchedSecretIndex: 0 });
  });

  it('computes the HMAC with every secret, so timing does not reveal which matched', () => {
    const spy = jest.spyOn(hmacEngine, 'sha256');
    try {
      const check = verifyHexSignature({
        rawBody: body,
        signatureHeader: signHex('a', body),
        secrets: ['a', 'b', 'c'],
      });
      expect(check).toEqual({ ok: true, matchedSecretIndex: 0 });
      // One call from signHex above, three from the verification.
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      spy.mockRestore();
    }
  });

  const validSignature = signHex('s3cret', body);
  it.each([
    ['missing', undefined, 'missing'],
    ['empty', '', 'missing'],
    ['blank', '   ', 'missing'],
    ['wrong secret', signHex('other', body), 'mismatch'],
    ['wrong secret, GitHub form', `sha256=${signHex('other', body)}`, 'mismatch'],
    ['too short', 'abc123', 'malformed'],
    ['63 hex chars', validSignature.slice(1), 'malformed'],
    ['65 hex chars', `${validSignature}0`, 'malformed'],
    ['non-hex', 'z'.repeat(64), 'malformed'],
    ['only the prefix', 'sha256=', 'malformed'],
    ['a sha1 signature', `sha1=${'a'.repeat(40)}`, 'malformed'],
    ['two joined headers', `${validSignature}, ${validSignature}`, 'malformed'],
    ['oversized header', 'a'.repeat(5000), 'malformed'],
  ])('%s → %s, never a throw', (_case, header, reason) => {
    expect(
      verifyHexSignature({ rawBody: body, signatureHeader: header, secrets: ['s3cret'] }),
    ).toEqual({ ok: false, reason });
  });

  it('computes no HMAC for a malformed or oversized header', () => {
    const spy = jest.spyOn(hmacEngine, 'sha256');
    try {
      for (const header of ['abc123', 'a'.repeat(5000), 'sha256=' + 'g'.repeat(64)]) {
        verifyHexSignature({ rawBody: body, signatureHeader: header, secrets: ['s3cret'] });
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('never matches with no secrets or an empty secret, and refuses to sign with one', () => {
    const signedWithEmptyKey = createHmac('sha256', '').update(body).digest('hex');
    expect(
      verifyHexSignature({ rawBody: body, signatureHeader: signedWithEmptyKey, secrets: [] }),
    ).toEqual({ ok: false, reason: 'mismatch' });
    expect(
      verifyHexSignature({ rawBody: body, signatureHeader: signedWithEmptyKey, secrets: [''] }),
    ).toEqual({ ok: false, reason: 'mismatch' });
    const error = thrownBy(() => signHex('', body));
    expect(error).toBeInstanceOf(WebhookSecretError);
    expect((error as WebhookSecretError).code).toBe('INVALID_SECRET');
  });

  it('answers arbitrary headers with a failure result, never a throw', () => {
    const reasons = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const header = randomBytes(i % 100).toString(i % 2 ? 'latin1' : 'hex');
      const check = verifyHexSignature({
        rawBody: body,
        signatureHeader: header,
        secrets: ['s3cret'],
      });
      expect(check.ok).toBe(false);
      if (!check.ok) reasons.add(check.reason);
    }
    expect([...reasons].every((r) => ['missing', 'malformed', 'mismatch'].includes(r))).toBe(true);
  });

  it("fails when one trailing newline differs (the runbook's curl -d pitfall)", () => {
    const file = Buffer.from('{\n  "ticket_id": "TKT-12345"\n}\n');
    const sig = signHex('s3cret', file);
    // curl -d @file strips the newlines; --data-binary @file sends the signed bytes.
    const curlDashD = Buffer.from(file.toString().replace(/\n/g, ''));
    expect(
      verifyHexSignature({ rawBody: file, signatureHeader: sig, secrets: ['s3cret'] }),
    ).toEqual({
      ok: true,
      matchedSecretIndex: 0,
    });
    expect(
      verifyHexSignature({ rawBody: curlDashD, signatureHeader: sig, secrets: ['s3cret'] }),
    ).toEqual({ ok: false, reason: 'mismatch' });
    expect(
      verifyHexSignature({
        rawBody: file.subarray(0, -1),
        signatureHeader: sig,
        secrets: ['s3cret'],
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('verifies the raw bytes, not an equivalent re-serialised JSON', () => {
    const raw = Buffer.from('{"ticket_id": "TKT-123",  "n": 1.0}');
    const sig = signHex('s3cret', raw);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString())));
    expect(verifyHexSignature({ rawBody: raw, signatureHeader: sig, secrets: ['s3cret'] }).ok).toBe(
      true,
    );
    expect(
      verifyHexSignature({ rawBody: reserialised, signatureHeader: sig, secrets: ['s3cret'] }),
    ).toEqual({ ok: false, reason: 'mismatch' });
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
  const verifyAt = (
    now: Date,
    overrides: Partial<Parameters<typeof verifyStandardWebhook>[0]> = {},
  ) => verifyStandardWebhook({ rawBody, headers, secrets: [v.secret], now, ...overrides });

  it('passes the published vector and returns the delivery id', () => {
    expect(verifyAt(at(sent))).toEqual({
      ok: true,
      matchedSecretIndex: 0,
      webhookId: v.webhook_id,
    });
    expect(
      signStandardWebhook({
        secret: v.secret,
        id: v.webhook_id,
        timestamp: v.webhook_timestamp,
        body: v.payload,
      }),
    ).toBe(v.webhook_signature);
    expect(
      signStandardWebhook({ secret: v.secret, id: v.webhook_id, timestamp: sent, body: rawBody }),
    ).toBe(v.webhook_signature);
  });

  it('signs `${id}.${timestamp}.${body}` with the base64-decoded key', () => {
    const key = Buffer.from(v.secret.slice('whsec_'.length), 'base64');
    expect(standardWebhookKey(v.secret)).toEqual(key);
    const independent = createHmac('sha256', key).update(v.signed_content).digest('base64');
    expect(`v1,${independent}`).toBe(v.webhook_signature);
  });

  it('accepts the secret without its whsec_ prefix', () => {
    expect(verifyAt(at(sent), { secrets: [v.secret.slice('whsec_'.length)] }).ok).toBe(true);
  });

  it('accepts any of several v1 signatures (rotation) and ignores other versions', () => {
    const zeros = Buffer.alloc(32).toString('base64');
    const signature = `v2,abc v1,${zeros}  ${v.webhook_signature} v1a,${zeros}`;
    expect(verifyAt(at(sent), { headers: { ...headers, signature } })).toEqual({
      ok: true,
      matchedSecretIndex: 0,
      webhookId: v.webhook_id,
    });
    // The right bytes under another version prefix are not a v1 signature.
    const otherVersion = v.webhook_signature.replace(/^v1,/, 'v2,');
    expect(verifyAt(at(sent), { headers: { ...headers, signature: otherVersion } })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('matches the second secret during a rotation and says which', () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    expect(verifyAt(at(sent), { secrets: [other, v.secret] })).toEqual({
      ok: true,
      matchedSecretIndex: 1,
      webhookId: v.webhook_id,
    });
  });

  it('accepts timestamps up to the tolerance either way and refuses beyond', () => {
    expect(verifyAt(at(sent + 300)).ok).toBe(true);
    expect(verifyAt(at(sent - 300)).ok).toBe(true);
    expect(verifyAt(at(sent + 301))).toEqual({ ok: false, reason: 'stale' });
    expect(verifyAt(at(sent - 301))).toEqual({ ok: false, reason: 'future' });
    expect(verifyAt(at(sent + 11), { toleranceSeconds: 10 })).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it('refuses stale and future timestamps before computing any HMAC', () => {
    const spy = jest.spyOn(hmacEngine, 'sha256');
    // Reading the secrets at all would throw: the time check must come first.
    const untouchable = new Proxy([v.secret], {
      get() {
        throw new Error('secrets were read');
      },
    });
    try {
      expect(verifyAt(at(sent + 301), { secrets: untouchable })).toEqual({
        ok: false,
        reason: 'stale',
      });
      expect(verifyAt(at(sent - 301), { secrets: untouchable })).toEqual({
        ok: false,
        reason: 'future',
      });
      expect(spy).not.toHaveBeenCalled();
      expect(verifyAt(at(sent + 299)).ok).toBe(true);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses instead of skipping the time check when the clock or tolerance is not a number', () => {
    expect(verifyAt(new Date('nonsense'))).toEqual({ ok: false, reason: 'stale' });
    expect(verifyAt(at(sent), { toleranceSeconds: Number.NaN })).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  const zeros = 'v1,' + Buffer.alloc(32).toString('base64');
  it.each([
    ['missing id', { ...headers, id: undefined }, 'missing'],
    ['missing timestamp', { ...headers, timestamp: undefined }, 'missing'],
    ['empty signature', { ...headers, signature: '' }, 'missing'],
    ['exponent timestamp', { ...headers, timestamp: '16142653e0' }, 'malformed'],
    ['negative timestamp', { ...headers, timestamp: '-1614265330' }, 'malformed'],
    ['fractional timestamp', { ...headers, timestamp: '1614265330.5' }, 'malformed'],
    ['padded timestamp', { ...headers, timestamp: ' 1614265330' }, 'malformed'],
    ['oversized id', { ...headers, id: 'm'.repeat(257) }, 'malformed'],
    ['oversized signature list', { ...headers, signature: `${zeros} `.repeat(200) }, 'malformed'],
    ['no v1 entry', { ...headers, signature: 'v2,abc' }, 'malformed'],
    ['tampered signature', { ...headers, signature: zeros }, 'mismatch'],
    ['short signature', { ...headers, signature: 'v1,AAAA' }, 'mismatch'],
    ['empty v1 signature', { ...headers, signature: 'v1,' }, 'mismatch'],
    ['non-base64 signature', { ...headers, signature: 'v1,%%%%' }, 'mismatch'],
    ['another delivery id', { ...headers, id: 'msg_other' }, 'mismatch'],
    [
      'timestamp text not the one signed',
      { ...headers, timestamp: `0${v.webhook_timestamp}` },
      'mismatch',
    ],
  ])('%s → %s, never a throw', (_case, h, reason) => {
    expect(verifyAt(at(sent), { headers: h })).toEqual({ ok: false, reason });
  });

  it('fails when the body differs by one trailing newline', () => {
    expect(verifyAt(at(sent), { rawBody: Buffer.from(`${v.payload}\n`) })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('ignores unusable secrets when verifying and refuses them when signing', () => {
    const unusable = ['whsec_', 'whsec_not base64!', ''];
    expect(verifyAt(at(sent), { secrets: unusable })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyAt(at(sent), { secrets: [...unusable, v.secret] })).toEqual({
      ok: true,
      matchedSecretIndex: 3,
      webhookId: v.webhook_id,
    });
    const error = thrownBy(() =>
      signStandardWebhook({ secret: 'whsec_not base64!', id: 'x', timestamp: 1, body: '' }),
    );
    expect(error).toBeInstanceOf(WebhookSecretError);
    expect((error as WebhookSecretError).code).toBe('INVALID_SECRET');
    expect((error as Error).message).not.toContain('not base64!');
  });
});

describe('static token (the explicit weaker fallback)', () => {
  it('accepts any active secret, in constant time, and nothing else', () => {
    expect(verifyStaticToken({ token: 'new', secrets: ['old', 'new'] })).toEqual({
      ok: true,
      matchedSecretIndex: 1,
    });
    expect(verifyStaticToken({ token: 'ne', secrets: ['new'] })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyStaticToken({ token: undefined, secrets: ['new'] })).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(verifyStaticToken({ token: '', secrets: [''] })).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(verifyStaticToken({ token: 'x'.repeat(2000), secrets: ['new'] })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('writes a tenant secret as a Standard Webhooks secret with the same key bytes', () => {
    const secret = 'a'.repeat(64);
    const sw = standardWebhookSecretFor(secret);
    expect(sw).toMatch(/^whsec_/);
    const signature = signStandardWebhook({
      secret: sw,
      id: 'msg_1',
      timestamp: 1700000000,
      body: '{}',
    });
    expect(signature).toBe(
      `v1,${createHmac('sha256', secret).update('msg_1.1700000000.{}').digest('base64')}`,
    );
  });
});
