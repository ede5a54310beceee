import { z } from 'zod';
import { SdpFailure, sdpErrors } from './sdp-errors';
import { isRecord } from './store';

/** SDP's `list_info`: paging, sorting and `search_criteria` on dotted fields. */
export const MAX_ROW_COUNT = 100;
const DEFAULT_ROW_COUNT = 10;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export interface Criterion {
  field?: string;
  condition?: string;
  value?: string | number | boolean;
  values?: Array<string | number | boolean>;
  logical_operator?: string;
  children?: Criterion[];
}

const criterion: z.ZodType<Criterion> = z.lazy(() =>
  z.object({
    field: z.string().optional(),
    condition: z.string().optional(),
    value: scalar.optional(),
    values: z.array(scalar).optional(),
    logical_operator: z.string().optional(),
    children: z.array(criterion).optional(),
  }),
);

const intLike = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

const listInfoSchema = z
  .object({
    row_count: intLike.optional(),
    start_index: intLike.optional(),
    sort_field: z.string().min(1).optional(),
    sort_order: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['asc', 'desc']))
      .optional(),
    get_total_count: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
    search_criteria: z.union([criterion, z.array(criterion)]).optional(),
    filter_by: z.object({ name: z.string().optional(), id: scalar.optional() }).optional(),
  })
  .loose();

export interface ListQuery {
  rowCount: number;
  startIndex: number;
  sortField: string;
  sortOrder: 'asc' | 'desc';
  getTotalCount: boolean;
  criteria: Criterion[];
  filterBy?: string;
}

export function parseListInfo(
  inputData: unknown,
  defaults: { sortField: string; sortOrder: 'asc' | 'desc' },
): ListQuery {
  if (inputData !== undefined && !isRecord(inputData)) {
    throw sdpErrors.invalidInput('input_data must be a JSON object');
  }
  const parsed = listInfoSchema.safeParse(inputData?.['list_info'] ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw sdpErrors.typeMismatch(['list_info', ...(issue?.path ?? [])].join('.'));
  }
  const info = parsed.data;
  const startIndex = info.start_index ?? 1;
  if (startIndex < 1) throw sdpErrors.doesNotExist('list_info.start_index', String(startIndex));
  const rowCount = info.row_count ?? DEFAULT_ROW_COUNT;
  if (rowCount < 1) throw sdpErrors.doesNotExist('list_info.row_count', String(rowCount));
  const criteria =
    info.search_criteria === undefined
      ? []
      : Array.isArray(info.search_criteria)
        ? info.search_criteria
        : [info.search_criteria];
  criteria.forEach(checkCriterion);
  return {
    // SDP serves at most 100 rows a page; larger requests are capped, not refused.
    rowCount: Math.min(rowCount, MAX_ROW_COUNT),
    startIndex,
    sortField: info.sort_field ?? defaults.sortField,
    sortOrder: info.sort_order ?? defaults.sortOrder,
    getTotalCount: info.get_total_count === true || info.get_total_count === 'true',
    criteria,
    filterBy: info.filter_by?.name,
  };
}

const CONDITIONS = new Set([
  'is',
  'is not',
  'contains',
  'not contains',
  'starts with',
  'ends with',
  'greater than',
  'lesser than',
  'greater or equal',
  'lesser or equal',
  'between',
  'not between',
]);

function checkCriterion(c: Criterion): void {
  if (c.field !== undefined || c.condition !== undefined) {
    if (!c.field) throw sdpErrors.mandatoryMissing('search_criteria.field');
    const condition = c.condition?.toLowerCase();
    if (!condition || !CONDITIONS.has(condition)) {
      throw sdpErrors.doesNotExist('search_criteria.condition', c.condition ?? '');
    }
    if (c.value === undefined && !c.values?.length) {
      throw sdpErrors.mandatoryMissing('search_criteria.value');
    }
    if (condition.includes('between') && operands(c).length !== 2) {
      throw new SdpFailure(400, [
        { status_code: 4001, message: 'between takes two values', field: 'search_criteria' },
      ]);
    }
  } else if (!c.children?.length) {
    throw sdpErrors.mandatoryMissing('search_criteria.field');
  }
  const op = c.logical_operator?.toUpperCase();
  if (op !== undefined && op !== 'AND' && op !== 'OR') {
    throw sdpErrors.doesNotExist('search_criteria.logical_operator', c.logical_operator ?? '');
  }
  c.children?.forEach(checkCriterion);
}

/** Criteria join left to right, each with its own logical_operator (AND by default). */
export function matchesAll(
  entity: Record<string, unknown>,
  criteria: readonly Criterion[],
): boolean {
  let result: boolean | undefined;
  for (const c of criteria) {
    const own = matches(entity, c);
    result =
      result === undefined
        ? own
        : c.logical_operator?.toUpperCase() === 'OR'
          ? result || own
          : result && own;
  }
  return result ?? true;
}

/** A criterion with children is `(criterion <op> child1 <op> child2 ...)`. */
function matches(entity: Record<string, unknown>, c: Criterion): boolean {
  const self = c.field ? test(valueAt(entity, c.field), c) : undefined;
  if (!c.children?.length) return self ?? true;
  if (self === undefined) return matchesAll(entity, c.children);
  let result = self;
  for (const child of c.children) {
    const own = matches(entity, child);
    result = child.logical_operator?.toUpperCase() === 'OR' ? result || own : result && own;
  }
  return result;
}

/** Dotted path; a time object compares by its `value`, a lookup or user by `name`. */
export function valueAt(entity: Record<string, unknown>, path: string): string | undefined {
  let current: unknown = entity;
  for (const part of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[part];
  }
  if (isRecord(current)) current = current['value'] ?? current['name'];
  if (typeof current === 'string') return current;
  if (typeof current === 'number' || typeof current === 'boolean') return String(current);
  return undefined;
}

function operands(c: Criterion): string[] {
  return (c.values ?? (c.value === undefined ? [] : [c.value])).map(String);
}

function test(actual: string | undefined, c: Criterion): boolean {
  const condition = (c.condition ?? '').toLowerCase();
  const wanted = operands(c);
  const negated = condition === 'is not' || condition.startsWith('not ');
  if (actual === undefined) return negated;
  const a = actual.toLowerCase();
  const lower = wanted.map((w) => w.toLowerCase());
  switch (condition) {
    case 'is':
      return lower.includes(a);
    case 'is not':
      return !lower.includes(a);
    case 'contains':
      return lower.some((w) => a.includes(w));
    case 'not contains':
      return !lower.some((w) => a.includes(w));
    case 'starts with':
      return lower.some((w) => a.startsWith(w));
    case 'ends with':
      return lower.some((w) => a.endsWith(w));
    case 'greater than':
      return compare(actual, wanted[0] ?? '') > 0;
    case 'lesser than':
      return compare(actual, wanted[0] ?? '') < 0;
    case 'greater or equal':
      return compare(actual, wanted[0] ?? '') >= 0;
    case 'lesser or equal':
      return compare(actual, wanted[0] ?? '') <= 0;
    case 'between':
    case 'not between': {
      const inside = compare(actual, wanted[0] ?? '') >= 0 && compare(actual, wanted[1] ?? '') <= 0;
      return condition === 'between' ? inside : !inside;
    }
    default:
      return false;
  }
}

/** Numbers (ids, epoch ms) compare numerically, anything else case-insensitively. */
export function compare(a: string, b: string): number {
  // BigInt keeps 18-digit Cloud ids exact.
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) {
    const diff = BigInt(a) - BigInt(b);
    return diff === 0n ? 0 : diff > 0n ? 1 : -1;
  }
  if (/^-?\d+(\.\d+)?$/.test(a) && /^-?\d+(\.\d+)?$/.test(b)) return Number(a) - Number(b);
  return a.localeCompare(b, 'en', { sensitivity: 'base' });
}

export interface ListPage<T> {
  rows: T[];
  list_info: {
    has_more_rows: boolean;
    start_index: number;
    row_count: number;
    sort_field: string;
    sort_order: 'asc' | 'desc';
    total_count?: number;
  };
}

/** Filters, sorts (stable, missing values last) and pages rendered entities. */
export function runListQuery<T extends Record<string, unknown>>(
  entities: readonly T[],
  query: ListQuery,
): ListPage<T> {
  const matching = entities.filter((e) => matchesAll(e, query.criteria));
  const direction = query.sortOrder === 'desc' ? -1 : 1;
  const sorted = matching
    .map((entity, index) => ({ entity, index, key: valueAt(entity, query.sortField) }))
    .sort((x, y) => {
      if (x.key === undefined || y.key === undefined) {
        return x.key === y.key ? x.index - y.index : x.key === undefined ? 1 : -1;
      }
      return direction * compare(x.key, y.key) || x.index - y.index;
    })
    .map((s) => s.entity);
  const from = query.startIndex - 1;
  const rows = sorted.slice(from, from + query.rowCount);
  return {
    rows,
    list_info: {
      has_more_rows: from + rows.length < sorted.length,
      start_index: query.startIndex,
      row_count: rows.length,
      sort_field: query.sortField,
      sort_order: query.sortOrder,
      ...(query.getTotalCount ? { total_count: sorted.length } : {}),
    },
  };
}
