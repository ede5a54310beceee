/**
 * The labelled retrieval dataset (tools/eval/dataset/*.json): MSP tickets
 * written for this evaluation — resolved history and new tickets, each
 * query with the history tickets that share its cause (worded differently)
 * and hard negatives that share its words but not its cause.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const LANGUAGE = z.enum(['en', 'de', 'fr', 'es', 'nl']);

const HistoryTicketSchema = z.object({
  id: z.string().min(1),
  subject: z.string().min(1),
  description: z.string(),
  resolution: z.string().min(1),
  status: z.enum(['Resolved', 'Closed']),
  language: LANGUAGE,
  topic: z.string(),
  uninformative: z.boolean().optional(),
});

export const QUERY_CATEGORIES = [
  'paraphrase',
  'hard_negative',
  'typo',
  'long',
  'noise',
  'identifier',
  'multilingual',
] as const;

const QuerySchema = z.object({
  id: z.string().min(1),
  subject: z.string().min(1),
  description: z.string(),
  language: LANGUAGE,
  categories: z.array(z.enum(QUERY_CATEGORIES)).min(1),
  relevant: z.array(z.string()).min(1).max(3),
  hard_negatives: z.array(z.string()).default([]),
});

const PartSchema = z.object({
  part: z.string(),
  history: z.array(HistoryTicketSchema),
  queries: z.array(QuerySchema),
});

export type HistoryTicket = z.infer<typeof HistoryTicketSchema>;
export type EvalQuery = z.infer<typeof QuerySchema>;
export interface Dataset {
  history: HistoryTicket[];
  queries: EvalQuery[];
}

export const DATASET_DIR = join(__dirname, 'dataset');

/** Every part, checked: unique ids, labels that name existing tickets, no uninformative "relevant". */
export function loadDataset(dir = DATASET_DIR): Dataset {
  const parts = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => PartSchema.parse(JSON.parse(readFileSync(join(dir, f), 'utf8'))));
  const history = parts.flatMap((p) => p.history);
  const queries = parts.flatMap((p) => p.queries);
  const byId = new Map(history.map((h) => [h.id, h]));
  const problems: string[] = [];
  if (byId.size !== history.length) problems.push('duplicate history ids');
  if (new Set(queries.map((q) => q.id)).size !== queries.length)
    problems.push('duplicate query ids');
  for (const q of queries) {
    for (const id of [...q.relevant, ...q.hard_negatives]) {
      if (!byId.has(id)) problems.push(`${q.id} names unknown ticket ${id}`);
    }
    for (const id of q.relevant) {
      if (byId.get(id)?.uninformative) problems.push(`${q.id}: ${id} is uninformative`);
    }
  }
  if (problems.length > 0) throw new Error(`Dataset is invalid: ${problems.join('; ')}`);
  return { history, queries };
}
