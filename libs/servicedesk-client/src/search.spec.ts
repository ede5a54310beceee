import { backfillResolvedRequestsQuery, toWireCriteria } from './search';

describe('backfillResolvedRequestsQuery', () => {
  it('serialises to the search the API doc describes', () => {
    const query = backfillResolvedRequestsQuery({
      createdBetween: { fromMs: 1_700_000_000_000, toMs: 1_760_000_000_000 },
    });

    expect(query).toMatchObject({
      sortField: 'created_time',
      sortOrder: 'asc',
      rowCount: 100,
      startIndex: 1,
    });
    expect(toWireCriteria(query.searchCriteria ?? [])).toEqual([
      { field: 'status.name', values: ['Resolved', 'Closed'], condition: 'is' },
      {
        field: 'created_time',
        values: ['1700000000000', '1760000000000'],
        condition: 'between',
        logical_operator: 'AND',
      },
    ]);
  });

  it('refuses an inverted window', () => {
    expect(() => backfillResolvedRequestsQuery({ createdBetween: { fromMs: 2, toMs: 1 } })).toThrow(
      RangeError,
    );
  });
});
