import {
  envelopeStatus,
  noteListEnvelope,
  oauthTokenReply,
  requestEnvelope,
  solutionListEnvelope,
} from './schemas';

describe('request schema', () => {
  it('normalises an SDP request to the client shape', () => {
    const parsed = requestEnvelope.parse({
      request: {
        id: 42,
        display_id: 'TKT-12345',
        subject: 'Database connection timeout error',
        description: '<div>Timeout</div>',
        status: { id: '2', name: 'Open' },
        priority: null,
        category: 'Database',
        requester: { id: '9', name: 'User', email_id: 'user@acmecorp.com' },
        technician: null,
        created_time: { value: '1762165800000', display_value: 'Nov 3, 2025 10:30 AM' },
        resolved_time: { value: '-1', display_value: '' },
        resolution: { content: '' },
        has_notes: 'true',
        udf_fields: { udf_sline_1: 'ignored' },
      },
    });

    expect(parsed.request).toMatchObject({
      id: '42',
      displayId: 'TKT-12345',
      subject: 'Database connection timeout error',
      descriptionHtml: '<div>Timeout</div>',
      status: { id: '2', name: 'Open' },
      priority: null,
      category: { id: null, name: 'Database' },
      requester: { id: '9', name: 'User', email: 'user@acmecorp.com' },
      technician: null,
      createdTime: '2025-11-03T10:30:00.000Z',
      resolvedTime: null,
      resolutionHtml: null,
      hasNotes: true,
      isOverdue: false,
    });
  });

  it('uses the id as display id when SDP sends none (on-premises)', () => {
    expect(requestEnvelope.parse({ request: { id: '7' } }).request.displayId).toBe('7');
  });

  it('rejects a time that is not epoch milliseconds', () => {
    const result = requestEnvelope.safeParse({
      request: { id: '1', created_time: { value: 'soon' } },
    });
    expect(result.success).toBe(false);
  });
});

describe('note and solution schemas', () => {
  it('reads on-premises added_time/added_by and Cloud created_time/created_by alike', () => {
    const { notes } = noteListEnvelope.parse({
      notes: [
        { id: '1', description: 'a', added_time: { value: '1000' }, added_by: { name: 'On-prem' } },
        {
          id: '2',
          description: 'b',
          created_time: { value: '2000' },
          created_by: { name: 'Cloud' },
        },
      ],
    });

    expect(notes.map((n) => [n.id, n.createdTime, n.createdBy?.name])).toEqual([
      ['1', '1970-01-01T00:00:01.000Z', 'On-prem'],
      ['2', '1970-01-01T00:00:02.000Z', 'Cloud'],
    ]);
  });

  it('splits comma-separated solution keywords and reads the approval status', () => {
    const { solutions } = solutionListEnvelope.parse({
      solutions: [
        {
          id: '5',
          title: 'Pool exhaustion',
          keywords: 'postgresql, pool ,,timeout',
          approval_status: { name: 'Approved' },
          no_of_hits: '12',
        },
      ],
    });

    expect(solutions[0]).toMatchObject({
      keywords: ['postgresql', 'pool', 'timeout'],
      approvalStatus: 'Approved',
      hits: 12,
    });
  });
});

describe('envelope status', () => {
  it('normalises object, array and missing response_status to a list', () => {
    const entry = { status_code: 2000, status: 'success' };
    expect(envelopeStatus.parse({ response_status: entry }).response_status).toEqual([entry]);
    expect(envelopeStatus.parse({ response_status: [entry] }).response_status).toEqual([entry]);
    expect(envelopeStatus.parse({}).response_status).toEqual([]);
  });
});

describe('OAuth token reply', () => {
  it('reads expires_in in seconds, and the legacy milliseconds form', () => {
    expect(oauthTokenReply.parse({ access_token: 't', expires_in: 3600 })).toEqual({
      access_token: 't',
      expiresInSeconds: 3600,
    });
    expect(
      oauthTokenReply.parse({ access_token: 't', expires_in: 3_600_000, expires_in_sec: 3600 }),
    ).toEqual({ access_token: 't', expiresInSeconds: 3600 });
    expect(oauthTokenReply.parse({ error: 'invalid_code' })).toEqual({ error: 'invalid_code' });
  });
});
