import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a note's feedback links work. */
export const FEEDBACK_TOKEN_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a feedback link vouches for: the note of this job, of this tenant, until then. */
export interface FeedbackClaims {
  tenantId: string;
  jobId: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** `forged`: not ours (altered, another key, garbage) → 403; `expired` → 410. */
export type FeedbackTokenProblem = 'forged' | 'expired';

export class FeedbackTokenError extends Error {
  constructor(readonly problem: FeedbackTokenProblem) {
    super(
      problem === 'expired' ? 'this feedback link has expired' : 'this feedback link is not valid',
    );
    this.name = 'FeedbackTokenError';
  }
}

const b64 = (buf: Buffer) => buf.toString('base64url');

/**
 * Signed, expiring, per-job tokens for the note's feedback links:
 * `<tenant>.<job>.<expiry seconds, base 36>.<HMAC-SHA256>`, URL-safe, no
 * login. Several keys during a rotation (FEEDBACK_TOKEN_KEY, comma-separated):
 * the first signs, any verifies, compared in constant time.
 */
export class FeedbackTokens {
  private readonly keys: Buffer[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('FEEDBACK_TOKEN_KEY: at least one key is required');
    this.keys = keys.map((k) => {
      if (k.length < 32) throw new Error('FEEDBACK_TOKEN_KEY: each key needs 32+ characters');
      return Buffer.from(k, 'utf8');
    });
  }

  /** From the variable's value: comma-separated, the first signs. */
  static fromEnv(value: string): FeedbackTokens {
    return new FeedbackTokens(
      value
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    );
  }

  sign(tenantId: string, jobId: string, now = Date.now()): string {
    const expires = Math.floor((now + FEEDBACK_TOKEN_DAYS * DAY_MS) / 1000).toString(36);
    const body = `${tenantId}.${jobId}.${expires}`;
    return `${body}.${b64(this.mac(this.keys[0], body))}`;
  }

  /** The claims, or FeedbackTokenError: forged (or malformed) before expired, so an expiry is never an oracle. */
  verify(token: string, now = Date.now()): FeedbackClaims {
    const parts = token.split('.');
    if (parts.length !== 4) throw new FeedbackTokenError('forged');
    const [tenantId, jobId, expires, signature] = parts as [string, string, string, string];
    const body = `${tenantId}.${jobId}.${expires}`;
    const given = Buffer.from(signature, 'base64url');
    const valid = this.keys.some((key) => {
      const expected = this.mac(key, body);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!valid || !UUID.test(tenantId) || !UUID.test(jobId) || !/^[0-9a-z]{1,10}$/.test(expires)) {
      throw new FeedbackTokenError('forged');
    }
    const expiresAt = parseInt(expires, 36) * 1000;
    if (expiresAt <= now) throw new FeedbackTokenError('expired');
    return { tenantId, jobId, expiresAt };
  }

  private mac(key: Buffer, body: string): Buffer {
    return createHmac('sha256', key).update(`tep-feedback-v1.${body}`).digest();
  }
}
