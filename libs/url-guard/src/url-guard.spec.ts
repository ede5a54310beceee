import { UnsafeUrlError, assertPublicUrl } from './index';

const publicDns = () => Promise.resolve(['93.184.215.14']);
const strict = { allowInsecure: false, lookup: publicDns };

describe('assertPublicUrl', () => {
  it('accepts an https URL whose every address is public', async () => {
    const url = await assertPublicUrl('https://servicedesk.acmecorp.com/app/itdesk', strict);
    expect(url.hostname).toBe('servicedesk.acmecorp.com');
  });

  it.each([
    ['http://servicedesk.acmecorp.com', /https is required/],
    ['https://127.0.0.1', /loopback/],
    ['https://localhost:8080', /localhost/],
    ['https://[::1]/', /loopback/],
    ['https://2130706433/', /loopback/], // decimal 127.0.0.1
    ['https://0x7f000001/', /loopback/], // hex 127.0.0.1
    ['https://0x7f.1/', /loopback/],
    ['https://10.1.2.3', /private/],
    ['https://172.16.0.1', /private/],
    ['https://192.168.1.10', /private/],
    ['https://169.254.169.254/latest/meta-data', /linkLocal/],
    ['https://0.0.0.0', /unspecified/],
    ['https://[fd00::1]', /uniqueLocal/],
    ['https://[fe80::1]', /linkLocal/],
    ['https://[::ffff:127.0.0.1]', /loopback/],
    ['https://user:pw@sdp.example.com', /credentials/],
  ])('refuses %s', async (url, reason) => {
    await expect(assertPublicUrl(url, strict)).rejects.toThrow(reason);
  });

  it('refuses a name that resolves to a private address (A or AAAA)', async () => {
    await expect(
      assertPublicUrl('https://sdp.internal.example', {
        allowInsecure: false,
        lookup: () => Promise.resolve(['93.184.215.14', '10.0.0.7']),
      }),
    ).rejects.toThrow(/private/);
    await expect(
      assertPublicUrl('https://sdp6.internal.example', {
        allowInsecure: false,
        lookup: () => Promise.resolve(['::1']),
      }),
    ).rejects.toThrow(/loopback/);
  });

  it('refuses a name that does not resolve', async () => {
    await expect(
      assertPublicUrl('https://nowhere.invalid', {
        allowInsecure: false,
        lookup: () => Promise.reject(new Error('ENOTFOUND')),
      }),
    ).rejects.toBeInstanceOf(UnsafeUrlError);
  });

  it('allows http and loopback only with the named development setting', async () => {
    const url = await assertPublicUrl('http://127.0.0.1:8090', { allowInsecure: true });
    expect(url.port).toBe('8090');
  });
});
