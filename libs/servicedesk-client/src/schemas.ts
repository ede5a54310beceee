import { z } from 'zod';

/*
 * Wire schemas for SDP v3 replies, tolerant of the variants real instances
 * send (numeric ids, string booleans, `response_status` as object or array,
 * null lookups), each transformed into the camelCase shape callers use.
 */

export const sdpId = z.union([
  z.string().trim().min(1),
  z
    .number()
    .int()
    .nonnegative()
    // Cloud ids have 18 digits: as a JSON number they were already rounded by
    // JSON.parse, and a rounded id would address a different ticket.
    .refine(Number.isSafeInteger, 'numeric id beyond 2^53 lost precision')
    .transform(String),
]);

const flexibleBoolean = z
  .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
  .nullish()
  .transform((v) => v ?? false);

const flexibleInt = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);

const text = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

const lookup = z
  .union([
    z
      .object({ id: sdpId.nullish(), name: z.string().nullish() })
      .transform((l) => ({ id: l.id ?? null, name: l.name ?? null })),
    z.string().transform((name) => ({ id: null, name })),
  ])
  .nullish()
  .transform((v) => v ?? null);

export type ServiceDeskLookup = NonNullable<z.output<typeof lookup>>;

const user = z
  .object({ id: sdpId.nullish(), name: z.string().nullish(), email_id: z.string().nullish() })
  .nullish()
  .transform((u) =>
    u ? { id: u.id ?? null, name: u.name ?? null, email: u.email_id ?? null } : null,
  );

export type ServiceDeskUser = NonNullable<z.output<typeof user>>;

/** SDP times are `{value: "<ms epoch>", display_value}`; some builds send the bare value. */
const sdpTime = z
  .union([z.object({ value: z.union([z.string(), z.number()]).nullish() }), z.string(), z.number()])
  .nullish()
  .transform((v, ctx) => {
    const raw = v !== null && typeof v === 'object' ? v.value : v;
    if (raw === null || raw === undefined || raw === '' || raw === -1 || raw === '-1') return null;
    const ms = typeof raw === 'number' || /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    const date = new Date(ms);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'not an epoch-milliseconds time' });
      return z.NEVER;
    }
    return date.toISOString();
  });

const statusMessage = z
  .object({
    status_code: flexibleInt.optional(),
    type: z.string().optional(),
    message: z.string().optional(),
    field: z.string().optional(),
    fields: z.array(z.string()).optional(),
  })
  .loose();

const statusEntry = z
  .object({
    status_code: flexibleInt.optional(),
    status: z.string().optional(),
    messages: z.array(statusMessage).optional(),
  })
  .loose();

/** `response_status` is an object on single-entity replies and often an array on lists. */
export const envelopeStatus = z.object({
  response_status: z
    .union([statusEntry, z.array(statusEntry)])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});

export type SdpStatusEntry = z.output<typeof statusEntry>;

const listInfo = z
  .object({
    has_more_rows: flexibleBoolean,
    start_index: flexibleInt.optional(),
    row_count: flexibleInt.optional(),
    total_count: flexibleInt.optional(),
  })
  .loose();

export const requestSchema = z
  .object({
    id: sdpId,
    display_id: sdpId.nullish(),
    subject: text,
    description: text,
    status: lookup,
    priority: lookup,
    category: lookup,
    subcategory: lookup,
    item: lookup,
    group: lookup,
    site: lookup,
    mode: lookup,
    level: lookup,
    urgency: lookup,
    impact: lookup,
    request_type: lookup,
    template: lookup,
    requester: user,
    technician: user,
    created_by: user,
    created_time: sdpTime,
    due_by_time: sdpTime,
    resolved_time: sdpTime,
    completed_time: sdpTime,
    last_updated_time: sdpTime,
    resolution: z.object({ content: text }).nullish(),
    closure_info: z
      .object({ closure_code: lookup, closure_comments: text })
      .nullish()
      .transform((c) =>
        c ? { closureCode: c.closure_code, closureComments: c.closure_comments } : null,
      ),
    has_notes: flexibleBoolean,
    is_overdue: flexibleBoolean,
  })
  .transform((r) => ({
    id: r.id,
    displayId: r.display_id ?? r.id,
    subject: r.subject ?? '',
    descriptionHtml: r.description ?? '',
    status: r.status,
    priority: r.priority,
    category: r.category,
    subcategory: r.subcategory,
    item: r.item,
    group: r.group,
    site: r.site,
    mode: r.mode,
    level: r.level,
    urgency: r.urgency,
    impact: r.impact,
    requestType: r.request_type,
    template: r.template,
    requester: r.requester,
    technician: r.technician,
    createdBy: r.created_by,
    createdTime: r.created_time,
    dueByTime: r.due_by_time,
    resolvedTime: r.resolved_time,
    completedTime: r.completed_time,
    lastUpdatedTime: r.last_updated_time,
    resolutionHtml: r.resolution?.content || null,
    closureInfo: r.closure_info,
    hasNotes: r.has_notes,
    isOverdue: r.is_overdue,
  }));

export type ServiceDeskRequest = z.output<typeof requestSchema>;

/** Cloud replies with `created_time`/`created_by`, on-premises with `added_time`/`added_by`. */
const noteSchema = z
  .object({
    id: sdpId,
    description: text,
    show_to_requester: flexibleBoolean,
    notify_technician: flexibleBoolean,
    created_time: sdpTime,
    added_time: sdpTime,
    created_by: user,
    added_by: user,
  })
  .transform((n) => ({
    id: n.id,
    descriptionHtml: n.description ?? '',
    createdTime: n.created_time ?? n.added_time,
    createdBy: n.created_by ?? n.added_by,
    showToRequester: n.show_to_requester,
    notifyTechnician: n.notify_technician,
  }));

export type ServiceDeskNote = z.output<typeof noteSchema>;

const solutionSchema = z
  .object({
    id: sdpId,
    title: text,
    description: text,
    topic: lookup,
    keywords: z
      .union([z.string(), z.array(z.string())])
      .nullish()
      .transform((k) =>
        (Array.isArray(k) ? k : (k ?? '').split(',')).map((w) => w.trim()).filter(Boolean),
      ),
    is_public: flexibleBoolean,
    approval_status: lookup,
    review_date: sdpTime,
    expiry_date: sdpTime,
    created_time: sdpTime,
    owner: user,
    no_of_hits: flexibleInt.nullish(),
  })
  .transform((s) => ({
    id: s.id,
    title: s.title ?? '',
    descriptionHtml: s.description ?? '',
    topic: s.topic,
    keywords: s.keywords,
    isPublic: s.is_public,
    approvalStatus: s.approval_status?.name ?? null,
    reviewDate: s.review_date,
    expiryDate: s.expiry_date,
    createdTime: s.created_time,
    owner: s.owner,
    hits: s.no_of_hits ?? null,
  }));

export type ServiceDeskSolution = z.output<typeof solutionSchema>;

const resolutionSchema = z
  .object({ content: text, submitted_by: user, submitted_on: sdpTime })
  .nullish()
  .transform((r) =>
    r?.content
      ? { contentHtml: r.content, submittedBy: r.submitted_by, submittedOn: r.submitted_on }
      : null,
  );

export type ServiceDeskResolution = NonNullable<z.output<typeof resolutionSchema>>;

export const requestEnvelope = z.object({ request: requestSchema });
export const requestListEnvelope = z.object({
  requests: z.array(requestSchema),
  list_info: listInfo.optional(),
});
export const noteEnvelope = z
  .object({ request_note: noteSchema.optional(), note: noteSchema.optional() })
  .transform((e, ctx) => {
    const note = e.request_note ?? e.note;
    if (!note) {
      ctx.addIssue({ code: 'custom', message: 'neither request_note nor note in reply' });
      return z.NEVER;
    }
    return note;
  });
export const noteListEnvelope = z
  .object({
    notes: z.array(noteSchema).optional(),
    request_notes: z.array(noteSchema).optional(),
    list_info: listInfo.optional(),
  })
  .transform((e) => ({ notes: e.notes ?? e.request_notes ?? [], list_info: e.list_info }));
export const solutionEnvelope = z.object({ solution: solutionSchema });
export const solutionListEnvelope = z.object({
  solutions: z.array(solutionSchema),
  list_info: listInfo.optional(),
});
export const resolutionEnvelope = z.object({ resolution: resolutionSchema });

/** OAuth token reply; Zoho reports failures as `{error}`, often with HTTP 200. */
export const oauthTokenReply = z.union([
  z
    .object({
      access_token: z.string().min(1),
      expires_in: z.union([z.number().positive(), z.string().regex(/^\d+$/).transform(Number)]),
      expires_in_sec: z.number().positive().optional(),
      api_domain: z.string().max(300).optional(),
    })
    // Older Zoho replies gave expires_in in milliseconds next to expires_in_sec;
    // no access token lives a day, so a larger value must be milliseconds.
    .transform((t) => ({
      access_token: t.access_token,
      apiDomain: t.api_domain,
      expiresInSeconds:
        t.expires_in_sec ?? (t.expires_in > 86_400 ? t.expires_in / 1000 : t.expires_in),
    })),
  z.object({ error: z.string(), error_description: z.string().optional() }),
]);

/** Field paths and messages only: zod's input echo could carry upstream data. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
