/** The evaluation's floors, recorded in docs/retrieval-quality.md itself. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Figures } from './evaluate';

export const DOC_PATH = join(__dirname, '..', '..', 'docs', 'retrieval-quality.md');

export interface Floors {
  recall5: number;
  mrr10: number;
  ndcg5: number;
}

/** The floors live in the doc itself, in a comment the report keeps. */
export function readFloors(doc = readFileSync(DOC_PATH, 'utf8')): Floors {
  const match = /<!-- floors: (\{.*?\}) -->/.exec(doc);
  if (!match) throw new Error(`${DOC_PATH} records no floors`);
  return JSON.parse(match[1]) as Floors;
}

export function belowFloors(figures: Figures, floors: Floors): string[] {
  return (Object.keys(floors) as (keyof Floors)[])
    .filter((k) => figures[k] < floors[k])
    .map((k) => `${k} ${figures[k].toFixed(3)} < floor ${floors[k]}`);
}
