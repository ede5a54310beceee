import { REDACTION_CORPUS } from './test-corpus/corpus';
import { MAY_HOLD_SECRET, SECRET_PATTERNS, findSecrets } from './secrets';

/** One text each pattern matches, in SECRET_PATTERNS order. */
const EXAMPLES = [
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4mFq3\n-----END RSA PRIVATE KEY-----',
  'conn postgres://app:S3cr3tPw@db01:5432/app',
  'Kennwort: Winter2024',
  'the passphrase is Sommer2024!',
  'host=db01;pass=Hunter22',
  '<secret>abc123XYZ</secret>',
  'Authorization: Basic dXNlcjpwYXNzd29yZA==',
  'use Bearer abcdEFGH1234ijklMNOP5678',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX3g',
  'key AKIAIOSFODNN7EXAMPLE here',
  'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'Endpoint=sb://x.servicebus.windows.net/;SharedAccessKey=abcDEF123=',
  'https://x.blob.core.windows.net/c?sv=2022&sig=abcdefghijklmnop',
  'value abc8Q~abcdefghijklmnopqrstuvwxyz012345 end',
  'AIzaSyA1234567890abcdefghijklmnopqrstuv',
  'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'github_pat_11ABCDEFG0123456789_abcdefghij',
  'glpat-abcdefghij0123456789',
  'xoxb-1234567890-abcdefghij',
  'xapp-1-A0123456789-abcdefghij',
  'https://hooks.slack.com/services/T000/B000/XXXX',
  'sk-proj-abcdefghijklmnopqrstuvwx',
  'sk_live_abcdefghij1234',
  'whsec_abcdefghijklmnop1234',
  'SG.abcdefghijklmnop.qrstuvwxyz012345',
  'npm_abcdefghijklmnopqrstuvwxyz0123456789',
];

describe('the secret pre-check (MAY_HOLD_SECRET)', () => {
  it('has an example for every pattern', () => {
    expect(EXAMPLES).toHaveLength(SECRET_PATTERNS.length);
    const unmatched = SECRET_PATTERNS.flatMap((pattern, i) =>
      [...EXAMPLES[i].matchAll(pattern)].length > 0 ? [] : [i],
    );
    expect(unmatched).toEqual([]);
  });

  it('passes every text any pattern matches, in the examples and the redaction corpus', () => {
    const texts = [...EXAMPLES, ...REDACTION_CORPUS.map((sample) => sample.text)];
    const missed = texts.filter((text) =>
      SECRET_PATTERNS.some((pattern) =>
        [...text.matchAll(pattern)].some((match) => !MAY_HOLD_SECRET.test(match[0])),
      ),
    );
    expect(missed).toEqual([]);
  });

  it('spares plain ticket text the patterns, and finds nothing there', () => {
    const plain =
      "Application reports 'Connection timeout' when querying PostgreSQL database on db01. Error started at 10:30 AM.";
    expect(MAY_HOLD_SECRET.test(plain)).toBe(false);
    expect(findSecrets(plain)).toEqual([]);
    expect(findSecrets('the pwd is Sommer2024!')).toHaveLength(1);
  });
});
