/**
 * Confidence calibration on the labelled dataset: for every query, the note
 * the offline synthesizer writes from the context the gatherer would hand
 * it; whether the ticket its likely cause names is one of the query's
 * relevant tickets ("grounded"); how well the note's confidence predicts
 * that (bands, ECE, Brier score). The offline confidence is tuned here: the
 * constants that minimise the Brier score, monotone in the best score.
 */
import { CONFIDENT_RELEVANCE, findSimilarTickets, searchInputOf } from '@tep/context-retrieval';
import {
  EnhancementPreferencesSchema,
  TicketContextSchema,
  noteLanguageOf,
  type TicketContext,
} from '@tep/contracts';
import type { TenantDatabase } from '@tep/data';
import { OfflineSynthesizer } from '@tep/enhancement-synthesis';
import type { Dataset } from './dataset';
import { toTicket } from './evaluate';
import { mean } from './metrics';

type SimilarTicket = TicketContext['similar_tickets'][number];

export interface Note {
  queryId: string;
  /** The offline synthesizer's confidence (production). */
  confidence: number;
  /** The ticket the likely cause names; null when the note abstains ("nothing clearly similar"). */
  cited: string | null;
  /** The cited ticket is one of the query's relevant tickets. */
  grounded: boolean;
  /** The best-scored similar ticket is relevant (citing it would have been grounded). */
  bestRelevant: boolean;
  /** A relevant ticket is among the similar tickets the note lists (the context's five). */
  relevantListed: boolean;
  /** What the confidence is computed from: the context has similar tickets only. */
  topScore: number;
  resolved: number;
}

const displayId = (t: SimilarTicket) => t.display_id ?? t.ticket_id;
const isResolved = (t: SimilarTicket) => Boolean(t.resolution?.trim());
const clamp01 = (n: number) => (Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0);

/**
 * The ticket the note's likely cause is grounded on, by the synthesizer's
 * rule (the best-scored resolved ticket at or above the confident
 * threshold), checked against the note itself — by the ticket's id and
 * resolution, which no translation changes — so that a change of the rule
 * fails the eval instead of skewing it.
 */
function citedTicket(resolved: SimilarTicket[], likelyCause: string): SimilarTicket | null {
  const cited = resolved.find((t) => t.confident) ?? null;
  const quotes = (t: SimilarTicket) =>
    likelyCause.includes((t.resolution ?? '').trim().slice(0, 40));
  const consistent = cited
    ? likelyCause.includes(displayId(cited)) && quotes(cited)
    : !resolved.some(quotes);
  if (!consistent) {
    throw new Error(
      `The offline note's likely cause no longer cites ${cited ? `ticket ${displayId(cited)}` : 'nothing'}` +
        ` as tools/eval/calibration.ts expects: "${likelyCause.slice(0, 200)}"`,
    );
  }
  return cited;
}

/** Each query's note, from the context the gatherer builds (this dataset has no KB or monitoring). */
export async function collectNotes(
  database: TenantDatabase,
  tenantId: string,
  dataset: Dataset,
): Promise<Note[]> {
  const synthesizer = new OfflineSynthesizer();
  const preferences = EnhancementPreferencesSchema.parse({ include_confidence_score: true });
  const notes: Note[] = [];
  for (const q of dataset.queries) {
    const ticket = toTicket(q);
    // As the gatherer calls it, with its default limit (5).
    const search = searchInputOf(ticket);
    const similar = await database.withTenant(tenantId, (tx) =>
      findSimilarTickets(tx, ticket, { search }),
    );
    const context = TicketContextSchema.parse({
      similar_tickets: similar,
      kb_articles: [],
      systems: [],
      degraded: [],
      language: search.language,
      possible_outage: null,
    });
    const note = await synthesizer.synthesize({
      ticket,
      context,
      preferences,
      language: noteLanguageOf(preferences, context),
    });
    if (note.confidence === null) throw new Error(`${q.id}: the note carries no confidence`);
    const resolved = similar.filter(isResolved).sort((a, b) => b.score - a.score);
    const cited = citedTicket(resolved, note.likely_cause);
    const relevant = new Set(q.relevant);
    notes.push({
      queryId: q.id,
      confidence: note.confidence,
      cited: cited?.ticket_id ?? null,
      grounded: cited !== null && relevant.has(cited.ticket_id),
      bestRelevant: resolved.length > 0 && relevant.has(resolved[0].ticket_id),
      relevantListed: similar.some((t) => relevant.has(t.ticket_id)),
      topScore: Math.max(0, ...resolved.map((t) => clamp01(t.score))),
      resolved: resolved.length,
    });
  }
  return notes;
}

// ---------------------------------------------------------------------------
// Calibration

export const BAND_EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1];

export interface Band {
  from: number;
  to: number;
  notes: number;
  meanConfidence: number;
  grounded: number;
  abstained: number;
}

export interface Calibration {
  notes: number;
  bands: Band[];
  meanConfidence: number;
  /** Expected calibration error: Σ (notes in band / notes) × |grounded share − mean confidence|. */
  ece: number;
  /** Mean of (confidence − grounded)², grounded being 1 or 0. */
  brier: number;
  grounded: number;
  abstained: number;
  abstainedMeanConfidence: number;
  citedMeanConfidence: number;
}

const bandOf = (confidence: number) =>
  Math.min(
    BAND_EDGES.length - 2,
    BAND_EDGES.findLastIndex((edge) => confidence >= edge),
  );

const brierOf = (notes: Note[], confidences: number[]) =>
  mean(notes.map((n, i) => (confidences[i] - (n.grounded ? 1 : 0)) ** 2));

/** `confidences[i]` is note i's confidence; the production ones by default. */
export function calibrate(
  notes: Note[],
  confidences = notes.map((n) => n.confidence),
): Calibration {
  const bands: Band[] = BAND_EDGES.slice(0, -1).map((from, i) => ({
    from,
    to: BAND_EDGES[i + 1],
    notes: 0,
    meanConfidence: 0,
    grounded: 0,
    abstained: 0,
  }));
  notes.forEach((n, i) => {
    const band = bands[bandOf(confidences[i])];
    band.notes += 1;
    band.meanConfidence += confidences[i];
    if (n.grounded) band.grounded += 1;
    if (n.cited === null) band.abstained += 1;
  });
  for (const b of bands) b.meanConfidence = b.notes ? b.meanConfidence / b.notes : 0;
  const of = (pred: (n: Note) => boolean) => confidences.filter((_, i) => pred(notes[i]));
  return {
    notes: notes.length,
    bands,
    meanConfidence: mean(confidences),
    ece: bands.reduce(
      (sum, b) =>
        sum +
        (b.notes / Math.max(1, notes.length)) *
          Math.abs(b.grounded / Math.max(1, b.notes) - b.meanConfidence),
      0,
    ),
    brier: brierOf(notes, confidences),
    grounded: notes.filter((n) => n.grounded).length,
    abstained: notes.filter((n) => n.cited === null).length,
    abstainedMeanConfidence: mean(of((n) => n.cited === null)),
    citedMeanConfidence: mean(of((n) => n.cited !== null)),
  };
}

// ---------------------------------------------------------------------------
// The offline confidence, reimplemented for contexts of similar tickets only

/**
 * `CONFIDENCE` of libs/enhancement-synthesis/src/offline-synthesizer.ts
 * (the part ticket history exercises), with the two proposed additions.
 */
export interface ConfidenceModel {
  base: number;
  perTopScore: number;
  perAgreeingSource: number;
  maxAgreeingSources: number;
  max: number;
  nothingFound: number;
  /** Proposed: the evidence of a note whose cause is a confident similar ticket (null: none). */
  citedBase: number | null;
  perCitedScore: number | null;
  /** Proposed: the most a note that names no cause may claim (null: no cap). */
  noCause: number | null;
}

/** `CONFIDENCE` as it was before it was tuned here (issue 11). */
export const CONFIDENCE_BEFORE_TUNING: ConfidenceModel = {
  base: 0.1,
  perTopScore: 0.65,
  perAgreeingSource: 0.05,
  maxAgreeingSources: 3,
  max: 0.9,
  nothingFound: 0.05,
  citedBase: null,
  perCitedScore: null,
  noCause: null,
};

type ModelInput = Pick<Note, 'cited' | 'topScore' | 'resolved'>;

/** `offlineConfidence` for a context with similar tickets only (no KB, systems or degraded source). */
export function modelConfidence(model: ConfidenceModel, note: ModelInput): number {
  if (note.resolved === 0) return model.nothingFound;
  const agreeing = Math.min(model.maxAgreeingSources, note.resolved - 1);
  let evidence = model.base + model.perTopScore * note.topScore;
  if (note.cited !== null && model.citedBase !== null && model.perCitedScore !== null) {
    evidence = Math.max(evidence, model.citedBase + model.perCitedScore * note.topScore);
  }
  let confidence = Math.min(model.max, evidence + model.perAgreeingSource * agreeing);
  if (note.cited === null && model.noCause !== null) {
    confidence = Math.min(confidence, model.noCause);
  }
  return Math.round(confidence * 100) / 100;
}

/** Non-decreasing in the best score, the note citing it from the confident threshold on. */
export function isMonotone(model: ConfidenceModel, resolved = 5): boolean {
  const scores = Array.from({ length: 1001 }, (_, i) => i / 1000);
  const confidences = scores.map((topScore) =>
    modelConfidence(model, {
      topScore,
      resolved,
      cited: topScore >= CONFIDENT_RELEVANCE ? 'best' : null,
    }),
  );
  return confidences.every((c, i) => i === 0 || c >= confidences[i - 1]);
}

const grid = (from: number, to: number, step: number) =>
  Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) =>
    Number((from + i * step).toFixed(4)),
  );

export type Fit = 'constants' | 'proposed';

/**
 * The constants that minimise the Brier score on `notes`, on a grid.
 * `constants`: `base` and `perTopScore` of the formula as it is (≥ 0, so
 * monotone). `proposed`: the evidence of a note that cites a confident
 * ticket (`citedBase + perCitedScore × best score`, never below the general
 * formula) and the cap of a note that names no cause, from the nothing-found
 * floor up; `base` and `perTopScore` stay, as they still weigh KB articles,
 * which this dataset cannot calibrate. The agreeing-source bonus, the
 * ceiling and the floor stay: every query here finds five tickets.
 */
export function fitConfidence(notes: Note[], fit: Fit): ConfidenceModel {
  const start = CONFIDENCE_BEFORE_TUNING;
  const lines = grid(0, 0.6, 0.01).flatMap((a) => grid(0, 3, 0.05).map((b) => [a, b]));
  if (fit === 'constants') {
    return bestOf(
      lines.map(([base, perTopScore]) => ({ ...start, base, perTopScore })),
      notes,
    );
  }
  // A note that cites a ticket depends on the cited line only, one that abstains on the cap only.
  const line = bestOf(
    lines.map(([citedBase, perCitedScore]) => ({ ...start, citedBase, perCitedScore })),
    notes.filter((n) => n.cited !== null),
  );
  return bestOf(
    grid(start.nothingFound, 0.5, 0.05).map((noCause) => ({ ...line, noCause })),
    notes.filter((n) => n.cited === null),
  );
}

/** The monotone candidate with the least squared error on `notes`; the first of equals wins. */
function bestOf(candidates: ConfidenceModel[], notes: Note[]): ConfidenceModel {
  let best = CONFIDENCE_BEFORE_TUNING;
  let bestSquares = Infinity;
  for (const model of candidates) {
    let squares = 0;
    for (const n of notes) squares += (modelConfidence(model, n) - (n.grounded ? 1 : 0)) ** 2;
    if (squares < bestSquares - 1e-12 && isMonotone(model)) {
      best = model;
      bestSquares = squares;
    }
  }
  return best;
}

const folds = (notes: Note[]) => [0, 1].map((r) => notes.filter((_, i) => i % 2 === r));

/** Two-fold cross-validation (odd and even queries): each half scored by what the other fitted. */
function heldOutBrier(notes: Note[], fitOn: (train: Note[]) => (n: Note) => number): number {
  const [even, odd] = folds(notes);
  return mean(
    [
      [even, odd],
      [odd, even],
    ].map(([train, test]) => {
      const confidence = fitOn(train);
      return brierOf(test, test.map(confidence));
    }),
  );
}

// ---------------------------------------------------------------------------
// Report

export interface Scored {
  name: string;
  calibration: Calibration;
  /** Brier score under two-fold cross-validation. */
  heldOut: number;
}

export interface CalibrationReport {
  notes: Note[];
  production: Scored;
  before: Scored;
  constants: Scored & { model: ConfidenceModel };
  proposed: Scored & { model: ConfidenceModel };
  /** Notes on which the offline synthesizer's confidence is the model's. */
  productionMatches: { before: number; proposed: number };
}

export function calibrationReport(notes: Note[]): CalibrationReport {
  const scoredModel = (name: string, model: ConfidenceModel, heldOut: number) => ({
    name,
    model,
    calibration: calibrate(
      notes,
      notes.map((n) => modelConfidence(model, n)),
    ),
    heldOut,
  });
  const fitted = (fit: Fit) => {
    const model = fitConfidence(notes, fit);
    return scoredModel(
      `fit, ${fit === 'constants' ? 'constants only' : 'proposed'}: ${describeModel(model)}`,
      model,
      heldOutBrier(notes, (train) => {
        const half = fitConfidence(train, fit);
        return (n) => modelConfidence(half, n);
      }),
    );
  };
  const proposed = fitted('proposed');
  const matches = (model: ConfidenceModel) =>
    notes.filter((n) => Math.abs(modelConfidence(model, n) - n.confidence) < 1e-9).length;
  return {
    notes,
    production: {
      name: 'production',
      calibration: calibrate(notes),
      heldOut: heldOutBrier(notes, () => (n) => n.confidence),
    },
    before: scoredModel(
      'before tuning (reproduced by the eval)',
      CONFIDENCE_BEFORE_TUNING,
      heldOutBrier(notes, () => (n) => modelConfidence(CONFIDENCE_BEFORE_TUNING, n)),
    ),
    constants: fitted('constants'),
    proposed,
    productionMatches: {
      before: matches(CONFIDENCE_BEFORE_TUNING),
      proposed: matches(proposed.model),
    },
  };
}

/** The constants a fit chose (the proposed ones when it has them, else base and perTopScore). */
export function describeModel(m: ConfidenceModel): string {
  const parts =
    m.citedBase === null
      ? [`base ${m.base}`, `perTopScore ${m.perTopScore}`]
      : [`citedBase ${m.citedBase}`, `perCitedScore ${m.perCitedScore}`];
  if (m.noCause !== null) parts.push(`noCause ${m.noCause}`);
  return parts.join(', ');
}

const f = (n: number) => n.toFixed(3);
const pct = (part: number, whole: number) =>
  whole ? `${((100 * part) / whole).toFixed(0)} %` : '–';

export function printCalibration(r: CalibrationReport): void {
  const p = r.production.calibration;
  const missed = r.notes.filter((n) => n.cited === null && n.relevantListed).length;
  console.log(
    `[eval] notes: ${p.notes}; naming a cause ${p.notes - p.abstained}, grounded ${p.grounded}; ` +
      `abstained ${p.abstained}, ${missed} of them listing a relevant ticket`,
  );
  for (const s of [r.production, r.constants, r.proposed]) {
    const c = s.calibration;
    const bands = c.bands.map((b) => `${b.notes}:${pct(b.grounded, b.notes).replace(' ', '')}`);
    console.log(
      `[eval] confidence ${s.name}: ECE=${f(c.ece)} Brier=${f(c.brier)} (held out ${f(s.heldOut)}) ` +
        `notes:grounded by band ${bands.join(' ')}`,
    );
  }
  console.log(
    `[eval] production confidence is the proposed fit's on ${r.productionMatches.proposed}/${p.notes} notes`,
  );
}

function bandTable(c: Calibration): string[] {
  return [
    '| confidence | notes | mean confidence | grounded | abstained |',
    '| --- | --- | --- | --- | --- |',
    ...c.bands.map(
      (b) =>
        `| ${b.from.toFixed(1)}–${b.to.toFixed(1)} | ${b.notes} | ${b.notes ? f(b.meanConfidence) : '–'} | ${b.notes ? `${b.grounded} (${pct(b.grounded, b.notes)})` : '–'} | ${b.abstained} |`,
    ),
    `| all | ${c.notes} | ${f(c.meanConfidence)} | ${c.grounded} (${pct(c.grounded, c.notes)}) | ${c.abstained} |`,
  ];
}

export function renderCalibration(r: CalibrationReport): string[] {
  const p = r.production.calibration;
  const n = p.notes;
  const abstained = r.notes.filter((x) => x.cited === null);
  const tuned = r.productionMatches.proposed === n;
  const untouched = r.productionMatches.before === n;
  const row = (s: Scored) =>
    `| ${s.name} | ${f(s.calibration.ece)} | ${f(s.calibration.brier)} | ${f(s.heldOut)} | ${f(s.calibration.citedMeanConfidence)} | ${f(s.calibration.abstainedMeanConfidence)} |`;
  const m = r.proposed.model;
  return [
    '## Confidence calibration',
    '',
    'For every query, the note the offline synthesizer writes from the context the gatherer would',
    "hand it: `findSimilarTickets` with the gatherer's limit (5), no KB articles and no systems —",
    'the dataset has ticket history only, so the KB weight and the systems-only and',
    'degraded-source factors of the confidence are not exercised here. A note **names a cause**',
    'when a similar ticket reaches the confident threshold: its likely cause is the best-scored',
    'such ticket ("Likely the same issue as ticket …"), and the note is **grounded** when that',
    'ticket is one of the query’s relevant tickets. Otherwise it **abstains** ("Nothing clearly',
    'similar was found …", the closest tickets offered as possibly related) and is not grounded:',
    'the confidence is read as the chance that the note points at the right fix, which is also',
    'what the `min_confidence` preference gates on.',
    '',
    `- Notes: ${n}; naming a cause: ${n - p.abstained}, of which grounded: ${p.grounded} (${pct(p.grounded, n - p.abstained)})`,
    `- Abstained: ${p.abstained}. Missed opportunities: ${abstained.filter((x) => x.relevantListed).length} of them list a relevant ticket among the five they offer as possibly related, ${abstained.filter((x) => x.bestRelevant).length} as their best match — below the confident threshold, so not cited: a question for that threshold, not for the confidence`,
    '',
    `Production — the offline synthesizer's own confidence${untouched ? ' (the constants as they were before tuning)' : tuned ? ' (tuned as below)' : ''}:`,
    '',
    ...bandTable(p),
    '',
    'ECE is Σ (notes in band / notes) × |grounded share − mean confidence| over these bands; the',
    'Brier score is the mean of (confidence − grounded)², grounded being 1 or 0; lower is better',
    'for both. "Held out" is the Brier score under two-fold cross-validation (odd and even',
    'queries), each half scored by the constants fitted on the other half.',
    '',
    '| Confidence | ECE | Brier | Brier, held out | mean when naming a cause | mean when abstaining |',
    '| --- | --- | --- | --- | --- | --- |',
    row(r.production),
    ...(untouched ? [] : [row(r.before)]),
    row(r.constants),
    row(r.proposed),
    '',
    '### Tuning',
    '',
    '`tools/eval/calibration.ts` reimplements `offlineConfidence` for contexts of similar tickets',
    ...(untouched
      ? [
          `(with the constants as they were before tuning it gives production's confidence on ${r.productionMatches.before}/${n} notes)`,
        ]
      : []),
    'and searches, on a grid, the constants that minimise the Brier score with',
    'the confidence non-decreasing in the best similar score. **Constants only** (`base`,',
    '`perTopScore` of the formula as it is) cannot separate the notes that name a cause from',
    'those that abstain: abstaining notes are never grounded, yet their best score is only a',
    'little lower. The **proposed** change (`citedBase`, `perCitedScore`, `noCause`) gives a note',
    'that cites a confident ticket its own line, `citedBase + perCitedScore × best score` (never',
    'below the general formula), and caps a note that names no cause — no confident ticket, no KB',
    'article, no system reporting a problem — at `noCause`, searched from the nothing-found floor',
    'up. A note that cites a ticket never scores below one that cannot, so the confidence stays',
    'monotone in the best score. `base` and `perTopScore` stay as they are: they still weigh KB',
    'articles, which this dataset cannot calibrate; so do the agreeing-source bonus (every query',
    'finds five tickets, so it is a constant here), the 0.9 ceiling and the nothing-found floor.',
    '',
    tuned
      ? `Production uses the proposed constants (${describeModel(m)}): its confidence is the fit's on every note.`
      : `Production is the proposed fit's on ${r.productionMatches.proposed}/${n} notes. With the proposed constants (${describeModel(m)}):`,
    '',
    ...(tuned ? [] : [...bandTable(r.proposed.calibration), '']),
  ];
}
