/**
 * Technicians' feedback, simulated on the labelled dataset: each query is a
 * ticket whose note cited its top three similar tickets, and the technician
 * rated it Helpful when the first of them is a right answer, Not helpful
 * otherwise — recorded with the platform's own `recordFeedback`, so the
 * ranking sees it exactly as in production.
 */
import { randomUUID } from 'node:crypto';
import { findSimilarTickets } from '@tep/context-retrieval';
import { recordFeedback, type TenantDatabase } from '@tep/data';
import type { Dataset, EvalQuery } from './dataset';
import { evaluate, toTicket, type EvaluationResult } from './evaluate';

export interface SimulatedFeedback {
  notes: number;
  helpful: number;
  notHelpful: number;
}

export async function simulateFeedback(
  database: TenantDatabase,
  tenantId: string,
  queries: readonly EvalQuery[],
): Promise<SimulatedFeedback> {
  const result = { notes: 0, helpful: 0, notHelpful: 0 };
  for (const q of queries) {
    await database.withTenant(tenantId, async (tx) => {
      const cited = (await findSimilarTickets(tx, toTicket(q), { limit: 3 })).map(
        (r) => r.display_id ?? r.ticket_id,
      );
      if (cited.length === 0) return;
      const jobId = randomUUID();
      await tx.query(
        `INSERT INTO enhancement_history (tenant_id, job_id, ticket_id, status, enhancement)
         VALUES ($1, $2, $3, 'posted', $4)`,
        [tenantId, jobId, q.id, JSON.stringify({ related_tickets: cited })],
      );
      const rating = q.relevant.includes(cited[0]) ? 'helpful' : 'not_helpful';
      await recordFeedback(tx, { jobId, rating, submittedAt: new Date().toISOString() });
      result.notes += 1;
      if (rating === 'helpful') result.helpful += 1;
      else result.notHelpful += 1;
    });
  }
  return result;
}

/** Forgets every rating (and the notes they were about), for the next measurement. */
export async function clearFeedback(database: TenantDatabase, tenantId: string): Promise<void> {
  await database.withTenant(tenantId, async (tx) => {
    await tx.query(`DELETE FROM ticket_feedback WHERE tenant_id = $1`, [tenantId]);
    await tx.query(`DELETE FROM enhancement_feedback WHERE tenant_id = $1`, [tenantId]);
    await tx.query(`DELETE FROM enhancement_history WHERE tenant_id = $1`, [tenantId]);
  });
}

/** Even-indexed queries give feedback, odd ones are measured (they never gave any). */
export function splitQueries(dataset: Dataset): { rated: EvalQuery[]; heldOut: Dataset } {
  return {
    rated: dataset.queries.filter((_, i) => i % 2 === 0),
    heldOut: { ...dataset, queries: dataset.queries.filter((_, i) => i % 2 === 1) },
  };
}

export interface FeedbackEffect {
  /** Half the queries rated, the other half measured before and after (never rated). */
  heldOut: { before: EvaluationResult; after: EvaluationResult; feedback: SimulatedFeedback };
  /** Every query rated once, then asked again (recurring tickets). */
  recurring: { before: EvaluationResult; after: EvaluationResult; feedback: SimulatedFeedback };
}

/** Both measurements, each from no feedback at all; leaves no feedback behind. */
export async function measureFeedbackEffect(
  database: TenantDatabase,
  tenantId: string,
  dataset: Dataset,
): Promise<FeedbackEffect> {
  await clearFeedback(database, tenantId);
  const { rated, heldOut } = splitQueries(dataset);
  const heldOutBefore = await evaluate(database, tenantId, heldOut);
  const heldOutFeedback = await simulateFeedback(database, tenantId, rated);
  const heldOutAfter = await evaluate(database, tenantId, heldOut);
  await clearFeedback(database, tenantId);
  const recurringBefore = await evaluate(database, tenantId, dataset);
  const recurringFeedback = await simulateFeedback(database, tenantId, dataset.queries);
  const recurringAfter = await evaluate(database, tenantId, dataset);
  await clearFeedback(database, tenantId);
  return {
    heldOut: { before: heldOutBefore, after: heldOutAfter, feedback: heldOutFeedback },
    recurring: { before: recurringBefore, after: recurringAfter, feedback: recurringFeedback },
  };
}
