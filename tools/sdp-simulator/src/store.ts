import { z } from 'zod';
import { sdpErrors } from './sdp-errors';

/**
 * In-memory SDP data. Entities are stored in a neutral form and rendered in
 * the flavour of the simulated edition: on-premises uses small integer ids,
 * the `note` wrapper and `added_time`/`added_by`; Cloud uses 18-digit ids,
 * `request_note` and `created_time`/`created_by`.
 */
export type SimulatorMode = 'onprem' | 'cloud';

export interface SdpLookup {
  id: string;
  name: string;
}

export interface SdpUser {
  id: string;
  name: string;
  email_id: string;
}

export interface SdpTime {
  value: string;
  display_value: string;
}

export const LOOKUP_FIELDS = [
  'status',
  'priority',
  'category',
  'subcategory',
  'item',
  'group',
  'site',
  'mode',
  'level',
  'urgency',
  'impact',
  'request_type',
  'template',
] as const;
export type LookupField = (typeof LOOKUP_FIELDS)[number];

/** Lookups whose values an admin defines up front: unknown names are rejected (4001). */
const CONTROLLED_LOOKUPS: Partial<Record<LookupField, readonly string[]>> = {
  status: ['Closed', 'Open', 'Resolved', 'On Hold', 'In Progress', 'Cancelled'],
  priority: ['Low', 'Medium', 'High', 'Urgent'],
  mode: ['Web Form', 'E-Mail', 'Phone Call'],
  request_type: ['Incident', 'Service Request'],
  template: ['Default Request'],
};

const USER_FIELDS = ['requester', 'technician'] as const;
const READ_ONLY_FIELDS = new Set([
  'id',
  'display_id',
  'created_time',
  'created_by',
  'resolved_time',
  'completed_time',
  'last_updated_time',
  'has_notes',
  'is_overdue',
]);
const CLOSED_STATUSES = new Set(['resolved', 'closed', 'cancelled']);

interface StoredNote {
  id: string;
  description: string;
  showToRequester: boolean;
  notifyTechnician: boolean;
  markFirstResponse: boolean;
  createdMs: number;
  createdBy: SdpUser;
  lastUpdatedMs?: number;
}

interface StoredRequest {
  id: string;
  displayId: string;
  subject: string;
  description: string;
  lookups: Partial<Record<LookupField, SdpLookup>>;
  requester: SdpUser | null;
  technician: SdpUser | null;
  createdBy: SdpUser;
  createdMs: number;
  dueByMs: number | null;
  resolvedMs: number | null;
  completedMs: number | null;
  lastUpdatedMs: number;
  resolution: { content: string; submittedBy: SdpUser; submittedMs: number } | null;
  udfFields: Record<string, unknown>;
  notes: StoredNote[];
}

interface StoredSolution {
  id: string;
  title: string;
  description: string;
  topic: SdpLookup | null;
  keywords: string[];
  isPublic: boolean;
  approved: boolean;
  owner: SdpUser;
  hits: number;
  createdMs: number;
}

const epochMs = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+$/).transform(Number),
  z.iso.datetime({ offset: true }).transform((v) => Date.parse(v)),
]);

const seedUser = z.union([
  z.email().transform((email_id) => ({ email_id, name: undefined })),
  z.object({ name: z.string().min(1).optional(), email_id: z.email() }),
]);

const seedRequestSchema = z.strictObject({
  id: z.string().regex(/^\d+$/, 'must be digits').optional(),
  display_id: z.string().min(1).max(50).optional(),
  subject: z.string().min(1).max(250),
  description: z.string().default(''),
  status: z.string().min(1).default('Open'),
  priority: z.string().min(1).optional(),
  category: z.string().min(1).optional(),
  subcategory: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  site: z.string().min(1).optional(),
  requester: seedUser.optional(),
  technician: seedUser.optional(),
  created_time: epochMs.optional(),
  resolved_time: epochMs.optional(),
  due_by_time: epochMs.optional(),
  resolution: z.string().optional(),
  udf_fields: z.record(z.string(), z.unknown()).optional(),
  notes: z
    .array(
      z.strictObject({
        description: z.string().min(1),
        created_time: epochMs.optional(),
        show_to_requester: z.boolean().default(false),
      }),
    )
    .default([]),
});

const seedSolutionSchema = z.strictObject({
  id: z.string().regex(/^\d+$/, 'must be digits').optional(),
  title: z.string().min(1).max(250),
  description: z.string().default(''),
  topic: z.string().min(1).optional(),
  keywords: z.union([z.array(z.string()), z.string().transform((k) => k.split(','))]).default([]),
  is_public: z.boolean().default(true),
  approved: z.boolean().default(true),
  no_of_hits: z.number().int().nonnegative().default(0),
  created_time: epochMs.optional(),
});

export const seedInputSchema = z.strictObject({
  requests: z.array(seedRequestSchema).default([]),
  solutions: z.array(seedSolutionSchema).default([]),
});

export type SeedInput = z.input<typeof seedInputSchema>;
export type SeedResult = { requests: string[]; solutions: string[] };

/** 18 digits, like Cloud ids; on-premises ids are small integers. */
const CLOUD_ID_BASE = 114_000_000_000_000_000n;

export class SdpStore {
  private requests: StoredRequest[] = [];
  /** The benchmark seeds 200,000 requests and looks one up per call. */
  private requestsById = new Map<string, StoredRequest>();
  private requestsByDisplayId = new Map<string, StoredRequest>();
  private solutions: StoredSolution[] = [];
  private users = new Map<string, SdpUser>();
  private lookups = new Map<LookupField | 'topic', Map<string, SdpLookup>>();
  private counter = 0;
  /** The technician the simulated API key belongs to. */
  readonly actor: SdpUser;

  constructor(
    readonly mode: SimulatorMode,
    private readonly now: () => number,
  ) {
    this.actor = this.user('api.technician@sdp-simulator.local', 'API Technician');
    this.reset();
  }

  get noteKey(): 'note' | 'request_note' {
    return this.mode === 'cloud' ? 'request_note' : 'note';
  }

  reset(): void {
    this.requests = [];
    this.requestsById = new Map();
    this.requestsByDisplayId = new Map();
    this.solutions = [];
    this.lookups = new Map();
    for (const [field, names] of Object.entries(CONTROLLED_LOOKUPS)) {
      for (const name of names) this.lookup(field as LookupField, name);
    }
  }

  seed(raw: unknown): SeedResult {
    const input = seedInputSchema.parse(raw);
    // Check uniqueness up front so a rejected seed changes nothing.
    const seeded = new Set<string>();
    const taken = { has: (key: string) => this.hasRequestKey(key) || seeded.has(key) };
    for (const r of input.requests) {
      for (const key of [r.id, r.display_id]) {
        if (key === undefined) continue;
        if (taken.has(key)) throw sdpErrors.notUnique(r.id === key ? 'id' : 'display_id');
        seeded.add(key);
      }
    }
    const takenSolutions = new Set(this.solutions.map((s) => s.id));
    for (const s of input.solutions) {
      if (s.id !== undefined && takenSolutions.has(s.id)) throw sdpErrors.notUnique('id');
      if (s.id !== undefined) takenSolutions.add(s.id);
    }

    const requestIds = input.requests.map((r) => {
      const createdMs = r.created_time ?? this.now();
      const id = r.id ?? this.nextId(taken);
      const lookups: StoredRequest['lookups'] = {
        status: this.lookup('status', r.status),
        mode: this.lookup('mode', 'Web Form'),
        request_type: this.lookup('request_type', 'Incident'),
        template: this.lookup('template', 'Default Request'),
      };
      for (const field of ['priority', 'category', 'subcategory', 'group', 'site'] as const) {
        const name = r[field];
        if (name !== undefined) lookups[field] = this.lookup(field, name);
      }
      const closed = CLOSED_STATUSES.has(r.status.toLowerCase());
      const resolvedMs = r.resolved_time ?? (closed ? createdMs + 3_600_000 : null);
      const request: StoredRequest = {
        id,
        displayId: r.display_id ?? this.defaultDisplayId(id),
        subject: r.subject,
        description: r.description,
        lookups,
        requester: r.requester ? this.user(r.requester.email_id, r.requester.name) : null,
        technician: r.technician ? this.user(r.technician.email_id, r.technician.name) : null,
        createdBy: this.actor,
        createdMs,
        dueByMs: r.due_by_time ?? null,
        resolvedMs,
        completedMs: r.status.toLowerCase() === 'closed' ? resolvedMs : null,
        lastUpdatedMs: resolvedMs ?? createdMs,
        resolution:
          r.resolution === undefined
            ? null
            : {
                content: r.resolution,
                submittedBy: this.actor,
                submittedMs: resolvedMs ?? createdMs,
              },
        udfFields: r.udf_fields ?? {},
        notes: [],
      };
      for (const n of r.notes) {
        request.notes.push({
          id: this.nextId(),
          description: n.description,
          showToRequester: n.show_to_requester,
          notifyTechnician: false,
          markFirstResponse: false,
          createdMs: n.created_time ?? createdMs,
          createdBy: this.actor,
        });
      }
      this.addRequest(request);
      return id;
    });

    const solutionIds = input.solutions.map((s) => {
      const id = s.id ?? this.nextId(takenSolutions);
      this.solutions.push({
        id,
        title: s.title,
        description: s.description,
        topic: s.topic === undefined ? null : this.lookup('topic', s.topic),
        keywords: s.keywords.map((k) => k.trim()).filter(Boolean),
        isPublic: s.is_public,
        approved: s.approved,
        owner: this.actor,
        hits: s.no_of_hits,
        createdMs: s.created_time ?? this.now(),
      });
      return id;
    });
    return { requests: requestIds, solutions: solutionIds };
  }

  /**
   * By id, else by display_id. The display-id lookup is a simulator
   * convenience so the runbook's `TKT-12345` resolves; real SDP takes ids only.
   */
  findRequest(idOrDisplayId: string): StoredRequest {
    const found =
      this.requestsById.get(idOrDisplayId) ?? this.requestsByDisplayId.get(idOrDisplayId);
    if (!found) throw sdpErrors.notFound('Request');
    return found;
  }

  /** Whether some request has this id or display id. */
  private hasRequestKey(key: string): boolean {
    return this.requestsById.has(key) || this.requestsByDisplayId.has(key);
  }

  private addRequest(request: StoredRequest): void {
    this.requests.push(request);
    this.requestsById.set(request.id, request);
    // The first of equal display ids stays the one found, as with a scan.
    if (!this.requestsByDisplayId.has(request.displayId)) {
      this.requestsByDisplayId.set(request.displayId, request);
    }
  }

  findSolution(id: string): StoredSolution {
    const found = this.solutions.find((s) => s.id === id);
    if (!found) throw sdpErrors.notFound('Solution');
    return found;
  }

  allRequests(): readonly StoredRequest[] {
    return this.requests;
  }

  allSolutions(): readonly StoredSolution[] {
    return this.solutions;
  }

  /** `POST /requests`: input_data `{"request": {...}}`; subject is mandatory. */
  createRequest(input: unknown): StoredRequest {
    const fields = unwrap(input, 'request');
    if (typeof fields['subject'] !== 'string' || !fields['subject'].trim()) {
      if (fields['subject'] !== undefined && typeof fields['subject'] !== 'string') {
        throw sdpErrors.typeMismatch('subject');
      }
      throw sdpErrors.mandatoryMissing('subject');
    }
    const now = this.now();
    const id = this.nextId({ has: (key) => this.hasRequestKey(key) });
    const request: StoredRequest = {
      id,
      displayId: this.defaultDisplayId(id),
      subject: '',
      description: '',
      lookups: {
        status: this.lookup('status', 'Open'),
        mode: this.lookup('mode', 'Web Form'),
        request_type: this.lookup('request_type', 'Incident'),
        template: this.lookup('template', 'Default Request'),
      },
      requester: null,
      technician: null,
      createdBy: this.actor,
      createdMs: now,
      dueByMs: null,
      resolvedMs: null,
      completedMs: null,
      lastUpdatedMs: now,
      resolution: null,
      udfFields: {},
      notes: [],
    };
    this.applyRequestFields(request, fields);
    this.addRequest(request);
    return request;
  }

  /** `PUT /requests/{id}`: only the given fields change. */
  updateRequest(request: StoredRequest, input: unknown): StoredRequest {
    const fields = unwrap(input, 'request');
    if (
      'subject' in fields &&
      (typeof fields['subject'] !== 'string' || !fields['subject'].trim())
    ) {
      throw sdpErrors.mandatoryMissing('subject');
    }
    this.applyRequestFields(request, fields);
    request.lastUpdatedMs = this.now();
    return request;
  }

  addNote(request: StoredRequest, input: unknown): StoredNote {
    const fields = this.noteFields(input, true);
    const note: StoredNote = {
      id: this.nextId(),
      description: fields.description!,
      showToRequester: fields.flag('show_to_requester') ?? false,
      notifyTechnician: fields.flag('notify_technician') ?? false,
      markFirstResponse: fields.flag('mark_first_response') ?? false,
      createdMs: this.now(),
      createdBy: this.actor,
    };
    fields.flag('add_to_linked_requests');
    request.notes.push(note);
    request.lastUpdatedMs = note.createdMs;
    return note;
  }

  /** `PUT /requests/{id}/notes/{note_id}`: the fields sent replace the note's. */
  editNote(request: StoredRequest, noteId: string, input: unknown): StoredNote {
    const note = this.findNote(request, noteId);
    const fields = this.noteFields(input, false);
    if (fields.description !== undefined) note.description = fields.description;
    note.showToRequester = fields.flag('show_to_requester') ?? note.showToRequester;
    note.notifyTechnician = fields.flag('notify_technician') ?? note.notifyTechnician;
    note.markFirstResponse = fields.flag('mark_first_response') ?? note.markFirstResponse;
    fields.flag('add_to_linked_requests');
    note.lastUpdatedMs = this.now();
    request.lastUpdatedMs = note.lastUpdatedMs;
    return note;
  }

  /** A note's input as SDP checks it: known keys only, description a non-empty string. */
  private noteFields(input: unknown, descriptionRequired: boolean) {
    const fields = unwrap(input, this.noteKey);
    const allowed = new Set([
      'description',
      'show_to_requester',
      'notify_technician',
      'mark_first_response',
      'add_to_linked_requests',
    ]);
    for (const key of Object.keys(fields)) if (!allowed.has(key)) throw sdpErrors.extraKey(key);
    const description = fields['description'];
    if (
      description === null ||
      description === '' ||
      (descriptionRequired && description === undefined)
    ) {
      throw sdpErrors.mandatoryMissing('description');
    }
    if (description !== undefined && typeof description !== 'string') {
      throw sdpErrors.typeMismatch('description');
    }
    return {
      description,
      flag: (name: string): boolean | undefined => {
        const value = fields[name];
        if (value !== undefined && typeof value !== 'boolean') throw sdpErrors.typeMismatch(name);
        return value;
      },
    };
  }

  findNote(request: StoredRequest, noteId: string): StoredNote {
    const note = request.notes.find((n) => n.id === noteId);
    if (!note) throw sdpErrors.notFound('Note');
    return note;
  }

  setResolution(request: StoredRequest, input: unknown): void {
    const fields = unwrap(input, 'resolution');
    for (const key of Object.keys(fields)) {
      if (key !== 'content' && key !== 'add_to_linked_requests') throw sdpErrors.extraKey(key);
    }
    const content = fields['content'];
    if (typeof content !== 'string' || !content.trim()) {
      throw content === undefined || content === ''
        ? sdpErrors.mandatoryMissing('content')
        : sdpErrors.typeMismatch('content');
    }
    request.resolution = { content, submittedBy: this.actor, submittedMs: this.now() };
    request.lastUpdatedMs = this.now();
  }

  renderRequest(r: StoredRequest): Record<string, unknown> {
    const lookups = Object.fromEntries(LOOKUP_FIELDS.map((f) => [f, r.lookups[f] ?? null]));
    return {
      id: r.id,
      display_id: r.displayId,
      subject: r.subject,
      description: r.description,
      ...lookups,
      requester: r.requester,
      technician: r.technician,
      created_by: r.createdBy,
      created_time: sdpTime(r.createdMs),
      due_by_time: sdpTime(r.dueByMs),
      resolved_time: sdpTime(r.resolvedMs),
      completed_time: sdpTime(r.completedMs),
      last_updated_time: sdpTime(r.lastUpdatedMs),
      resolution: { content: r.resolution?.content ?? null },
      closure_info: null,
      udf_fields: r.udfFields,
      has_notes: r.notes.length > 0,
      is_overdue: r.dueByMs !== null && r.resolvedMs === null && r.dueByMs < this.now(),
    };
  }

  renderNote(r: StoredRequest, n: StoredNote): Record<string, unknown> {
    const [timeKey, byKey] =
      this.mode === 'cloud' ? ['created_time', 'created_by'] : ['added_time', 'added_by'];
    return {
      id: n.id,
      description: n.description,
      show_to_requester: n.showToRequester,
      notify_technician: n.notifyTechnician,
      mark_first_response: n.markFirstResponse,
      [timeKey]: sdpTime(n.createdMs),
      [byKey]: n.createdBy,
      request: { id: r.id, display_id: r.displayId, subject: r.subject },
    };
  }

  renderResolution(r: StoredRequest): Record<string, unknown> {
    return {
      content: r.resolution?.content ?? null,
      submitted_by: r.resolution?.submittedBy ?? null,
      submitted_on: sdpTime(r.resolution?.submittedMs ?? null),
    };
  }

  renderSolution(s: StoredSolution): Record<string, unknown> {
    return {
      id: s.id,
      title: s.title,
      description: s.description,
      topic: s.topic,
      keywords: s.keywords.join(','),
      is_public: s.isPublic,
      approval_status: s.approved
        ? { id: '2', name: 'Approved' }
        : { id: '1', name: 'Approval Pending' },
      owner: s.owner,
      no_of_hits: s.hits,
      created_time: sdpTime(s.createdMs),
      review_date: null,
      expiry_date: null,
    };
  }

  private applyRequestFields(request: StoredRequest, fields: Record<string, unknown>): void {
    // Validate everything before changing anything: a rejected write is a no-op.
    const changes: Array<() => void> = [];
    for (const [key, value] of Object.entries(fields)) {
      if (READ_ONLY_FIELDS.has(key)) throw sdpErrors.readOnly(key);
      if (key === 'subject' || key === 'description') {
        if (typeof value !== 'string') throw sdpErrors.typeMismatch(key);
        if (key === 'subject' && value.length > 250) throw sdpErrors.typeMismatch(key);
        changes.push(() => (request[key] = value));
      } else if ((LOOKUP_FIELDS as readonly string[]).includes(key)) {
        const field = key as LookupField;
        const lookup = value === null ? null : this.resolveLookup(field, value);
        changes.push(() => {
          if (lookup) request.lookups[field] = lookup;
          else delete request.lookups[field];
          if (field === 'status' && lookup) this.applyStatus(request, lookup.name);
        });
      } else if ((USER_FIELDS as readonly string[]).includes(key)) {
        const user = value === null ? null : this.resolveUser(key, value);
        changes.push(() => (request[key as 'requester' | 'technician'] = user));
      } else if (key === 'due_by_time') {
        const ms = parseTimeInput(value);
        if (ms === undefined) throw sdpErrors.typeMismatch(key);
        changes.push(() => (request.dueByMs = ms));
      } else if (key === 'udf_fields') {
        if (!isRecord(value)) throw sdpErrors.typeMismatch(key);
        changes.push(() => Object.assign(request.udfFields, value));
      } else if (key === 'resolution') {
        if (!isRecord(value) || typeof value['content'] !== 'string') {
          throw sdpErrors.typeMismatch(key);
        }
        const content = value['content'];
        changes.push(() => {
          request.resolution = { content, submittedBy: this.actor, submittedMs: this.now() };
        });
      } else {
        throw sdpErrors.extraKey(key);
      }
    }
    for (const change of changes) change();
  }

  private applyStatus(request: StoredRequest, name: string): void {
    const lower = name.toLowerCase();
    if (CLOSED_STATUSES.has(lower)) {
      request.resolvedMs ??= this.now();
      if (lower === 'closed') request.completedMs ??= this.now();
    } else {
      request.resolvedMs = null;
      request.completedMs = null;
    }
  }

  /** `{name}` or `{id}` (SDP's form), or a bare name. */
  private resolveLookup(field: LookupField, value: unknown): SdpLookup {
    const known = this.lookups.get(field) ?? new Map<string, SdpLookup>();
    const controlled = CONTROLLED_LOOKUPS[field] !== undefined;
    if (typeof value === 'string' || (isRecord(value) && typeof value['name'] === 'string')) {
      const name = typeof value === 'string' ? value : (value['name'] as string);
      const existing = known.get(name.toLowerCase());
      if (existing) return existing;
      if (controlled || !name.trim()) throw sdpErrors.doesNotExist(field, name);
      return this.lookup(field, name.trim());
    }
    if (isRecord(value) && (typeof value['id'] === 'string' || typeof value['id'] === 'number')) {
      const id = String(value['id']);
      const existing = [...known.values()].find((l) => l.id === id);
      if (!existing) throw sdpErrors.doesNotExist(field, id);
      return existing;
    }
    throw sdpErrors.typeMismatch(field);
  }

  private resolveUser(field: string, value: unknown): SdpUser {
    if (!isRecord(value)) throw sdpErrors.typeMismatch(field);
    const email = value['email_id'];
    const name = value['name'];
    if (typeof email === 'string' && email.includes('@')) {
      return this.user(email, typeof name === 'string' ? name : undefined);
    }
    const rawId = value['id'];
    const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : undefined;
    const found = [...this.users.values()].find(
      (u) => (typeof name === 'string' && u.name === name) || (id !== undefined && u.id === id),
    );
    if (!found) throw sdpErrors.doesNotExist(field, typeof name === 'string' ? name : (id ?? ''));
    return found;
  }

  private lookup(field: LookupField | 'topic', name: string): SdpLookup {
    let byName = this.lookups.get(field);
    if (!byName) {
      byName = new Map();
      this.lookups.set(field, byName);
    }
    const existing = byName.get(name.toLowerCase());
    if (existing) return existing;
    const created = { id: this.formatId(byName.size + 1), name };
    byName.set(name.toLowerCase(), created);
    return created;
  }

  private user(email: string, name?: string): SdpUser {
    const key = email.toLowerCase();
    const existing = this.users.get(key);
    if (existing) return existing;
    const created = {
      id: this.formatId(this.users.size + 1),
      name: name ?? email.split('@')[0] ?? email,
      email_id: email,
    };
    this.users.set(key, created);
    return created;
  }

  private nextId(taken: { has(key: string): boolean } = new Set()): string {
    let id: string;
    do id = this.formatId(++this.counter);
    while (taken.has(id));
    return id;
  }

  private formatId(n: number): string {
    return this.mode === 'cloud' ? String(CLOUD_ID_BASE + BigInt(n)) : String(n);
  }

  /** Cloud shows a short human number; on-premises shows the id itself. */
  private defaultDisplayId(id: string): string {
    return this.mode === 'cloud' ? String(BigInt(id) - CLOUD_ID_BASE) : id;
  }
}

function unwrap(input: unknown, wrapper: string): Record<string, unknown> {
  if (!isRecord(input)) throw sdpErrors.invalidInput('input_data must be a JSON object');
  for (const key of Object.keys(input)) if (key !== wrapper) throw sdpErrors.extraKey(key);
  const inner = input[wrapper];
  if (inner === undefined) throw sdpErrors.mandatoryMissing(wrapper);
  if (!isRecord(inner)) throw sdpErrors.typeMismatch(wrapper);
  return inner;
}

function parseTimeInput(value: unknown): number | null | undefined {
  if (value === null) return null;
  const raw = isRecord(value) ? value['value'] : value;
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return Number(raw);
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `{value: "<ms>", display_value: "Nov 10, 2016 11:44 AM"}` (rendered in UTC). */
export function sdpTime(ms: number | null): SdpTime | null {
  if (ms === null) return null;
  const d = new Date(ms);
  const hours = d.getUTCHours() % 12 || 12;
  const minutes = String(d.getUTCMinutes()).padStart(2, '0');
  const display = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${hours}:${minutes} ${d.getUTCHours() < 12 ? 'AM' : 'PM'}`;
  return { value: String(ms), display_value: display };
}
