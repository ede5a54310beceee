import { matchSpans, type Span } from './spans';

const EMAIL =
  /(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b/dg;

export function findEmails(text: string): Span[] {
  return matchSpans(text, EMAIL, 'email');
}

/**
 * Digit groups joined by single separators, as phone numbers are written:
 * "+49 (0)30 1234-567", "(555) 123-4567", "030/1234567", "06.12.34.56.78".
 * Never starting inside a word, an IP address, a version or a path.
 */
const PHONE_CANDIDATE =
  /(?<![\w@+./-])(?:\+|\()?\d+(?:(?:[ ./-]| ?\(0\) ?| ?\(|\) ?)\d+)*(?![\w@])/g;

/** E.164 numbers as written have at most this many digit groups (and so space-separated chunks). */
const MAX_GROUPS = 6;
/** Dates are digit groups too: 28.11.2024, 2024-11-28, 11/28/24. */
const DATE = /^(?:\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}([./-])\d{1,2}\2\d{1,2})$/;
/** French (and some North American) numbers are dotted; otherwise dots mean an IP address or a version. */
const FRENCH_DOTTED = /^(?:\+33\.?)?0?\d(?:\.\d{2}){4}$/;
const NORTH_AMERICAN = /^(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}$/;
/** A number right after one of these is a phone number whatever its format. */
const PHONE_LABEL_BEFORE =
  /(?<!\p{L})(?:tel|tél|téléphone|telefon|telephone|telefoon|teléfono|telefono|phone|ph|mobile|mobil|mobiel|móvil|movil|handy|cell|fax|gsm|portable|mob|whatsapp|durchwahl)\.?(?:[ \t]*\([^()\r\n]{1,20}\))?[ \t]*[:.]?[ \t]*$/iu;

/**
 * Conservative on purpose: an international number (+ or 00), a national
 * one with its trunk 0, a North American one with separators, or any
 * 7–15 digits after a label like "Tel:". Ticket ids, error codes, IPs,
 * dates, versions and plain counts are none of these.
 */
function isPhoneNumber(candidate: string, labelled: boolean): boolean {
  // "+49 (0)30 …": the bracketed trunk 0 is not dialled from abroad.
  const dialled = candidate.replace(/ ?\(0\) ?/g, ' ');
  const groups = dialled.match(/\d+/g) ?? [];
  const digits = groups.join('');
  if (digits.length < 7 || digits.length > 15 || groups.length > MAX_GROUPS) return false;
  // "0 1 2 3 4 5 6 7 8" is a list, not a number.
  if (groups.filter((group) => group.length === 1).length > 1) return false;
  if (DATE.test(candidate)) return false;
  const dotted = /^[\d.]+$/.test(candidate);
  if (dotted && !FRENCH_DOTTED.test(candidate) && !NORTH_AMERICAN.test(candidate)) return false;
  if (labelled) return true;
  if (/^(?:\+|00)[1-9]/.test(dialled)) return digits.length >= 8;
  if (/^\(?0[1-9]/.test(dialled)) return digits.length >= 9 && digits.length <= 12;
  return NORTH_AMERICAN.test(candidate);
}

/**
 * A candidate may join unrelated numbers separated by spaces ("ticket 4711
 * 0171 1234567"): the longest leftmost run of its space-separated chunks
 * that is a phone number wins, then the search goes on after it.
 */
export function findPhones(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(PHONE_CANDIDATE)) {
    const chunks = [...match[0].matchAll(/\S+/g)].map((chunk) => ({
      start: match.index + chunk.index,
      end: match.index + chunk.index + chunk[0].length,
    }));
    for (let first = 0; first < chunks.length; first += 1) {
      const labelled = PHONE_LABEL_BEFORE.test(
        text.slice(Math.max(0, chunks[first].start - 40), chunks[first].start),
      );
      for (let last = Math.min(chunks.length, first + MAX_GROUPS) - 1; last >= first; last -= 1) {
        const start = chunks[first].start;
        const end = chunks[last].end;
        if (isPhoneNumber(text.slice(start, end), labelled)) {
          spans.push({ start, end, kind: 'phone' });
          first = last;
          break;
        }
      }
    }
  }
  return spans;
}
