/**
 * The gatherer's handler on real PostgreSQL as the application role: what it
 * returns for a new ticket, a resolved one, a repeated update, a replay of a
 * job that ended, and an unknown tenant — the runtime acts on the result.
 */
import { randomUUID } from 'node:crypto';
import type { PinoLogger } from 'nestjs-pino';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { StageError, TicketContextualizedSchema, type TicketReceived } from '@tep/contracts';
import { TenantDatabase, createDataSource } from '@tep/data';
import { MetricsRegistry, PipelineMetrics } from '@tep/service-runtime';
import { contextualizedMessage, createTestDatabase, type TestDatabase } from '@tep/testing';
import { GatherContext } from './gather-context.handler';

const TENANT = randomUUID();

/** A webhook's job for `ticket` (the received message: no context yet). */
function received(ticket: Partial<TicketReceived['ticket']>, jobId = randomUUID()): TicketReceived {
  const job: Partial<ReturnType<typeof contextualizedMessage>> = contextualizedMessage(ticket);
  delete job.context;
  return { ...(job as TicketReceived), tenant_id: TENANT, job_id: jobId };
}

describe('GatherContext', () => {
  let db: TestDatabase;
  let admin: Client;
  let dataSource: DataSource;
  let gather: GatherContext;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    await admin.query(
      `INSERT INTO tenant_configs (tenant_id, name, servicedesk_url, servicedesk_api_key_encrypted, webhook_signing_secret_encrypted)
       VALUES ($1, 'Gatherer spec', 'https://sdp.example.com', 'gAAAA-key', 'gAAAA-secret')`,
      [TENANT],
    );
    await admin.query(
      `INSERT INTO ticket_history (tenant_id, ticket_id, subject, description, resolution, status) VALUES
         ($1, 'H-1', 'VPN tunnel down after firewall update', 'VPN clients cannot connect', 'Re-applied the IPsec phase 2 proposal', 'Resolved')`,
      [TENANT],
    );
    dataSource = createDataSource({ url: db.appUrl, poolSize: 2 });
    await dataSource.initialize();
    const logger = {
      setContext: () => undefined,
      info: () => undefined,
      warn: () => undefined,
    } as unknown as PinoLogger;
    gather = new GatherContext(
      new TenantDatabase(dataSource),
      { sourceTimeoutMs: 3_000 },
      new PipelineMetrics(new MetricsRegistry()),
      logger,
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await admin?.end();
    await db?.drop();
  });

  const status = async (jobId: string) =>
    (
      await admin.query<{ status: string }>(
        `SELECT status FROM enhancement_history WHERE tenant_id = $1 AND job_id = $2`,
        [TENANT, jobId],
      )
    ).rows[0]?.status;

  it("hands a new ticket on with the tenant's context and preferences, recording the job pending", async () => {
    const job = received({
      ticket_id: 'T-1',
      subject: 'VPN tunnel down',
      description_text: 'VPN clients cannot connect since this morning',
    });
    const result = await gather.execute(job);
    if (result.kind !== 'next') throw new Error(`expected next, got ${result.kind}`);
    expect(TicketContextualizedSchema.safeParse(result.message).success).toBe(true);
    expect(result.message.context.similar_tickets.map((s) => s.ticket_id)).toEqual(['H-1']);
    expect(result.message.preferences?.output_format).toBe('markdown');
    expect(await status(job.job_id)).toBe('pending');
  });

  it('skips a resolved ticket (its resolution is kept as history) and an unchanged update', async () => {
    const resolved = await gather.execute(
      received({ ticket_id: 'T-2', subject: 'Printer jam', status: 'Resolved' }),
    );
    expect(resolved).toMatchObject({
      kind: 'skipped',
      ticketId: 'T-2',
      reason: expect.stringMatching(/Resolved/),
    });
    // The same ticket's update, once its first job was posted: one note per ticket.
    const first = received({ ticket_id: 'T-3', subject: 'Outlook crashes on start' });
    expect((await gather.execute(first)).kind).toBe('next');
    await admin.query(`UPDATE enhancement_history SET status = 'posted' WHERE job_id = $1`, [
      first.job_id,
    ]);
    const update = await gather.execute(
      received({ ticket_id: 'T-3', subject: 'Outlook crashes on start', event: 'updated' }),
    );
    expect(update).toMatchObject({
      kind: 'skipped',
      reason: expect.stringMatching(/already has its enhancement/),
    });
  });

  it('ends a replay of a job that ended, recording nothing again', async () => {
    const job = received({ ticket_id: 'T-4', subject: 'Disk full on file server' });
    expect((await gather.execute(job)).kind).toBe('next');
    await admin.query(`UPDATE enhancement_history SET status = 'posted' WHERE job_id = $1`, [
      job.job_id,
    ]);
    expect(await gather.execute(job)).toEqual({
      kind: 'ended',
      reason: 'replayed webhook: the job is already posted',
    });
  });

  it('refuses a job of an unknown tenant with tenant_not_found', async () => {
    const job = { ...received({ ticket_id: 'T-5' }), tenant_id: randomUUID() };
    await expect(gather.execute(job)).rejects.toMatchObject({ code: 'tenant_not_found' });
    await expect(gather.execute(job)).rejects.toBeInstanceOf(StageError);
  });
});
