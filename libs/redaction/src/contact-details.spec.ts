import { findEmails, findPhones } from './contact-details';

const phonesIn = (text: string) => findPhones(text).map((span) => text.slice(span.start, span.end));

describe('findPhones', () => {
  it.each([
    ['+49 (0)30 1234 5678', '+49 (0)30 1234 5678'],
    ['call 0171 2345678 today', '0171 2345678'],
    ['0044 20 7946 0958', '0044 20 7946 0958'],
    ['Tel:+31612345678', '+31612345678'],
    ['(555) 123-4567', '(555) 123-4567'],
    ['Fax: 0221/12345-99', '0221/12345-99'],
    ['Tel: 912 34 56 78', '912 34 56 78'],
    ['ticket 4711 0171 2345678', '0171 2345678'],
  ])('finds %j', (text, phone) => {
    expect(phonesIn(text)).toEqual([phone]);
  });

  it.each([
    'build 10.0.22631.2861',
    'server 192.168.1.20',
    'on 01.12.2024 and 2024-12-01 at 09:30',
    'ticket 100000000004600',
    'error 0x80070005, AADSTS50076, KB5034441',
    'request REQ-10234567',
    'hash 0123456789abcdef',
    'disks 0 1 2 3 4 5 6 7 8',
    'amount 1 234 567',
    '912 345 678 without a label',
  ])('ignores %j', (text) => {
    expect(phonesIn(text)).toEqual([]);
  });
});

describe('findEmails', () => {
  it('finds addresses, not user@host without a domain', () => {
    const text = 'from anna.o-brien+it@sub.example.co.uk to ssh admin@10.0.0.5';
    expect(findEmails(text).map((span) => text.slice(span.start, span.end))).toEqual([
      'anna.o-brien+it@sub.example.co.uk',
    ]);
  });
});
