import type { PinoLogger } from 'nestjs-pino';
import {
  EnhancementPreferencesSchema,
  StageError,
  TicketPostedSchema,
  type TicketEnhanced,
} from '@tep/contracts';
import type { TenantDatabase, TenantTransaction } from '@tep/data';
import { SecretCipher } from '@tep/encryption';
import { startSdpSimulator, type SdpSimulator } from '@tep/sdp-simulator';
import { MetricsRegistry, PipelineMetrics } from '@tep/service-runtime';
import type { AccessTokenStore } from '@tep/servicedesk-client';
import {
  TEST_JOB_ID,
  TEST_TENANT_ID,
  contextualizedMessage,
  testEncryptionKey,
  testEnhancement,
} from '@tep/testing';
import { PostEnhancement } from './post-enhancement.handler';
import { jobMarker } from './render-note';

const TENANT_ID = TEST_TENANT_ID;
const JOB_ID = TEST_JOB_ID;

/**
 * The poster's handler on its own: a stand-in for the tenant's rows (what
 * its two transactions read and write) and the SDP simulator for the API.
 */
describe('PostEnhancement', () => {
  let sdp: SdpSimulator;
  const cipher = SecretCipher.fromEnv(testEncryptionKey());

  beforeAll(async () => {
    sdp = await startSdpSimulator({
      seed: { requests: [{ display_id: 'TKT-1', subject: 'VPN down', status: 'Open' }] },
    });
  });
  afterAll(() => sdp.close());
  beforeEach(() => sdp.control.reset());

  const message = (over: Partial<TicketEnhanced> = {}): TicketEnhanced => ({
    ...contextualizedMessage({ ticket_id: 'TKT-1' }),
    received_at: new Date().toISOString(),
    enhancement: testEnhancement,
    ...over,
  });

  /** The tenant's rows as the handler's queries see them; writes are collected. */
  function handler(rows: {
    status?: 'active' | 'disabled';
    /** The job's record as the poster's claim returns it (attempt: this one's number). */
    job?: { status: string; note_id: string | null; attempt?: number };
  }) {
    const writes: string[] = [];
    const tx = {
      tenantId: TENANT_ID,
      query: (sql: string) => {
        if (/FROM tenant_configs/.test(sql)) {
          return Promise.resolve([
            {
              status: rows.status ?? 'active',
              servicedesk_url: sdp.url,
              servicedesk_api_key_encrypted: cipher.encrypt(sdp.credentials.apiKeys[0]),
              servicedesk_settings: {},
              enhancement_preferences: {},
            },
          ]);
        }
        if (/^UPDATE enhancement_history SET post_attempts/.test(sql.trim())) {
          return Promise.resolve(rows.job ? [{ attempt: 2, ...rows.job }] : []);
        }
        writes.push(sql.trim().split(/\s+/).slice(0, 3).join(' '));
        return Promise.resolve([]);
      },
    } as unknown as TenantTransaction;
    const database = {
      withTenant: <T>(_id: string, work: (t: TenantTransaction) => Promise<T>) => work(tx),
    } as unknown as TenantDatabase;
    const logger = { setContext: () => undefined, info: () => undefined } as unknown as PinoLogger;
    const poster = new PostEnhancement(
      database,
      cipher,
      {} as AccessTokenStore,
      { sdpTimeoutMs: 2_000 },
      new PipelineMetrics(new MetricsRegistry()),
      logger,
    );
    return { poster, writes };
  }

  it('posts the note, records it and hands on a valid tickets.posted message', async () => {
    const { poster, writes } = handler({});
    const result = await poster.execute(message());
    expect(sdp.control.notes()).toHaveLength(1);
    const [note] = sdp.control.notes();
    expect(note.description).toContain(jobMarker(JOB_ID));
    expect(result).toMatchObject({
      kind: 'next',
      message: { note_id: note.note_id, job_id: JOB_ID },
    });
    if (result.kind !== 'next') throw new Error('expected the next message');
    expect(TicketPostedSchema.safeParse(result.message).success).toBe(true);
    expect(writes).toEqual(['INSERT INTO enhancement_history']);
  });

  it('posts nothing for a job already recorded as posted, and announces it again', async () => {
    const { poster, writes } = handler({ job: { status: 'posted', note_id: '77' } });
    expect(await poster.execute(message())).toMatchObject({
      kind: 'next',
      message: { note_id: '77' },
    });
    expect(sdp.control.notes()).toHaveLength(0);
    expect(writes).toEqual([]);
  });

  it('finds the note of a job not recorded as posted on the ticket instead of posting a second', async () => {
    const first = handler({});
    await first.poster.execute(message());
    // The record was lost (e.g. killed between posting and recording): the marker is on the ticket.
    const again = handler({});
    const result = await again.poster.execute(message());
    expect(sdp.control.notes()).toHaveLength(1);
    expect(result).toMatchObject({
      kind: 'next',
      message: { note_id: sdp.control.notes()[0].note_id },
    });
  });

  const listCalls = () => sdp.control.calls().byRoute['GET /requests/{id}/notes'] ?? {};

  it('posts a pending job’s first attempt without listing the ticket’s notes first', async () => {
    const { poster } = handler({ job: { status: 'pending', note_id: null, attempt: 1 } });
    await poster.execute(message());
    expect(sdp.control.notes()).toHaveLength(1);
    expect(listCalls()).toEqual({});
  });

  it('looks for the job’s note on every later attempt and posts no second one', async () => {
    // The first attempt posted, then its record was lost (killed, or the reply never came).
    await handler({ job: { status: 'pending', note_id: null, attempt: 1 } }).poster.execute(
      message(),
    );
    const again = handler({ job: { status: 'pending', note_id: null, attempt: 2 } });
    const result = await again.poster.execute(message());
    expect(listCalls()).toEqual({ '200': 1 });
    expect(sdp.control.notes()).toHaveLength(1);
    expect(result).toMatchObject({ message: { note_id: sdp.control.notes()[0].note_id } });
  });

  it('returns skipped for a confidence below min_confidence with low_confidence_action skip', async () => {
    const { poster } = handler({});
    const preferences = EnhancementPreferencesSchema.parse({
      min_confidence: 0.9,
      low_confidence_action: 'skip',
    });
    const result = await poster.execute(message({ preferences }));
    expect(result).toEqual({
      kind: 'skipped',
      ticketId: 'TKT-1',
      reason: 'confidence 0.7 is below min_confidence 0.9',
    });
    expect(sdp.control.notes()).toHaveLength(0);
  });

  it('refuses a disabled tenant’s job as a dead letter, posting nothing', async () => {
    const { poster } = handler({ status: 'disabled' });
    await expect(poster.execute(message())).rejects.toMatchObject(
      new StageError('tenant_disabled', `Tenant ${TENANT_ID} is disabled; nothing posted`),
    );
    expect(sdp.control.notes()).toHaveLength(0);
  });
});
