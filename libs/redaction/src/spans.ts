/**
 * What a placeholder stands for, in priority order: where matches overlap,
 * the earlier kind wins. Secrets, cards and IBANs are always redacted.
 */
export const REDACTION_KINDS = ['secret', 'card', 'iban', 'email', 'phone', 'name'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

/** The kinds a tenant may choose to redact (preference `redact`). */
export type PersonalDataKind = Extract<RedactionKind, 'email' | 'phone' | 'name'>;

/** A stretch of text to replace: [start, end) in UTF-16 code units. */
export interface Span {
  start: number;
  end: number;
  kind: RedactionKind;
}

/**
 * Spans of every match of `pattern` (flags `g` and `d`): its `value` group
 * when it has one, so labels stay readable ("password: [SECRET_1]"), else
 * the whole match.
 */
export function matchSpans(text: string, pattern: RegExp, kind: RedactionKind): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(pattern)) {
    const [start, end] = match.indices?.groups?.['value'] ?? match.indices?.[0] ?? [0, 0];
    if (end > start) spans.push({ start, end, kind });
  }
  return spans;
}

/**
 * Keeps the first of overlapping spans in the given (priority) order, then
 * sorts by position: a password inside a connection string stays a secret
 * even though it also looks like an e-mail local part.
 */
export function resolveOverlaps(spans: readonly Span[]): Span[] {
  const kept: Span[] = [];
  for (const span of spans) {
    if (!kept.some((other) => span.start < other.end && other.start < span.end)) kept.push(span);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** Rebuilds `text` with each (non-overlapping, sorted) span replaced. */
export function replaceSpans(
  text: string,
  spans: readonly Span[],
  replacement: (value: string, span: Span) => string,
): string {
  let result = '';
  let at = 0;
  for (const span of spans) {
    result += text.slice(at, span.start) + replacement(text.slice(span.start, span.end), span);
    at = span.end;
  }
  return result + text.slice(at);
}
