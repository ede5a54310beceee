import { compare, matchesAll, parseListInfo, runListQuery, type Criterion } from './list-query';
import { SdpFailure } from './sdp-errors';

const rows = [
  { id: '3', subject: 'VPN down', status: { name: 'Open' }, created_time: { value: '3000' } },
  {
    id: '1',
    subject: 'Printer jam',
    status: { name: 'Resolved' },
    created_time: { value: '1000' },
  },
  { id: '2', subject: 'Disk full', status: { name: 'Closed' }, created_time: { value: '2000' } },
  { id: '4', subject: 'No status', status: null, created_time: { value: '4000' } },
];

const ids = (criteria: Criterion[]) => rows.filter((r) => matchesAll(r, criteria)).map((r) => r.id);

describe('search_criteria', () => {
  it.each<[string, Criterion[], string[]]>([
    [
      'is (case-insensitive, values)',
      [{ field: 'status.name', condition: 'is', values: ['resolved', 'CLOSED'] }],
      ['1', '2'],
    ],
    [
      'is not (missing values match)',
      [{ field: 'status.name', condition: 'is not', value: 'Open' }],
      ['1', '2', '4'],
    ],
    ['contains', [{ field: 'subject', condition: 'contains', value: 'jam' }], ['1']],
    [
      'greater than on times',
      [{ field: 'created_time', condition: 'greater than', value: '2000' }],
      ['3', '4'],
    ],
    [
      'lesser than on times',
      [{ field: 'created_time', condition: 'lesser than', value: '2000' }],
      ['1'],
    ],
    [
      'between (inclusive)',
      [{ field: 'created_time', condition: 'between', values: ['2000', '3000'] }],
      ['3', '2'],
    ],
    [
      'AND then OR, left to right',
      [
        { field: 'status.name', condition: 'is', value: 'Open' },
        { field: 'subject', condition: 'contains', value: 'vpn', logical_operator: 'AND' },
        { field: 'subject', condition: 'contains', value: 'disk', logical_operator: 'OR' },
      ],
      ['3', '2'],
    ],
    [
      'children group with their parent',
      [
        { field: 'created_time', condition: 'greater than', value: '1500' },
        {
          field: 'status.name',
          condition: 'is',
          value: 'Closed',
          logical_operator: 'AND',
          children: [
            { field: 'subject', condition: 'contains', value: 'vpn', logical_operator: 'OR' },
          ],
        },
      ],
      ['3', '2'],
    ],
  ])('%s', (_, criteria, expected) => {
    expect(ids(criteria)).toEqual(expected);
  });

  it('compares 18-digit ids exactly', () => {
    expect(compare('114000000000000002', '114000000000000001')).toBeGreaterThan(0);
    expect(compare('114000000000000001', '114000000000000001')).toBe(0);
    expect(compare('9', '10')).toBeLessThan(0);
  });
});

describe('parseListInfo and runListQuery', () => {
  const defaults = { sortField: 'created_time', sortOrder: 'desc' as const };

  it('defaults to 10 rows from index 1, sorting and paging stably', () => {
    const query = parseListInfo(undefined, defaults);
    expect(query).toMatchObject({
      rowCount: 10,
      startIndex: 1,
      sortField: 'created_time',
      sortOrder: 'desc',
    });

    const page = runListQuery(rows, { ...query, rowCount: 3, sortOrder: 'asc' });
    expect(page.rows.map((r) => r.id)).toEqual(['1', '2', '3']);
    expect(page.list_info).toMatchObject({ has_more_rows: true, row_count: 3, start_index: 1 });
  });

  it('accepts numbers given as strings and a single criterion object', () => {
    const query = parseListInfo(
      {
        list_info: {
          row_count: '2',
          start_index: '3',
          search_criteria: { field: 'subject', condition: 'contains', value: 'a' },
        },
      },
      defaults,
    );
    expect(query).toMatchObject({ rowCount: 2, startIndex: 3, criteria: [{ field: 'subject' }] });
  });

  it('rejects malformed list_info with an SDP error naming the field', () => {
    const attempt = () => parseListInfo({ list_info: { row_count: 'ten' } }, defaults);
    expect(attempt).toThrow(SdpFailure);
    try {
      attempt();
    } catch (error) {
      expect((error as SdpFailure).messages[0]).toMatchObject({
        status_code: 4021,
        field: 'list_info.row_count',
      });
    }
  });
});
