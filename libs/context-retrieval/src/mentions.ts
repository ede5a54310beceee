import { isIPv4, isIPv6 } from 'node:net';

export interface Mentions {
  /** Lower-cased host-like tokens (db01, db01.acme.local, vpn-gw). */
  hosts: string[];
  /** Canonical IPv4/IPv6 addresses (IPv6 `::` shorthand included). */
  addresses: string[];
  /** Lower-cased words that could name a service (postgresql, nginx). */
  words: string[];
}

const MAX_TOKENS = 200;

/** Finds what a ticket's text may refer to in the tenant's inventory. */
export function extractMentions(text: string): Mentions {
  const hosts = new Set<string>();
  const addresses = new Set<string>();
  const words = new Set<string>();
  // Candidate tokens: anything made of address/host characters.
  for (const raw of text.match(/[A-Za-z0-9][A-Za-z0-9.:%_-]*[A-Za-z0-9]|::1?|[A-Za-z0-9]/g) ?? []) {
    const token = raw.replace(/^[.:-]+|[.:-]+$/g, '');
    const v6 = raw.replace(/%.*$/, '');
    if (isIPv4(token)) {
      addresses.add(token);
    } else if (isIPv6(v6)) {
      addresses.add(v6.toLowerCase());
    } else if (
      /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i.test(token)
    ) {
      const lower = token.toLowerCase();
      if (lower.length >= 3) {
        words.add(lower);
        // Host names: dotted names, or names mixing letters and digits/hyphens.
        if (lower.includes('.') || (/[a-z]/.test(lower) && /[0-9-]/.test(lower))) hosts.add(lower);
      }
    }
    if (hosts.size + addresses.size + words.size > MAX_TOKENS) break;
  }
  return { hosts: [...hosts], addresses: [...addresses], words: [...words] };
}
