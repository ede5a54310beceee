import { detectAll } from 'tinyld';
import { stripSecrets } from '@tep/redaction';

/**
 * What a ticket is searched and indexed by: the user's own words and the
 * identifiers that matter, without the mail around them. Real tickets
 * arrive as e-mails: quoted replies, forwarded headers, signatures with
 * phone numbers, legal disclaimers and greetings drown the signal (and
 * make unrelated tickets from the same sender look alike).
 */

/** Where the quoted or forwarded part of a mail begins: everything after it is dropped. */
const QUOTE_STARTS = [
  /^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht|forwarded message|weitergeleitete nachricht)\s*-{2,}/i,
  /^_{10,}\s*$/,
  /^(from|von|de|van)\s*:\s.+$/i, // only counts when a "sent/date" header line follows (checked below)
  /^on .{4,80} wrote:\s*$/i,
  /^am .{4,80} schrieb .{0,80}:\s*$/i,
  /^le .{4,80} a écrit\s*:\s*$/i,
  /^el .{4,80} escribió\s*:\s*$/i,
  /^op .{4,80} schreef .{0,80}:\s*$/i,
];
const HEADER_FOLLOWERS =
  /^(sent|date|gesendet|datum|envoyé|enviado|fecha|verzonden|to|an|à|para|aan)\s*:/i;

/** A line that ends the message: what follows is a signature. */
const SIGN_OFFS =
  /^(--\s*|kind regards|best regards|warm regards|regards|many thanks|thanks( (and|&) regards)?|thank you|cheers|br|mit freundlichen grüßen|freundliche grüße|viele grüße|mfg|cordialement|bien cordialement|salutations|saludos( cordiales)?|un saludo|atentamente|met vriendelijke groet(en)?|groeten|mvg)[,.!]?\s*$/i;
const MOBILE_FOOTERS =
  /^(sent from my (iphone|ipad|android|samsung.*|mobile.*)|get outlook for (ios|android)|von meinem (iphone|ipad|smartphone) gesendet|envoyé de mon (iphone|ipad)|enviado desde mi (iphone|ipad|móvil)|verzonden (vanaf|met) mijn (iphone|ipad))\.?\s*$/i;
const GREETING =
  /^(hi|hello|hey|dear|good (morning|afternoon|evening)|hallo|guten (morgen|tag)|liebe[sr]?|sehr geehrte.*|bonjour|salut|madame|monsieur|hola|buenos días|buenas( tardes)?|estimad[oa]s?|goedemorgen|goedemiddag|beste|hoi)\b[^.!?\n]{0,40}[,!:]?\s*$/i;
/** A paragraph of legal boilerplate. */
const DISCLAIMER =
  /(confidential|privileged|intended (solely )?(only )?for the (use of the )?(addressee|recipient)|if you (have )?received this (e-?mail|message) in error|vertraulich|irrtümlich erhalten|confidentiel|destinataire|confidencial|destinatario|vertrouwelijk|geadresseerde)/i;
const PHONE =
  /(?:\+|\b00)\d[\d ().-]{6,}\d|\b(?:tel|phone|mobile|mob|fax|t|m)\s*[.:]\s*[\d+][\d ().-]{6,}\d/gi;
const EMAIL = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
const URL = /\bhttps?:\/\/\S+/gi;
/** Timestamps and counters that make every pasted log line unique. */
const LOG_NOISE =
  /\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?|\b\d{2}:\d{2}:\d{2}(\.\d+)?\b|\[\d+\]|\bpid[=:]\d+/gi;

/** The longest text indexed or searched: beyond it, long logs repeat themselves. */
export const MAX_SEARCH_CHARS = 6000;

export function cleanTicketText(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  let inHeader = false;
  let forwarded = false;
  for (let i = 0; i < lines.length; i++) {
    // In a forward, the quoted message is the ticket: read it without its "> " marks.
    const line = forwarded ? lines[i].replace(/^(\s*>)+/, '').trim() : lines[i].trim();
    const ahead = (n: number) => (lines[i + n] ?? '').replace(/^(\s*>)+/, '').trim();
    if (isQuoteStart(line, ahead(1), ahead(2))) {
      // A reply above the quote says what matters; a bare "see below" forward does not,
      // and then the forwarded message is the ticket (its header lines are dropped).
      const signOff = kept.findIndex((l) => SIGN_OFFS.test(l) || MOBILE_FOOTERS.test(l));
      const reply = signOff < 0 ? kept : kept.slice(0, signOff);
      if (contentLength(reply) >= 200) {
        kept.length = reply.length;
        break;
      }
      kept.length = 0;
      inHeader = true;
      forwarded = true;
      continue;
    }
    if (inHeader) {
      if (/^[\p{L} -]{2,20}\s*:/u.test(line) || line === '') continue;
      inHeader = false;
    }
    if (MOBILE_FOOTERS.test(line)) {
      if (contentLength(kept) >= 40) break;
      continue;
    }
    // A sign-off near the end: the rest is the signature block.
    if (SIGN_OFFS.test(line) && remainingChars(lines, i) < 600 && contentLength(kept) >= 40) break;
    if (line.startsWith('>')) continue;
    if (contentLength(kept) === 0 && GREETING.test(line)) continue;
    kept.push(line);
  }
  const withoutDisclaimers = kept
    .join('\n')
    .split(/\n\s*\n/)
    .map(dropDisclaimer)
    .filter((p) => p.trim() !== '');
  const seen = new Set<string>();
  const deduplicated: string[] = [];
  // Pasted logs repeat the same line with other timestamps: keep one of each.
  for (const line of withoutDisclaimers.join('\n').split('\n')) {
    const key = line.replace(LOG_NOISE, '').replace(/\s+/g, ' ').trim().toLowerCase();
    if (key.length > 20) {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    deduplicated.push(line);
  }
  const cleaned = scrub(deduplicated.join('\n'));
  // Never clean a ticket away: if almost nothing is left, the rules misread it.
  return cleaned.length >= 30 || text.length < 100 ? cleaned : scrub(text);
}

/** Contact details and links: they make every mail from one sender look alike. */
const scrub = (text: string) =>
  text
    .replace(URL, ' ')
    .replace(EMAIL, ' ')
    .replace(PHONE, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
    .slice(0, MAX_SEARCH_CHARS);

/** From the sentence where legal boilerplate starts to the end of its paragraph. */
function dropDisclaimer(paragraph: string): string {
  const match = DISCLAIMER.exec(paragraph);
  if (!match) return paragraph;
  const before = paragraph.slice(0, match.index);
  const sentenceStart = Math.max(before.lastIndexOf('. '), before.lastIndexOf('\n'));
  // Short mentions ("is the file confidential?") in a real paragraph stay.
  if (paragraph.length - match.index < 60 && match.index > 200) return paragraph;
  return sentenceStart < 0 ? '' : paragraph.slice(0, sentenceStart + 1);
}

const contentLength = (lines: string[]) => lines.reduce((n, l) => n + l.length, 0);

function isQuoteStart(line: string, next: string, afterNext: string): boolean {
  for (const start of QUOTE_STARTS) {
    if (!start.test(line)) continue;
    // "From: x" alone is too common in prose; a mail header has "Sent:"/"Date:" right after.
    if (/^(from|von|de|van)\s*:/i.test(line)) {
      return HEADER_FOLLOWERS.test(next) || HEADER_FOLLOWERS.test(afterNext);
    }
    return true;
  }
  return false;
}

function remainingChars(lines: string[], from: number): number {
  let n = 0;
  for (let i = from + 1; i < lines.length; i++) n += lines[i].length;
  return n;
}

/** The languages with their own text-search configuration; 'und' is language-neutral. */
export const TICKET_LANGUAGES = ['en', 'de', 'fr', 'es', 'nl'] as const;
export type TicketLanguage = (typeof TICKET_LANGUAGES)[number] | 'und';

/**
 * tinyld (a maintained n-gram detector) restricted to the languages we
 * index; short or ambiguous text is 'und' rather than a guess, except that
 * English — most tickets and most IT jargon — wins a near tie.
 */
export function detectTicketLanguage(text: string): TicketLanguage {
  const sample = text
    .replace(/\b[\w.-]*\d[\w.-]*\b/g, ' ') // error codes and versions carry no language
    .slice(0, 2000);
  // The gatherer detects one ticket twice — its search text and its stored
  // row, the same sample unless a reply prefix or a secret was cut — and
  // detection is the costliest part of its own work (bench profile).
  if (sample === lastDetected.sample) return lastDetected.language;
  const language = detectSample(sample);
  lastDetected = { sample, language };
  return language;
}
let lastDetected: { sample: string; language: TicketLanguage } = { sample: '', language: 'und' };

function detectSample(sample: string): TicketLanguage {
  const letters = sample.replace(/[^\p{L}]+/gu, '');
  if (letters.length < 12) return 'und';
  const ranked = detectAll(sample, { only: [...TICKET_LANGUAGES] });
  const best = ranked[0];
  if (!best || best.accuracy < 0.05) return 'und';
  const english = ranked.find((r) => r.lang === 'en');
  if (best.lang !== 'en' && english && english.accuracy >= best.accuracy * 0.9) return 'en';
  return best.lang as TicketLanguage;
}

/**
 * What a history row is indexed by (`ticket_history.clean_description` and
 * `.language`): one computation for every writer — webhooks, the back-fill,
 * the reindex of older rows — so all rows are ranked alike.
 */
export function indexedTextOf(ticket: { subject: string; description: string }): {
  cleanDescription: string;
  language: TicketLanguage;
} {
  const cleanDescription = cleanTicketText(ticket.description);
  return {
    cleanDescription,
    language: detectTicketLanguage(`${ticket.subject}\n${cleanDescription}`),
  };
}

/**
 * What a history row stores and is indexed by, for every writer (webhooks,
 * the back-fill, the demo): the ticket's text without the secrets or card
 * numbers a user pasted (never kept), and what indexedTextOf derives from it.
 */
export function storedTextOf(ticket: {
  subject: string;
  description: string;
  resolution: string | null;
}): {
  subject: string;
  description: string;
  resolution: string | null;
  cleanDescription: string;
  language: TicketLanguage;
} {
  const subject = stripSecrets(ticket.subject);
  const description = stripSecrets(ticket.description);
  return {
    subject,
    description,
    resolution: ticket.resolution === null ? null : stripSecrets(ticket.resolution),
    ...indexedTextOf({ subject, description }),
  };
}
