import { Agent } from 'undici';
import { leanFetch } from '@tep/lean-fetch';
import { assertPublicUrl, publicOnlyLookup, type UrlGuardOptions } from '@tep/url-guard';
import type { FetchLike } from './http-transport';

/**
 * fetch whose sockets resolve through `publicOnlyLookup`: the ServiceDesk
 * host is checked at the moment of connecting, on the address connected
 * to. `assertPublicUrl` before the request still checks the scheme and
 * literal addresses; this closes the DNS-rebinding window between the two.
 * One connection pool for the process (undici's Agent, the client Node's
 * own fetch is built on), answered through leanFetch like every SDP call.
 */
export function publicOnlyFetch(options: Pick<UrlGuardOptions, 'lookup'> = {}): FetchLike {
  return leanFetch({ dispatcher: new Agent({ connect: { lookup: publicOnlyLookup(options) } }) });
}

/**
 * How every caller reaches a tenant's SDP (the poster, `tep doctor`, `tep
 * onboard`): the URL checked before each request (scheme, literal addresses)
 * and, through publicOnlyFetch, the address of each connection as it is
 * made. `allowInsecure` (development: the simulator on loopback) skips both
 * address checks.
 */
export function serviceDeskGuard(allowInsecure: boolean): {
  beforeConnect: (url: URL) => Promise<void>;
  fetch: FetchLike | undefined;
} {
  return {
    beforeConnect: async (url) => {
      await assertPublicUrl(url, { allowInsecure });
    },
    fetch: allowInsecure ? undefined : publicOnlyFetch(),
  };
}
