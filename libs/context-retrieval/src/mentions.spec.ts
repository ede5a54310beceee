import { extractMentions } from './mentions';

describe('extractMentions', () => {
  it('finds host names, IPv4 and IPv6 addresses including :: shorthand', () => {
    const m = extractMentions(
      'db01.acme.local (10.0.0.5) and vpn-gw2 cannot reach 2001:db8::1 or fe80::1%eth0; also ::1. PostgreSQL down.',
    );
    expect(m.hosts).toEqual(expect.arrayContaining(['db01.acme.local', 'vpn-gw2']));
    expect(m.addresses).toEqual(
      expect.arrayContaining(['10.0.0.5', '2001:db8::1', 'fe80::1', '::1']),
    );
    expect(m.words).toEqual(expect.arrayContaining(['postgresql']));
    expect(m.hosts).not.toContain('postgresql');
  });

  it('does not mistake times or version numbers for addresses', () => {
    const m = extractMentions('Error started at 10:30 AM after upgrading to 1.2.3');
    expect(m.addresses).toEqual([]);
  });

  it('bounds the work on huge inputs', () => {
    const m = extractMentions(Array.from({ length: 10_000 }, (_, i) => `host${i}`).join(' '));
    expect(m.hosts.length + m.words.length).toBeLessThanOrEqual(402);
  });
});
