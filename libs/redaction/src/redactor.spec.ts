import { createRedactor, stripSecrets } from './redactor';

const all = () => createRedactor({ redact: ['email', 'phone', 'name'] });

describe('createRedactor', () => {
  it('numbers placeholders per kind and reuses them for the same value across texts', () => {
    const redactor = all();

    const first = redactor.redact('Mail anna@example.com or bob@example.com, password: Hunter2!');
    const second = redactor.redact('Anna@Example.com again; call +49 30 1234567 or +49301234567');

    expect(first).toBe('Mail [EMAIL_1] or [EMAIL_2], password: [SECRET_1]');
    expect(second).toBe('[EMAIL_1] again; call [PHONE_1] or [PHONE_1]');
    expect(redactor.counts()).toEqual({
      secret: 1,
      card: 0,
      iban: 0,
      email: 3,
      phone: 2,
      name: 0,
    });
  });

  it('keeps personal data the tenant did not ask to redact, but never secrets, cards or IBANs', () => {
    const redactor = createRedactor({ redact: ['phone'] });
    const text =
      'anna@example.com, +49 30 1234567, card 4111 1111 1111 1111, DE89370400440532013000, pwd=abc123\nRegards,\nAnna Schmidt';

    expect(redactor.redact(text)).toBe(
      'anna@example.com, [PHONE_1], card [CARD_1], [IBAN_1], pwd=[SECRET_1]\nRegards,\nAnna Schmidt',
    );
  });

  it('gives a secret inside a URL precedence over the e-mail it looks like', () => {
    const redactor = all();

    expect(redactor.redact('redis://cache:s3cret@cache01.example.com:6379')).toBe(
      'redis://cache:[SECRET_1]@cache01.example.com:6379',
    );
    expect(redactor.counts().email).toBe(0);
  });

  it('replaces a signature name wherever it appears in later text of the job', () => {
    const redactor = all();
    redactor.redact('Printer offline.\nKind regards,\nLukas Weber');

    expect(redactor.redact('Resolved for Lukas Weber; Lukas Webermann is someone else.')).toBe(
      'Resolved for [NAME_1]; Lukas Webermann is someone else.',
    );
  });

  it('restores e-mail, phone and name placeholders, never secrets, cards or IBANs', () => {
    const redactor = all();
    redactor.redact(
      'anna@example.com +49 30 1234567 token: abcdef123456 4111111111111111 NL91ABNA0417164300\nThanks, Anna',
    );

    const restored = redactor.restore(
      'Write to [EMAIL_1] or call [PHONE_1] ([NAME_1]); rotate [SECRET_1]; [CARD_1] [IBAN_1] [EMAIL_7]',
    );

    expect(restored).toBe(
      'Write to anna@example.com or call +49 30 1234567 (Anna); rotate [SECRET_1]; [CARD_1] [IBAN_1] [EMAIL_7]',
    );
  });

  it('restores only placeholders that occur in the given texts when asked', () => {
    const redactor = all();
    const own = redactor.redact('I am anna@example.com');
    redactor.redact('Other ticket: bob@example.com');

    expect(redactor.restore('[EMAIL_1] and [EMAIL_2]', { onlyFrom: [own] })).toBe(
      'anna@example.com and [EMAIL_2]',
    );
  });
});

describe('stripSecrets', () => {
  it('replaces secrets and card numbers with [REDACTED] and keeps personal data', () => {
    expect(
      stripSecrets(
        'Password=Secr3t!; card 5555-5555-5555-4444; anna@example.com; +49 30 1234567; DE89370400440532013000',
      ),
    ).toBe(
      'Password=[REDACTED]; card [REDACTED]; anna@example.com; +49 30 1234567; DE89370400440532013000',
    );
  });
});
