import ipaddr from 'ipaddr.js';
import type { TicketContext } from '@tep/contracts';

/**
 * A note a requester sees names no host or address: the inventory's own
 * hostnames and IPs, any IPv4/IPv6 literal, any URL and any name that looks
 * like a host (a dotted name ending in a common or internal top-level
 * domain, e.g. `db01.acme.local`). Each becomes one neutral phrase.
 *
 * Heuristic on purpose: false positives only cost a requester detail,
 * so the patterns lean towards scrubbing; what they leave alone is what
 * reads like code or files (`app.yaml`, `System.Net.Http`, `os.path.join`).
 */

/** Public TLDs common in MSP tickets plus the suffixes internal networks use (RFC 6761/8375 among them). */
const HOST_SUFFIXES = new Set([
  ...['com', 'net', 'org', 'edu', 'gov', 'mil', 'int', 'io', 'biz', 'info', 'cloud', 'eu'],
  ...['de', 'fr', 'es', 'nl', 'be', 'ch', 'at', 'lu', 'uk', 'ie', 'us', 'ca', 'au'],
  ...['local', 'lan', 'corp', 'internal', 'intranet', 'intra', 'localdomain', 'home', 'arpa'],
  ...['localhost', 'example', 'test', 'invalid'],
]);

const URL = String.raw`\b[a-z][a-z0-9+.-]*://[^\s<>"'()[\]]+`;
const IPV6 = String.raw`(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{1,4})?(?:%\w+)?(?:/\d{1,3})?(?![\w:]|\.\d)`;
const IPV4 = String.raw`(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2}|:\d{1,5})?(?!\w|\.\d)`;
const HOST = String.raw`(?<![\w.@-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?<suffix>[a-z]{2,63})(?![\w-]|\.\w)`;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const upperFirst = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function isIpv6(candidate: string): boolean {
  const address = candidate.replace(/%\w+$|\/\d+$/g, '');
  return /[0-9a-f]/i.test(address) && ipaddr.IPv6.isValid(address);
}

function isIpv4(candidate: string): boolean {
  return candidate
    .replace(/[/:]\d+$/, '')
    .split('.')
    .every((octet) => Number(octet) <= 255);
}

function isHostName(suffix: string): boolean {
  // A mixed-case last label ("System.Net", "done.Then") is code or prose, not a host.
  const mixedCase = suffix !== suffix.toLowerCase() && suffix !== suffix.toUpperCase();
  return !mixedCase && HOST_SUFFIXES.has(suffix.toLowerCase());
}

export function scrubAddresses(
  text: string,
  systems: TicketContext['systems'],
  replacement: string,
): string {
  const known = [
    ...new Set(systems.flatMap((s) => [s.hostname, s.ip_address ?? '']).map((name) => name.trim())),
  ]
    .filter((name) => name.length >= 2)
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp);
  const KNOWN = known.length ? String.raw`(?<![\w.-])(?:${known.join('|')})(?![\w-]|\.\w)` : '(?!)';
  const pattern = new RegExp(
    `(?<url>${URL})|(?<ip6>${IPV6})|(?<ip4>${IPV4})|(?<known>${KNOWN})|(?<host>${HOST})`,
    'gi',
  );

  let out = '';
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const groups = match.groups ?? {};
    let found = match[0];
    let trailing = '';
    if (groups['url']) {
      // Sentence punctuation after a URL is the sentence's, not the URL's.
      trailing = /[.,;:!?]+$/.exec(found)?.[0] ?? '';
      found = found.slice(0, found.length - trailing.length);
    }
    const scrub =
      groups['url'] !== undefined ||
      groups['known'] !== undefined ||
      (groups['ip6'] !== undefined && isIpv6(found)) ||
      (groups['ip4'] !== undefined && isIpv4(found)) ||
      (groups['host'] !== undefined && isHostName(groups['suffix'] ?? ''));
    if (!scrub) continue;
    out += text.slice(last, match.index);
    const startsSentence = /(^|[.!?]\s+)$/.test(out);
    out += (startsSentence ? upperFirst(replacement) : replacement) + trailing;
    last = match.index + match[0].length;
  }
  out += text.slice(last);
  // "exch01 (10.0.0.5)" would read "the affected system (the affected system)".
  const twice = new RegExp(
    `(${escapeRegExp(replacement)}) \\(${escapeRegExp(replacement)}\\)`,
    'gi',
  );
  return out.replace(twice, '$1');
}
