import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export class UnsafeUrlError extends Error {
  constructor(reason: string) {
    super(`Refused ServiceDesk URL: ${reason}`);
    this.name = 'UnsafeUrlError';
  }
}

export interface UrlGuardOptions {
  /**
   * Development only (the named setting ALLOW_INSECURE_SERVICEDESK_URLS):
   * allow http:// and loopback/private addresses, e.g. the SDP simulator.
   */
  allowInsecure: boolean;
  /** Injectable for tests: resolves every A and AAAA address of a host. */
  lookup?: (host: string) => Promise<string[]>;
}

const defaultLookup = async (host: string) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Tenant-supplied URLs must reach the public internet only: https, and no
 * loopback, private, link-local, metadata or otherwise special address
 * after resolving every A and AAAA record. The WHATWG URL parser already
 * turns decimal and hex IPv4 forms (http://2130706433, 0x7f.1) into dotted
 * quads, so those are checked like any literal.
 */
export async function assertPublicUrl(value: string | URL, options: UrlGuardOptions): Promise<URL> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UnsafeUrlError('not a URL');
  }
  if (url.protocol !== 'https:' && !(options.allowInsecure && url.protocol === 'http:')) {
    throw new UnsafeUrlError('https is required');
  }
  if (url.username || url.password) throw new UnsafeUrlError('credentials in the URL');
  if (options.allowInsecure) return url;

  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(host)
    ? [host]
    : await resolve(host, options.lookup ?? defaultLookup);
  assertPublicAddresses(host, addresses);
  return url;
}

/** Every address of the host public, or UnsafeUrlError naming the first special range. */
function assertPublicAddresses(host: string, addresses: string[], when = ''): void {
  if (addresses.length === 0) throw new UnsafeUrlError(`${host} does not resolve`);
  for (const address of addresses) {
    const range = publicRangeOf(address);
    if (range !== 'unicast')
      throw new UnsafeUrlError(`${host} resolves to a ${range} address${when}`);
  }
}

async function resolve(
  host: string,
  lookup: (host: string) => Promise<string[]>,
): Promise<string[]> {
  if (host === 'localhost' || host.endsWith('.localhost')) throw new UnsafeUrlError('localhost');
  try {
    return await lookup(host);
  } catch {
    throw new UnsafeUrlError(`${host} does not resolve`);
  }
}

/** 'unicast' for a public address, otherwise the special range's name. */
export function publicRangeOf(address: string): string {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  // 169.254.169.254 and fd00:ec2::254 (cloud metadata) fall in linkLocal/uniqueLocal.
  return range;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/**
 * A `dns.lookup` replacement for outbound sockets: it resolves the host and
 * refuses the connection unless every address is public, so the address a
 * socket connects to is the address that was checked — no window for DNS
 * rebinding between `assertPublicUrl` and the connect. (Literal IP hosts
 * never reach a lookup; `assertPublicUrl` checks those.)
 */
export function publicOnlyLookup(options: Pick<UrlGuardOptions, 'lookup'> = {}) {
  const resolveAll = options.lookup ?? defaultLookup;
  return (host: string, lookupOptions: { all?: boolean }, callback: LookupCallback): void => {
    resolve(host, resolveAll)
      .then((addresses) => {
        assertPublicAddresses(host, addresses, ' at connect');
        const records = addresses.map((address) => ({
          address,
          family: address.includes(':') ? 6 : 4,
        }));
        if (lookupOptions.all) callback(null, records);
        else callback(null, records[0].address, records[0].family);
      })
      .catch((error: unknown) => {
        const refused = error instanceof Error ? error : new Error(String(error));
        callback(Object.assign(refused, { code: 'EUNSAFEADDRESS' }), '');
      });
  };
}
