import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REQUESTS_PER_MINUTE, EnhancementPreferencesSchema } from '@tep/contracts';
import { loadClientInfo } from './client-info';
import { UsageError } from './errors';

describe('client information', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tep-client-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the runbook's client information from YAML, with defaults for the rest", async () => {
    const file = join(dir, 'client.yaml');
    await writeFile(
      file,
      [
        'company_name: Acme Corp MSP',
        'servicedesk_url: https://servicedesk.acmecorp.com/',
        'servicedesk_api_key: SDPAPI_ABC123XYZ456',
        'admin_email: admin@acmecorp.com',
        'tier: premium',
        'enhancement_preferences:',
        '  output_format: html',
        '  max_tokens: 800',
        'rate_limits:',
        '  requests_per_minute: 100',
      ].join('\n'),
    );
    expect(await loadClientInfo({ file }, {})).toEqual({
      company_name: 'Acme Corp MSP',
      servicedesk_url: 'https://servicedesk.acmecorp.com',
      auth_kind: 'authtoken',
      servicedesk_api_key: 'SDPAPI_ABC123XYZ456',
      admin_email: 'admin@acmecorp.com',
      tier: 'premium',
      // The file's values over every default.
      enhancement_preferences: {
        ...EnhancementPreferencesSchema.parse({}),
        output_format: 'html',
        max_tokens: 800,
      },
      rate_limit: 100,
    });
  });

  it('lets flags override a JSON file (relative to the working directory) and takes the API key from TEP_SERVICEDESK_API_KEY', async () => {
    const file = join(dir, 'client.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'Old Name',
        servicedesk_url: 'https://sdp.example.com',
        tier: 'basic',
      }),
    );
    const prefs = join(dir, 'prefs.json');
    await writeFile(prefs, '{"note_visibility":"requester"}');
    // Relative paths are the operator's, not the repository root's (npm run sets INIT_CWD).
    const info = await loadClientInfo(
      {
        file: 'client.json',
        name: 'Globex MSP',
        tier: 'PREMIUM',
        rateLimit: '30',
        preferences: '@prefs.json',
      },
      { TEP_SERVICEDESK_API_KEY: 'from-env' },
      dir,
    );
    expect(info).toMatchObject({
      company_name: 'Globex MSP',
      servicedesk_api_key: 'from-env',
      tier: 'premium',
      rate_limit: 30,
      enhancement_preferences: { note_visibility: 'requester' },
    });
  });

  it('lists every problem at once, without echoing the API key', async () => {
    const error = await loadClientInfo(
      {
        servicedeskUrl: 'not a url',
        servicedeskApiKey: 'SECRET-KEY-123',
        adminEmail: 'nope',
        preferences: '{"output_format":"pdf"}',
      },
      {},
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toContain('company_name');
    expect(message).toContain('servicedesk_url');
    expect(message).toContain('admin_email');
    expect(message).toContain('enhancement_preferences.output_format');
    expect(message).not.toContain('SECRET-KEY-123');
  });

  it('refuses unknown fields and unreadable files', async () => {
    const file = join(dir, 'typo.json');
    await writeFile(file, JSON.stringify({ company: 'x' }));
    await expect(loadClientInfo({ file }, {})).rejects.toThrow(/unknown field "company"/);
    await expect(loadClientInfo({ file: join(dir, 'missing.yaml') }, {})).rejects.toThrow(
      UsageError,
    );
    await writeFile(join(dir, 'bad.yaml'), 'a: [1, 2');
    await expect(loadClientInfo({ file: join(dir, 'bad.yaml') }, {})).rejects.toThrow(
      /not valid yaml/,
    );
  });

  describe('SDP Cloud (Zoho OAuth)', () => {
    const CLIENT_SECRET = 'zoho-client-secret-0123456789';
    const REFRESH_TOKEN = '1000.zoho-refresh-token-abcdef';
    const GRANT_CODE = '1000.zoho-grant-code-987654';

    it('reads a Cloud client with a grant code from YAML; the data centre defaults to us', async () => {
      const file = join(dir, 'cloud.yaml');
      await writeFile(
        file,
        [
          'company_name: Initech Cloud',
          'edition: cloud',
          'servicedesk_url: https://sdpondemand.manageengine.com',
          'portal: itdesk',
          'client_id: 1000.SELFCLIENTID',
          `client_secret: ${CLIENT_SECRET}`,
          `grant_code: ${GRANT_CODE}`,
        ].join('\n'),
      );
      expect(await loadClientInfo({ file }, {})).toEqual({
        company_name: 'Initech Cloud',
        servicedesk_url: 'https://sdpondemand.manageengine.com',
        auth_kind: 'oauth',
        client_id: '1000.SELFCLIENTID',
        client_secret: CLIENT_SECRET,
        grant_code: GRANT_CODE,
        data_centre: 'us',
        portal: 'itdesk',
        tier: 'basic',
        enhancement_preferences: expect.any(Object),
        rate_limit: DEFAULT_REQUESTS_PER_MINUTE,
      });
    });

    it('takes the edition, data centre and Zoho fields from flags, and the secrets from TEP_ZOHO_*', async () => {
      const info = await loadClientInfo(
        {
          name: 'Umbrella EU',
          servicedeskUrl: 'https://sdpondemand.manageengine.eu/',
          edition: 'CLOUD',
          dataCentre: 'EU',
          portal: 'support',
          zohoClientId: '1000.EU',
        },
        {
          TEP_ZOHO_CLIENT_SECRET: CLIENT_SECRET,
          TEP_ZOHO_REFRESH_TOKEN: REFRESH_TOKEN,
          // Each variable belongs to one edition: an API key left in the environment is ignored.
          TEP_SERVICEDESK_API_KEY: 'on-prem-key',
        },
      );
      expect(info).toMatchObject({
        auth_kind: 'oauth',
        servicedesk_url: 'https://sdpondemand.manageengine.eu',
        data_centre: 'eu',
        portal: 'support',
        client_id: '1000.EU',
        client_secret: CLIENT_SECRET,
        refresh_token: REFRESH_TOKEN,
      });
      expect(info).not.toHaveProperty('servicedesk_api_key');
      expect(info).not.toHaveProperty('grant_code');

      // A grant code in the file wins over a refresh token in the environment (never both).
      const file = join(dir, 'cloud-code.json');
      await writeFile(
        file,
        JSON.stringify({
          name: 'Umbrella AU',
          auth_kind: 'oauth',
          servicedesk_url: 'https://servicedeskplus.net.au',
          data_center: 'au',
          portal: 'it',
          client_id: '1000.AU',
          grant_code: GRANT_CODE,
        }),
      );
      const withCode = await loadClientInfo(
        { file },
        { TEP_ZOHO_CLIENT_SECRET: CLIENT_SECRET, TEP_ZOHO_REFRESH_TOKEN: REFRESH_TOKEN },
      );
      expect(withCode).toMatchObject({ data_centre: 'au', grant_code: GRANT_CODE });
      expect(withCode).not.toHaveProperty('refresh_token');
      expect(
        await loadClientInfo(
          {
            name: 'x',
            servicedeskUrl: 'https://sdpondemand.manageengine.com',
            edition: 'cloud',
            portal: 'p',
            zohoClientId: 'id',
            zohoClientSecret: CLIENT_SECRET,
          },
          { TEP_ZOHO_GRANT_CODE: GRANT_CODE },
        ),
      ).toMatchObject({ grant_code: GRANT_CODE });
    });

    it('names every missing Cloud field at once, without echoing a secret', async () => {
      const error = await loadClientInfo(
        {
          name: 'Incomplete Cloud',
          edition: 'cloud',
          servicedeskApiKey: 'SECRET-API-KEY-42',
          adminEmail: 'nope',
        },
        {},
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      const message = (error as Error).message;
      expect(message).toContain(
        'servicedesk_api_key: SDP Cloud signs in with Zoho OAuth (client_id, client_secret and a refresh_token or grant_code), not an API key',
      );
      expect(message).toContain('client_id: the Zoho client_id is required for SDP Cloud');
      expect(message).toContain('client_secret: the Zoho client_secret is required for SDP Cloud');
      expect(message).toContain(
        'grant_code: SDP Cloud needs a Zoho refresh_token or a one-time grant_code (Zoho API console → Self Client)',
      );
      expect(message).toContain('portal: the SDP Cloud portal name is required');
      // Field problems and edition problems in one list.
      expect(message).toContain('servicedesk_url: ');
      expect(message).toContain('admin_email: admin email must be an email address');
      expect(message).not.toContain('SECRET-API-KEY-42');
    });

    it('refuses both a refresh token and a grant code, unknown data centres, editions and portals', async () => {
      const base = {
        name: 'Cloud',
        servicedeskUrl: 'https://sdpondemand.manageengine.com',
        edition: 'cloud',
        portal: 'itdesk',
        zohoClientId: '1000.ID',
        zohoClientSecret: CLIENT_SECRET,
      };
      const problems = async (flags: Record<string, string>) => {
        const error = await loadClientInfo({ ...base, ...flags }, {}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UsageError);
        const message = (error as Error).message;
        for (const secret of [CLIENT_SECRET, REFRESH_TOKEN, GRANT_CODE]) {
          expect(message).not.toContain(secret);
        }
        return message;
      };
      expect(
        await problems({ zohoRefreshToken: REFRESH_TOKEN, zohoGrantCode: GRANT_CODE }),
      ).toContain('grant_code: give either refresh_token or grant_code, not both');
      expect(await problems({ zohoRefreshToken: REFRESH_TOKEN, dataCentre: 'mars' })).toContain(
        'data_centre: data_centre must be one of us, eu, in, au, jp, ca, uk, sa, ae, cn',
      );
      expect(await problems({ zohoRefreshToken: REFRESH_TOKEN, edition: 'saas' })).toContain(
        'auth_kind: edition must be "cloud" (SDP Cloud, Zoho OAuth) or "on-premises" (API key)',
      );
      expect(await problems({ zohoRefreshToken: REFRESH_TOKEN, portal: 'it desk/..' })).toContain(
        'portal: portal must be a portal name of letters, digits, _ or -',
      );
      expect(await problems({ zohoRefreshToken: ' ' })).toContain(
        'refresh_token: the Zoho refresh_token must not be empty',
      );
    });

    it('refuses Cloud fields for an on-premises client', async () => {
      const error = await loadClientInfo(
        {
          name: 'On-prem',
          servicedeskUrl: 'https://sdp.example.com',
          servicedeskApiKey: 'k',
          zohoClientId: '1000.ID',
          portal: 'itdesk',
        },
        {},
      ).catch((e: unknown) => e);
      expect((error as Error).message).toContain(
        'client_id: is only for SDP Cloud clients (edition: cloud)',
      );
      expect((error as Error).message).toContain(
        'portal: is only for SDP Cloud clients (edition: cloud)',
      );
    });

    it('allows an accounts_url only where the registry does: Zoho hosts, and loopback in development', async () => {
      const flags = {
        name: 'Cloud',
        servicedeskUrl: 'https://sdpondemand.manageengine.com',
        edition: 'cloud',
        portal: 'itdesk',
        zohoClientId: '1000.ID',
        zohoClientSecret: CLIENT_SECRET,
        zohoRefreshToken: REFRESH_TOKEN,
      };
      const load = (accountsUrl: string, allowLoopbackAccounts?: boolean) =>
        loadClientInfo({ ...flags, accountsUrl }, {}, dir, { allowLoopbackAccounts });

      expect(await load('https://accounts.zohocloud.ca')).toMatchObject({
        accounts_url: 'https://accounts.zohocloud.ca',
      });
      await expect(load('https://accounts.zoho.com.evil.example')).rejects.toThrow(
        /accounts_url: the Zoho accounts server URL must be a Zoho accounts server/,
      );
      await expect(load('http://127.0.0.1:8090')).rejects.toThrow(
        'accounts_url: the Zoho accounts server URL must use https',
      );
      expect(await load('http://127.0.0.1:8090', true)).toMatchObject({
        accounts_url: 'http://127.0.0.1:8090',
      });
    });

    it('does not quote the client file when it fails to parse (the line may hold a secret)', async () => {
      const yaml = join(dir, 'broken-cloud.yaml');
      await writeFile(yaml, `edition: cloud\nclient_secret: [${CLIENT_SECRET}\n`);
      const json = join(dir, 'broken-cloud.json');
      await writeFile(json, `{"edition": "cloud", "client_secret": ${CLIENT_SECRET}}`);
      for (const file of [yaml, json]) {
        const error = await loadClientInfo({ file }, {}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UsageError);
        expect((error as Error).message).toMatch(/is not valid (yaml|json): \S/);
        expect((error as Error).message).not.toContain(CLIENT_SECRET);
      }
    });
  });
});
