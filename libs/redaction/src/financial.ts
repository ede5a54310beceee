import cardValidator from 'card-validator';
import { IBAN } from 'ibankit';
import type { Span } from './spans';

/** 13 to 19 digits, optionally grouped by single spaces or dashes, not part of a longer number. */
const CARD_CANDIDATE = /(?<![\d.,-])\d(?:[ -]?\d){12,18}(?!\d)/g;

/**
 * Payment card numbers: a known brand's prefix and length and a valid Luhn
 * check digit (card-validator, Braintree's), so a 16-digit serial or a
 * ticket id is not taken for a card. UnionPay is Luhn-checked too: the
 * library skips that by default because some UnionPay cards fail it.
 */
export function findCards(text: string): Span[] {
  return [...text.matchAll(CARD_CANDIDATE)]
    .filter((match) => cardValidator.number(match[0], { luhnValidateUnionPay: true }).isValid)
    .map((match): Span => ({
      start: match.index,
      end: match.index + match[0].length,
      kind: 'card',
    }));
}

/** Country, check digits, then the account in groups of four (spaced or not). */
const IBAN_CANDIDATE = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g;

const isIban = (candidate: string) => IBAN.isValid(IBAN.electronicFormat(candidate));

/**
 * IBANs, validated by ibankit (country length, BBAN format, mod-97). A
 * spaced IBAN may run into a following word ("… 00 BIC"), so a candidate
 * that fails is retried without its last group.
 */
export function findIbans(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(IBAN_CANDIDATE)) {
    let candidate = match[0];
    while (!isIban(candidate) && candidate.includes(' ')) {
      candidate = candidate.slice(0, candidate.lastIndexOf(' '));
    }
    if (isIban(candidate)) {
      spans.push({ start: match.index, end: match.index + candidate.length, kind: 'iban' });
    }
  }
  return spans;
}
