import { findEmails, findPhones } from './contact-details';
import { findCards, findIbans } from './financial';
import { findSecrets } from './secrets';
import { findSignatureNames } from './signature-names';
import {
  REDACTION_KINDS,
  replaceSpans,
  resolveOverlaps,
  type PersonalDataKind,
  type RedactionKind,
  type Span,
} from './spans';

const DETECTORS: Record<RedactionKind, (text: string) => Span[]> = {
  secret: findSecrets,
  card: findCards,
  iban: findIbans,
  email: findEmails,
  phone: findPhones,
  name: findSignatureNames,
};

const LABELS: Record<RedactionKind, string> = {
  secret: 'SECRET',
  card: 'CARD',
  iban: 'IBAN',
  email: 'EMAIL',
  phone: 'PHONE',
  name: 'NAME',
};

const ALWAYS_REDACTED: ReadonlySet<RedactionKind> = new Set<RedactionKind>([
  'secret',
  'card',
  'iban',
]);

/**
 * Put back where the model echoes them: the technician needs the
 * requester's address, number and name. Secrets and card numbers never
 * come back (a note is no place for them), and neither do IBANs: bank
 * details are financial data no suggested action needs.
 */
const RESTORABLE: ReadonlySet<RedactionKind> = new Set<RedactionKind>(['email', 'phone', 'name']);

const PLACEHOLDER = new RegExp(String.raw`\[(?:${Object.values(LABELS).join('|')})_\d+\]`, 'g');

/** What stored text (ticket history) carries instead of a secret or card number. */
export const STORED_SECRET_PLACEHOLDER = '[REDACTED]';

export interface RedactorOptions {
  /** Personal data to redact too (the tenant's `redact` preference); secrets always are. */
  redact: readonly PersonalDataKind[];
}

export interface RestoreOptions {
  /** Restore only placeholders that occur in these redacted texts; the others stay. */
  onlyFrom?: readonly string[];
}

export interface Redactor {
  /** `text` with each finding replaced by a typed placeholder such as `[EMAIL_1]`. */
  redact(text: string): string;
  /** Puts back the e-mail, phone and name placeholders this redactor issued. */
  restore(text: string, options?: RestoreOptions): string;
  /** Replacements so far, by kind. */
  counts(): Record<RedactionKind, number>;
}

function detect(text: string, kinds: readonly RedactionKind[]): Span[] {
  return kinds.flatMap((kind) => DETECTORS[kind](text));
}

/** Same value, same placeholder, however it was written ("+49 30 1234567" = "+49301234567"). */
function canonical(kind: RedactionKind, value: string): string {
  switch (kind) {
    case 'email':
      return value.toLowerCase();
    case 'phone':
    case 'card':
    case 'iban':
      return value.replace(/[^\dA-Za-z+]/g, '').toUpperCase();
    case 'secret':
    case 'name':
      return value;
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where names found in a signature appear again, e.g. "Anna Schmidt's laptop". */
function occurrences(names: ReadonlySet<string>, text: string): Span[] {
  if (names.size === 0) return [];
  const alternatives = [...names].map(escapeRegExp).join('|');
  const pattern = new RegExp(
    String.raw`(?<![\p{L}\p{M}])(?:${alternatives})(?![\p{L}\p{M}])`,
    'gu',
  );
  return [...text.matchAll(pattern)].map((match): Span => ({
    start: match.index,
    end: match.index + match[0].length,
    kind: 'name',
  }));
}

/**
 * One redactor per job, so a value keeps its placeholder across the
 * ticket and its context, and placeholders can be restored in the answer.
 * A signature name is also replaced wherever it appears in later text.
 */
export function createRedactor(options: RedactorOptions): Redactor {
  const chosen = new Set<RedactionKind>(options.redact);
  const kinds = REDACTION_KINDS.filter((kind) => ALWAYS_REDACTED.has(kind) || chosen.has(kind));
  const byValue = new Map<string, string>();
  const originals = new Map<string, string>();
  const issued = Object.fromEntries(REDACTION_KINDS.map((kind) => [kind, 0])) as Record<
    RedactionKind,
    number
  >;
  const counts = { ...issued };
  const names = new Set<string>();

  function placeholderFor(kind: RedactionKind, value: string): string {
    const key = `${kind}:${canonical(kind, value)}`;
    let placeholder = byValue.get(key);
    if (placeholder === undefined) {
      issued[kind] += 1;
      placeholder = `[${LABELS[kind]}_${issued[kind]}]`;
      byValue.set(key, placeholder);
      if (RESTORABLE.has(kind)) originals.set(placeholder, value);
    }
    counts[kind] += 1;
    return placeholder;
  }

  return {
    redact(text) {
      const found = detect(text, kinds);
      for (const span of found) {
        if (span.kind === 'name') names.add(text.slice(span.start, span.end));
      }
      const spans = resolveOverlaps([...found, ...occurrences(names, text)]);
      return replaceSpans(text, spans, (value, span) => placeholderFor(span.kind, value));
    },
    restore(text, { onlyFrom } = {}) {
      const allowed =
        onlyFrom && new Set(onlyFrom.flatMap((from) => from.match(PLACEHOLDER) ?? []));
      return text.replace(PLACEHOLDER, (placeholder) =>
        allowed && !allowed.has(placeholder)
          ? placeholder
          : (originals.get(placeholder) ?? placeholder),
      );
    },
    counts: () => ({ ...counts }),
  };
}

/**
 * For text that is stored (ticket history): secrets and card numbers become
 * `[REDACTED]`; personal data stays, as the stored ticket holds it anyway.
 */
export function stripSecrets(text: string): string {
  const spans = resolveOverlaps(detect(text, ['secret', 'card']));
  return replaceSpans(text, spans, () => STORED_SECRET_PLACEHOLDER);
}
