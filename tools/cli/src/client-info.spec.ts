import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      servicedesk_api_key: 'SDPAPI_ABC123XYZ456',
      admin_email: 'admin@acmecorp.com',
      tier: 'premium',
      enhancement_preferences: {
        context_sources: ['ticket_history', 'kb', 'monitoring'],
        output_format: 'html',
        max_tokens: 800,
        llm_model: 'openai/gpt-4o-mini',
        include_confidence_score: true,
        note_visibility: 'technicians',
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
});
