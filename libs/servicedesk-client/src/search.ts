/** Conditions SDP v3 documents for `search_criteria`. */
export type SearchCondition =
  | 'is'
  | 'is not'
  | 'contains'
  | 'not contains'
  | 'starts with'
  | 'ends with'
  | 'greater than'
  | 'lesser than'
  | 'greater or equal'
  | 'lesser or equal'
  | 'between'
  | 'not between';

export type SearchValue = string | number | boolean;

export interface SearchCriterion {
  /** Dotted field path, e.g. `status.name` or `created_time`. */
  field: string;
  condition: SearchCondition;
  value?: SearchValue;
  values?: readonly SearchValue[];
  /** How this criterion joins the ones before it; SDP's default is AND. */
  logicalOperator?: 'AND' | 'OR';
  children?: readonly SearchCriterion[];
}

export interface ListRequestsParams {
  /** 1–100; SDP caps pages at 100 rows. */
  rowCount?: number;
  /** 1-based. */
  startIndex?: number;
  searchCriteria?: readonly SearchCriterion[];
  sortField?: string;
  sortOrder?: 'asc' | 'desc';
  /** A saved filter (list view) name, e.g. `Open_System`. */
  filterBy?: string;
  getTotalCount?: boolean;
}

export interface ListSolutionsParams {
  rowCount?: number;
  startIndex?: number;
  searchCriteria?: readonly SearchCriterion[];
  /** Only solutions that passed review (`filter_by: ApprovedSolutions`). */
  approvedOnly?: boolean;
  getTotalCount?: boolean;
}

export interface BackfillQueryOptions {
  /** Inclusive bounds on created_time, epoch milliseconds. */
  createdBetween?: { fromMs: number; toMs: number };
  rowCount?: number;
}

/**
 * The back-fill search from the API doc: resolved or closed requests, oldest
 * first, optionally limited to a created_time window. Feed it to
 * `iterateRequests` to walk every page.
 */
export function backfillResolvedRequestsQuery(
  options: BackfillQueryOptions = {},
): ListRequestsParams {
  const criteria: SearchCriterion[] = [
    { field: 'status.name', condition: 'is', values: ['Resolved', 'Closed'] },
  ];
  if (options.createdBetween) {
    const { fromMs, toMs } = options.createdBetween;
    if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs) || fromMs > toMs) {
      throw new RangeError('createdBetween must be integer epoch milliseconds with fromMs <= toMs');
    }
    criteria.push({
      field: 'created_time',
      condition: 'between',
      // SDP compares times as strings of epoch milliseconds.
      values: [String(fromMs), String(toMs)],
      logicalOperator: 'AND',
    });
  }
  return {
    searchCriteria: criteria,
    sortField: 'created_time',
    sortOrder: 'asc',
    rowCount: options.rowCount ?? 100,
    startIndex: 1,
  };
}

type WireCriterion = {
  field: string;
  condition: SearchCondition;
  value?: SearchValue;
  values?: SearchValue[];
  logical_operator?: 'AND' | 'OR';
  children?: WireCriterion[];
};

export function toWireCriteria(criteria: readonly SearchCriterion[]): WireCriterion[] {
  return criteria.map((c) => ({
    field: c.field,
    condition: c.condition,
    ...(c.value !== undefined ? { value: c.value } : {}),
    ...(c.values !== undefined ? { values: [...c.values] } : {}),
    ...(c.logicalOperator ? { logical_operator: c.logicalOperator } : {}),
    ...(c.children?.length ? { children: toWireCriteria(c.children) } : {}),
  }));
}

export const MAX_ROW_COUNT = 100;

export function checkPaging(rowCount: number | undefined, startIndex: number | undefined): void {
  if (
    rowCount !== undefined &&
    (!Number.isInteger(rowCount) || rowCount < 1 || rowCount > MAX_ROW_COUNT)
  ) {
    throw new RangeError(`rowCount must be an integer from 1 to ${MAX_ROW_COUNT}`);
  }
  if (startIndex !== undefined && (!Number.isInteger(startIndex) || startIndex < 1)) {
    throw new RangeError('startIndex must be an integer >= 1 (SDP paging is 1-based)');
  }
}
