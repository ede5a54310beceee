import type { TicketContext } from '@tep/contracts';
import { scrubAddresses } from './address-scrub';

const systems: TicketContext['systems'] = [
  {
    hostname: 'exch01',
    ip_address: '10.0.0.5',
    service_name: 'MSExchangeRPC',
    status: 'degraded',
    matched_on: 'hostname',
  },
  {
    hostname: 'PRN-3F',
    ip_address: null,
    service_name: null,
    status: 'up',
    matched_on: 'hostname',
  },
];
const scrub = (text: string) => scrubAddresses(text, systems, 'the affected system');

describe('scrubAddresses', () => {
  it.each([
    ['Restart MSExchangeRPC on exch01.', 'Restart MSExchangeRPC on the affected system.'],
    ['exch01 (10.0.0.5) is degraded', 'The affected system is degraded'],
    ['Ping 192.168.10.20:3389 and 10.1.2.0/24', 'Ping the affected system and the affected system'],
    [
      'Check fe80::1%eth0 and 2001:db8::ff00:42:8329.',
      'Check the affected system and the affected system.',
    ],
    ['Mapped ::ffff:10.0.0.5 too', 'Mapped the affected system too'],
    ['The DB on db01.acme.local is slow', 'The DB on the affected system is slow'],
    ['Open https://intranet.acme.local/wiki/vpn.', 'Open the affected system.'],
    ['Printer prn-3f jams', 'Printer the affected system jams'],
    ['See mail.example.com and FS01.CORP', 'See the affected system and the affected system'],
  ])('%s', (text, expected) => {
    expect(scrub(text)).toBe(expected);
  });

  it.each([
    'Started at 10:35:00 on 2025-11-03',
    'Raise max_pool_size in app.yaml and config.d/pool.conf',
    'Catch System.Net.Http.HttpRequestException in os.path.join',
    'Upgrade to 16.0.5423.1000 (e.g. via Windows Update)',
    'Mail anna@customer.example about std::vector and a MAC 00:1a:2b:3c:4d:5e',
    'exch01s and my-exch01 are other hosts',
  ])('leaves alone: %s', (text) => {
    expect(scrub(text)).toBe(text);
  });
});
