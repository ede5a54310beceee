import { htmlToPlainText } from '@tep/contracts';
import { storedTextOf } from '@tep/context-retrieval';
import type { TenantDatabase, TenantTransaction } from '@tep/data';
import {
  backfillResolvedRequestsQuery,
  type ServiceDeskClient,
  type ServiceDeskRequest,
} from '@tep/servicedesk-client';

export interface BackfillProgress {
  kind: 'tickets' | 'kb';
  fetched: number;
  stored: number;
  skipped: number;
}

export interface BackfillResult {
  tickets: BackfillProgress;
  kb: BackfillProgress;
  resumedFrom: string | null;
}

/**
 * Copies a tenant's resolved requests into ticket_history and its solutions
 * into kb_articles, through the SDP client, under the tenant's RLS context.
 *
 * Idempotent: rows are upserted on (tenant_id, ticket_id / article_id).
 * Resumable: it restarts from the newest back-filled ticket's created time
 * (the overlap is harmless because of the upsert), so an interrupted run
 * does not start over.
 */
export async function backfillTenant(options: {
  tenantId: string;
  database: TenantDatabase;
  client: ServiceDeskClient;
  includeKb?: boolean;
  onProgress?: (progress: BackfillProgress) => void;
  now?: () => number;
}): Promise<BackfillResult> {
  const { tenantId, database, client } = options;
  const report = options.onProgress ?? (() => undefined);

  const resumedFrom = await database.withTenant(tenantId, async (tx) => {
    const rows = await tx.query<{ latest: Date | null }>(
      `SELECT max(ticket_created_at) AS latest FROM ticket_history WHERE source = 'backfill'`,
    );
    return rows[0]?.latest ? new Date(rows[0].latest).toISOString() : null;
  });

  const tickets: BackfillProgress = { kind: 'tickets', fetched: 0, stored: 0, skipped: 0 };
  const query = backfillResolvedRequestsQuery({
    rowCount: 100,
    createdBetween: resumedFrom
      ? { fromMs: Date.parse(resumedFrom), toMs: (options.now ?? Date.now)() }
      : undefined,
  });
  for await (const page of batches(client.iterateRequests(query), 100)) {
    const withResolutions = await Promise.all(
      page.map(async (request) => ({
        request,
        resolution:
          request.resolutionHtml ??
          (await client.getRequestResolution(request.id))?.contentHtml ??
          null,
      })),
    );
    await database.withTenant(tenantId, async (tx) => {
      for (const { request, resolution } of withResolutions) {
        tickets.fetched++;
        if (!resolution) {
          tickets.skipped++; // nothing to learn from a resolved ticket without a resolution
          continue;
        }
        await upsertTicket(tx, request, resolution);
        tickets.stored++;
      }
    });
    report({ ...tickets });
  }

  const kb: BackfillProgress = { kind: 'kb', fetched: 0, stored: 0, skipped: 0 };
  if (options.includeKb !== false) {
    for await (const page of batches(
      client.iterateSolutions({ rowCount: 100, approvedOnly: true }),
      100,
    )) {
      await database.withTenant(tenantId, async (tx) => {
        for (const solution of page) {
          kb.fetched++;
          await tx.query(
            `INSERT INTO kb_articles (tenant_id, article_id, title, content, keywords)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, article_id) DO UPDATE SET
               title = EXCLUDED.title, content = EXCLUDED.content, keywords = EXCLUDED.keywords, updated_at = now()`,
            [
              tx.tenantId,
              solution.id,
              solution.title,
              htmlToPlainText(solution.descriptionHtml),
              solution.keywords.join(', '),
            ],
          );
          kb.stored++;
        }
      });
      report({ ...kb });
    }
  }
  return { tickets, kb, resumedFrom };
}

async function upsertTicket(
  tx: TenantTransaction,
  request: ServiceDeskRequest,
  resolutionHtml: string,
): Promise<void> {
  // Stored and indexed like webhook tickets: no secrets, no mail noise, in the ticket's language.
  const stored = storedTextOf({
    subject: request.subject,
    description: htmlToPlainText(request.descriptionHtml),
    resolution: htmlToPlainText(resolutionHtml),
  });
  await tx.query(
    `INSERT INTO ticket_history (tenant_id, ticket_id, display_id, subject, description, priority, status, resolution,
                                 requester_email, source, ticket_created_at, resolved_at,
                                 clean_description, language)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'backfill', $10, $11, $12, $13)
     ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET
       display_id = EXCLUDED.display_id, subject = EXCLUDED.subject, description = EXCLUDED.description,
       clean_description = EXCLUDED.clean_description, language = EXCLUDED.language,
       priority = EXCLUDED.priority, status = EXCLUDED.status, resolution = EXCLUDED.resolution,
       ticket_created_at = EXCLUDED.ticket_created_at, resolved_at = EXCLUDED.resolved_at, updated_at = now()`,
    [
      tx.tenantId,
      request.id,
      request.displayId,
      stored.subject,
      stored.description,
      request.priority?.name ?? null,
      request.status?.name ?? null,
      stored.resolution,
      request.requester?.email ?? null,
      request.createdTime,
      request.resolvedTime ?? request.completedTime ?? new Date().toISOString(),
      stored.cleanDescription,
      stored.language,
    ],
  );
}

/** Groups an item stream so each group is written in one transaction. */
async function* batches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
