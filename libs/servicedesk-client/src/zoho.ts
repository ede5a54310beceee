import type { ZohoDataCentre } from '@tep/contracts';

/**
 * Zoho's data centres for ServiceDesk Plus Cloud: which accounts server
 * issues a tenant's tokens and which hosts may serve its API. An allow-list:
 * a stored refresh token is only ever sent to one of these accounts hosts
 * (or, in development, to the loopback simulator).
 */
export const ZOHO_DATA_CENTRES = {
  us: { accounts: 'accounts.zoho.com', api: ['sdpondemand.manageengine.com'] },
  eu: { accounts: 'accounts.zoho.eu', api: ['sdpondemand.manageengine.eu'] },
  in: { accounts: 'accounts.zoho.in', api: ['sdpondemand.manageengine.in'] },
  au: {
    accounts: 'accounts.zoho.com.au',
    api: ['servicedeskplus.net.au', 'sdpondemand.manageengine.com.au'],
  },
  jp: { accounts: 'accounts.zoho.jp', api: ['servicedeskplus.jp'] },
  ca: { accounts: 'accounts.zohocloud.ca', api: ['servicedeskplus.ca'] },
  uk: { accounts: 'accounts.zoho.uk', api: ['servicedeskplus.uk'] },
  sa: { accounts: 'accounts.zoho.sa', api: ['servicedeskplus.sa'] },
  ae: { accounts: 'accounts.zoho.ae', api: ['servicedeskplus.ae'] },
  cn: { accounts: 'accounts.zoho.com.cn', api: ['servicedeskplus.cn'] },
} as const satisfies Record<ZohoDataCentre, { accounts: string; api: readonly string[] }>;

const ACCOUNTS_HOSTS = new Set<string>([
  ...Object.values(ZOHO_DATA_CENTRES).map((dc) => dc.accounts),
  // Zoho's Canadian accounts server is also reachable under zoho.ca.
  'accounts.zoho.ca',
]);
const API_HOSTS = new Set<string>(Object.values(ZOHO_DATA_CENTRES).flatMap((dc) => dc.api));

export function zohoAccountsUrl(dataCentre: ZohoDataCentre): string {
  return `https://${ZOHO_DATA_CENTRES[dataCentre].accounts}`;
}

/** Development only: the loopback SDP simulator stands in for Zoho. */
function isLoopbackHttp(url: URL): boolean {
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]')
  );
}

/**
 * Why this accounts URL may not be used, or undefined when it may: https,
 * an allow-listed Zoho accounts host, no path, credentials or odd port.
 */
export function zohoAccountsUrlProblem(raw: string, allowLoopback: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (allowLoopback && isLoopbackHttp(url)) return undefined;
  if (url.protocol !== 'https:') return 'must use https';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.port && url.port !== '443') return 'must not name a port';
  if (url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash) {
    return 'must be the accounts server only, without a path';
  }
  if (!ACCOUNTS_HOSTS.has(url.hostname.toLowerCase())) {
    return `must be a Zoho accounts server (${[...ACCOUNTS_HOSTS].join(', ')})`;
  }
  return undefined;
}

/**
 * The API origin a token reply's `api_domain` names, when it is one we may
 * send the access token to: an https ServiceDesk Plus Cloud host of some
 * data centre, or the tenant's own configured origin. Anything else —
 * including Zoho's generic `www.zohoapis.*`, which does not serve the SDP
 * API — is ignored and the configured URL stays.
 */
export function trustedApiOrigin(
  apiDomain: string | undefined,
  configuredOrigin: string,
): string | undefined {
  if (!apiDomain) return undefined;
  let url: URL;
  try {
    url = new URL(apiDomain);
  } catch {
    return undefined;
  }
  if (url.origin === configuredOrigin) return url.origin;
  if (url.username || url.password) return undefined;
  if (url.protocol !== 'https:' || !API_HOSTS.has(url.hostname.toLowerCase())) return undefined;
  return url.origin;
}

/** The Zoho errors that mean the credential itself is bad (not Zoho having trouble). */
const CREDENTIAL_ERRORS = new Set([
  'invalid_code',
  'invalid_client',
  'invalid_client_secret',
  'invalid_grant',
  'invalid_refresh_token',
  'unauthorized_client',
]);

/**
 * What a Zoho `{"error": …}` token reply means: its throttle ("too many
 * requests", whatever the error code), a bad credential, or Zoho trouble.
 */
export function zohoErrorKind(
  error: string,
  description: string,
): 'rate_limited' | 'auth' | 'unavailable' {
  if (/too many requests/i.test(`${error} ${description}`)) return 'rate_limited';
  if (CREDENTIAL_ERRORS.has(error.toLowerCase())) return 'auth';
  return 'unavailable';
}
