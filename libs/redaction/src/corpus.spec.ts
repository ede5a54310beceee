import { REDACTION_CORPUS } from './test-corpus/corpus';
import { createRedactor, stripSecrets } from './redactor';
import { REDACTION_KINDS, type RedactionKind } from './spans';

const everything = () => createRedactor({ redact: ['email', 'phone', 'name'] });
const valuesOf = (sample: (typeof REDACTION_CORPUS)[number], kinds: readonly RedactionKind[]) =>
  kinds.flatMap((kind) => sample.values[kind] ?? []);

describe('the redaction corpus', () => {
  it('has at least 40 samples in several languages, with negatives', () => {
    expect(REDACTION_CORPUS.length).toBeGreaterThanOrEqual(40);
    expect(
      REDACTION_CORPUS.filter((s) => Object.keys(s.values).length === 0).length,
    ).toBeGreaterThanOrEqual(4);
    for (const kind of REDACTION_KINDS) {
      expect(REDACTION_CORPUS.some((sample) => (sample.values[kind]?.length ?? 0) > 0)).toBe(true);
    }
  });

  it.each(REDACTION_CORPUS.map((sample) => [sample.name, sample] as const))(
    '%s: every value is replaced, nothing else is',
    (_name, sample) => {
      const redactor = everything();

      const redacted = redactor.redact(sample.text);

      for (const value of valuesOf(sample, REDACTION_KINDS)) expect(redacted).not.toContain(value);
      for (const kept of sample.keep ?? []) expect(redacted).toContain(kept);
      const expected = Object.fromEntries(
        REDACTION_KINDS.map((kind) => [kind, sample.values[kind]?.length ?? 0]),
      );
      expect(redactor.counts()).toEqual(expected);
    },
  );

  it.each(REDACTION_CORPUS.map((sample) => [sample.name, sample] as const))(
    '%s: restore brings back personal data only',
    (_name, sample) => {
      const redactor = everything();

      const restored = redactor.restore(redactor.redact(sample.text));

      for (const value of valuesOf(sample, ['email', 'phone', 'name'])) {
        expect(restored).toContain(value);
      }
      for (const value of valuesOf(sample, ['secret', 'card', 'iban'])) {
        expect(restored).not.toContain(value);
      }
    },
  );

  it.each(REDACTION_CORPUS.map((sample) => [sample.name, sample] as const))(
    '%s: stripSecrets removes secrets and cards for storage',
    (_name, sample) => {
      const stored = stripSecrets(sample.text);

      for (const value of valuesOf(sample, ['secret', 'card'])) expect(stored).not.toContain(value);
      for (const value of valuesOf(sample, ['iban', 'email', 'phone', 'name'])) {
        expect(stored).toContain(value);
      }
      for (const kept of sample.keep ?? []) expect(stored).toContain(kept);
    },
  );
});
