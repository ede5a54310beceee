import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertPublicUrl, publicOnlyLookup } from '@tep/url-guard';
import { publicOnlyFetch } from './public-only-fetch';

/** A server on loopback: what a rebinding attacker points a tenant's hostname at. */
describe('publicOnlyFetch (DNS rebinding)', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end('internal');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('refuses at connect a host that resolved to a public address when checked and to loopback after', async () => {
    let calls = 0;
    // First answer public (the guard's check), then loopback (the connect): a rebinding DNS server.
    const rebinding = () => Promise.resolve(calls++ === 0 ? ['93.184.215.14'] : ['127.0.0.1']);
    const url = `https://sdp.rebind.test:${port}/api/v3/requests`;
    await expect(
      assertPublicUrl(url, { allowInsecure: false, lookup: rebinding }),
    ).resolves.toBeInstanceOf(URL);
    const error = (await publicOnlyFetch({ lookup: rebinding })(url).catch(
      (e: unknown) => e,
    )) as Error & {
      cause?: { code?: string; message?: string };
    };
    expect(error).toBeInstanceOf(Error);
    expect(error.cause).toMatchObject({ code: 'EUNSAFEADDRESS' });
    expect(String(error.cause?.message)).toMatch(/resolves to a loopback address at connect/);
    expect(hits).toBe(0);
  });

  it('hands a public address to the socket, in both lookup forms', async () => {
    const lookup = publicOnlyLookup({
      lookup: () => Promise.resolve(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']),
    });
    const single = await new Promise((resolve) =>
      lookup('sdp.example.org', {}, (err, address, family) => resolve({ err, address, family })),
    );
    expect(single).toEqual({ err: null, address: '93.184.215.14', family: 4 });
    const all = await new Promise((resolve) =>
      lookup('sdp.example.org', { all: true }, (_err, addresses) => resolve(addresses)),
    );
    expect(all).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ]);
  });

  it('refuses when any address of the host is private, as the guard does', async () => {
    const lookup = publicOnlyLookup({
      lookup: () => Promise.resolve(['93.184.215.14', '10.0.0.5']),
    });
    const err = await new Promise((resolve) => lookup('mixed.example.org', {}, (e) => resolve(e)));
    expect(String(err)).toMatch(/private address at connect/);
  });
});
