import type { Span } from './spans';

/** Sign-offs in the languages we write notes in; a name follows on the line or the next. */
const CLOSINGS = [
  'regards',
  'best regards',
  'kind regards',
  'warm regards',
  'many thanks',
  'thanks',
  'thank you',
  'best',
  'cheers',
  'sincerely',
  'yours sincerely',
  'mit freundlichen grüßen',
  'mit freundlichen grüssen',
  'freundliche grüße',
  'viele grüße',
  'beste grüße',
  'liebe grüße',
  'grüße',
  'gruß',
  'danke',
  'vielen dank',
  'cordialement',
  'bien cordialement',
  'bien à vous',
  'salutations',
  'merci',
  'saludos',
  'saludos cordiales',
  'un saludo',
  'atentamente',
  'gracias',
  'met vriendelijke groet',
  'met vriendelijke groeten',
  'vriendelijke groet',
  'groeten',
  'groet',
  'bedankt',
  'mvg',
]
  // Longest first, so "best regards" is not read as "best" followed by a name "regards".
  .sort((a, b) => b.length - a.length)
  .map((closing) => closing.replace(/ /g, String.raw`[ \t]+`))
  .join('|');

const CLOSING_LINE = new RegExp(
  String.raw`^[ \t]*(?:${CLOSINGS})(?!\p{L})[ \t]*[,.!:]*[ \t]*`,
  'gimu',
);

/** "Anna", "Jean-Luc Picard", "Jan van der Berg", "J. O'Brien": one to three capitalised words. */
const WORD = String.raw`\p{Lu}(?:['’]\p{Lu})?[\p{Ll}\p{M}]+(?:-\p{Lu}[\p{Ll}\p{M}]+)?`;
const PARTICLE = String.raw`(?:van|von|der|den|de|du|da|del|della|di|la|le|ter|ten|zu|y|dos|das)`;
const TOKEN = String.raw`(?:${WORD}|\p{Lu}\.)`;
const NAME = String.raw`${TOKEN}(?:[ \t]+(?:${PARTICLE}[ \t]+){0,3}${TOKEN}){0,2}`;
/** The name, then nothing or a separator and e.g. a job title ("Anna Schmidt | IT"). */
const NAME_LINE = new RegExp(
  String.raw`^[ \t]*(?:[-–—~]+[ \t]*)?(?<value>${NAME})[ \t]*(?:[|,/–—-][^\r\n]*)?$`,
  'du',
);

/** Capitalised words that end a sign-off but are not a person ("Thanks, Support Team"). */
const NOT_NAMES = new Set([
  'team',
  'teams',
  'support',
  'service',
  'services',
  'desk',
  'helpdesk',
  'servicedesk',
  'admin',
  'administrator',
  'administration',
  'department',
  'abteilung',
  'équipe',
  'equipe',
  'equipo',
  'afdeling',
  'management',
  'office',
  'sales',
  'finance',
  'accounting',
  'buchhaltung',
  'group',
  'gruppe',
  'gmbh',
  'ltd',
  'inc',
  'corp',
  'llc',
  'company',
  'again',
  'advance',
  'everyone',
  'all',
  // German capitalises pronouns and nouns: "Danke Ihnen", "Danke Schön".
  'ihnen',
  'sie',
  'euch',
  'schön',
  'sehr',
  'vorab',
]);

function nameIn(line: string, offset: number): Span | undefined {
  const match = NAME_LINE.exec(line);
  const [start, end] = match?.indices?.groups?.['value'] ?? [0, 0];
  if (end <= start) return undefined;
  const words = line.slice(start, end).split(/[ \t]+/);
  if (words.some((word) => NOT_NAMES.has(word.toLowerCase()))) return undefined;
  if (words.every((word) => word.endsWith('.'))) return undefined;
  return { start: offset + start, end: offset + end, kind: 'name' };
}

/** The line starting at `from` (no line break), and where the next one starts. */
function lineAt(text: string, from: number): { line: string; next: number } {
  const breakAt = text.indexOf('\n', from);
  const end = breakAt < 0 ? text.length : breakAt;
  return { line: text.slice(from, end).replace(/\r$/, ''), next: end + 1 };
}

/**
 * Person names in e-mail signatures: after a sign-off, on the same line
 * ("Thanks, Anna") or on the first non-blank line of the next three.
 * Names elsewhere in the text are not guessed at: too many words are
 * capitalised (products, places, sentence starts).
 */
export function findSignatureNames(text: string): Span[] {
  const spans: Span[] = [];
  for (const closing of text.matchAll(CLOSING_LINE)) {
    const afterClosing = closing.index + closing[0].length;
    const { line: rest, next } = lineAt(text, afterClosing);
    if (rest.trim()) {
      const sameLine = nameIn(rest, afterClosing);
      if (sameLine) spans.push(sameLine);
      continue;
    }
    for (let from = next, tries = 0; from <= text.length && tries < 3; tries += 1) {
      const { line, next: following } = lineAt(text, from);
      if (line.trim()) {
        const below = nameIn(line, from);
        if (below) spans.push(below);
        break;
      }
      from = following;
    }
  }
  return spans;
}
