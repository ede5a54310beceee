import { FEEDBACK_TOKEN_DAYS, FeedbackTokenError, FeedbackTokens } from './feedback-token';

const TENANT = '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const JOB = '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9';
const KEY_A = 'a'.repeat(32);
const KEY_B = 'b'.repeat(40);
const DAY = 24 * 60 * 60 * 1000;

const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof FeedbackTokenError ? error.problem : `other: ${String(error)}`;
  }
  return 'accepted';
};

describe('FeedbackTokens', () => {
  const now = Date.UTC(2026, 11, 1);
  const tokens = new FeedbackTokens([KEY_A]);

  it('names tenant and job, is URL-safe, and expires after 30 days', () => {
    const token = tokens.sign(TENANT, JOB, now);
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(tokens.verify(token, now + DAY)).toMatchObject({ tenantId: TENANT, jobId: JOB });
    expect(problem(() => tokens.verify(token, now + (FEEDBACK_TOKEN_DAYS - 1) * DAY))).toBe(
      'accepted',
    );
    expect(problem(() => tokens.verify(token, now + FEEDBACK_TOKEN_DAYS * DAY + 1000))).toBe(
      'expired',
    );
  });

  it('refuses an altered tenant, job, expiry or signature, and garbage, as forged', () => {
    const token = tokens.sign(TENANT, JOB, now);
    const [t, j, e, s] = token.split('.') as [string, string, string, string];
    const other = '11111111-2222-4333-8444-555555555555';
    for (const forged of [
      [other, j, e, s],
      [t, other, e, s],
      [t, j, (parseInt(e, 36) + 86_400).toString(36), s],
      [t, j, e, `${s.slice(0, -2)}AA`],
      [t, j, e],
    ]) {
      expect(problem(() => tokens.verify(forged.join('.'), now))).toBe('forged');
    }
    for (const garbage of ['', '....', 'x'.repeat(5000), `${TENANT}.${JOB}.zzzzzzzzzzzz.${s}`]) {
      expect(problem(() => tokens.verify(garbage, now))).toBe('forged');
    }
    // An expired token that was also altered is forged, not expired: no oracle for guessers.
    expect(problem(() => tokens.verify([other, j, e, s].join('.'), now + 40 * DAY))).toBe('forged');
  });

  it('rotates: the first key signs, every listed key verifies, a dropped key no longer does', () => {
    const old = new FeedbackTokens([KEY_A]).sign(TENANT, JOB, now);
    const rotating = FeedbackTokens.fromEnv(`${KEY_B}, ${KEY_A}`);
    expect(problem(() => rotating.verify(old, now))).toBe('accepted');
    const fresh = rotating.sign(TENANT, JOB, now);
    expect(problem(() => new FeedbackTokens([KEY_B]).verify(fresh, now))).toBe('accepted');
    expect(problem(() => new FeedbackTokens([KEY_B]).verify(old, now))).toBe('forged');
  });

  it('needs keys of 32+ characters', () => {
    expect(() => FeedbackTokens.fromEnv('')).toThrow(/at least one key/);
    expect(() => FeedbackTokens.fromEnv('short')).toThrow(/32\+ characters/);
  });
});
