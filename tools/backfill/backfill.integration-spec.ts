/** Back-fill through the real client from the SDP simulator into Postgres under RLS. */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { TenantDatabase, createDataSource } from '@tep/data';
import { startSdpSimulator, type SdpSimulator } from '@tep/sdp-simulator';
import { ServiceDeskClient } from '@tep/servicedesk-client';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import { backfillTenant, type BackfillProgress } from './backfill';

const TENANT = randomUUID();
const OTHER = randomUUID();

describe('backfillTenant', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let database: TenantDatabase;
  let sdp: SdpSimulator;
  let client: ServiceDeskClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = createDataSource({ url: db.appUrl, poolSize: 2 });
    await dataSource.initialize();
    database = new TenantDatabase(dataSource);
    const resolved = Array.from({ length: 130 }, (_, i) => ({
      display_id: `R-${i}`,
      subject: `Resolved problem ${i}`,
      description: `<p>Details of problem <b>${i}</b></p>`,
      status: i % 2 ? 'Resolved' : 'Closed',
      created_time: Date.parse('2025-01-01T00:00:00Z') + i * 60_000,
      resolved_time: Date.parse('2025-02-01T00:00:00Z'),
      resolution: i === 5 ? undefined : `<p>Fix number ${i}</p>`,
    }));
    sdp = await startSdpSimulator({
      apiKeys: ['k'],
      seed: {
        requests: [...resolved, { display_id: 'OPEN-1', subject: 'Still open', status: 'Open' }],
        solutions: [
          {
            title: 'Reset VPN',
            description: '<p>Reconnect the client</p>',
            keywords: ['vpn'],
            approved: true,
          },
          { title: 'Draft article', description: 'not reviewed', approved: false },
        ],
      },
    });
    client = new ServiceDeskClient({
      baseUrl: sdp.url,
      auth: { kind: 'authtoken', apiKey: 'k' },
      sleep: () => Promise.resolve(),
    });
  });

  afterAll(async () => {
    await sdp?.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  const count = (tenant: string, table: string) =>
    database.withTenant(
      tenant,
      async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n,
    );

  it('copies resolved requests with resolutions and approved solutions, reporting progress', async () => {
    const progress: BackfillProgress[] = [];
    const result = await backfillTenant({
      tenantId: TENANT,
      database,
      client,
      onProgress: (p) => progress.push(p),
    });
    expect(result.resumedFrom).toBeNull();
    expect(result.tickets).toEqual({ kind: 'tickets', fetched: 130, stored: 129, skipped: 1 });
    expect(result.kb).toEqual({ kind: 'kb', fetched: 1, stored: 1, skipped: 0 });
    expect(progress.filter((p) => p.kind === 'tickets').map((p) => p.fetched)).toEqual([100, 130]);
    expect(await count(TENANT, 'ticket_history')).toBe(129);
    expect(await count(TENANT, 'kb_articles')).toBe(1);
    expect(await count(OTHER, 'ticket_history')).toBe(0);
    const [row] = await database.withTenant(TENANT, (tx) =>
      tx.query<{ display_id: string; description: string; resolution: string; source: string }>(
        `SELECT display_id, description, resolution, source FROM ticket_history WHERE display_id = 'R-7'`,
      ),
    );
    expect(row).toEqual({
      display_id: 'R-7',
      description: 'Details of problem 7',
      resolution: 'Fix number 7',
      source: 'backfill',
    });
    // Indexed like webhook tickets: every back-filled row has its language and cleaned text.
    const unindexed = await database.withTenant(TENANT, (tx) =>
      tx.query(
        `SELECT 1 FROM ticket_history WHERE language IS NULL OR clean_description IS NULL OR retrieval_vector IS NULL`,
      ),
    );
    expect(unindexed).toHaveLength(0);
  });

  it('is idempotent and resumes from the newest back-filled ticket', async () => {
    const again = await backfillTenant({ tenantId: TENANT, database, client });
    expect(again.resumedFrom).toBe(
      new Date(Date.parse('2025-01-01T00:00:00Z') + 129 * 60_000).toISOString(),
    );
    expect(again.tickets.fetched).toBe(1);
    expect(await count(TENANT, 'ticket_history')).toBe(129);
    expect(await count(TENANT, 'kb_articles')).toBe(1);
  });
});
