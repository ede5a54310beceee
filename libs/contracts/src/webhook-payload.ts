import { convert } from 'html-to-text';
import { z } from 'zod';

/**
 * The JSON an SDP admin types into the webhook's payload template (README
 * "Webhook contract"). SDP has no fixed webhook schema, so the variations
 * admins really produce are accepted on purpose: numeric ids, `{id, name}`
 * lookups instead of names, epoch-millisecond times, HTML descriptions,
 * empty strings for unset variables, and extra fields (ignored).
 */
export const MAX_DESCRIPTION_CHARS = 100_000;

const emptyToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);

const ticketId = z.union([
  z.string().trim().min(1, 'must not be empty').max(100),
  z.number().int().nonnegative().transform(String),
]);

const lookupName = z.preprocess(
  emptyToUndefined,
  z
    .union([z.string().trim().max(100), z.object({ name: z.string().trim().max(100) })])
    .transform((v) => (typeof v === 'string' ? v : v.name))
    .optional(),
);

const email = z.preprocess(
  emptyToUndefined,
  z.string().trim().max(320).email('must be an email address').optional(),
);

const timestamp = z.preprocess(
  emptyToUndefined,
  z
    .union([z.string().trim(), z.number(), z.object({ value: z.union([z.string(), z.number()]) })])
    .transform((v, ctx) => {
      const raw = typeof v === 'object' ? v.value : v;
      // SDP times are milliseconds since the epoch, often as strings.
      const date =
        typeof raw === 'number' || /^\d{10,14}$/.test(raw) ? new Date(Number(raw)) : new Date(raw);
      if (Number.isNaN(date.getTime())) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or epoch milliseconds' });
        return z.NEVER;
      }
      return date.toISOString();
    })
    .optional(),
);

const EVENT_ALIASES: Record<string, 'created' | 'updated'> = {
  created: 'created',
  create: 'created',
  ticket_created: 'created',
  'ticket created': 'created',
  request_created: 'created',
  updated: 'updated',
  update: 'updated',
  ticket_updated: 'updated',
  'ticket updated': 'updated',
  request_updated: 'updated',
};

const eventKind = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .transform((v, ctx) => {
      const kind = EVENT_ALIASES[v.trim().toLowerCase()];
      if (!kind) {
        ctx.addIssue({ code: 'custom', message: 'must be "created" or "updated"' });
        return z.NEVER;
      }
      return kind;
    })
    .optional(),
);

export const ServiceDeskWebhookPayloadSchema = z
  .object({
    ticket_id: ticketId,
    subject: z.string().trim().min(1, 'must not be empty').max(500),
    description: z.preprocess(emptyToUndefined, z.string().max(MAX_DESCRIPTION_CHARS).optional()),
    /** Sent on updates of resolved tickets; makes the ticket usable as history. */
    resolution: z.preprocess(emptyToUndefined, z.string().max(MAX_DESCRIPTION_CHARS).optional()),
    priority: lookupName,
    status: lookupName,
    requester_email: email,
    created_at: timestamp,
    /** SDP's `last_updated_time` (either name): orders deliveries of one ticket. */
    updated_at: timestamp,
    last_updated_time: timestamp,
    event: eventKind,
    event_type: eventKind,
  })
  .transform((p) => ({
    ticket_id: p.ticket_id,
    subject: p.subject,
    description_html: p.description ?? '',
    description_text: htmlToPlainText(p.description ?? ''),
    resolution_text: p.resolution ? htmlToPlainText(p.resolution) : null,
    priority: p.priority ?? null,
    status: p.status ?? null,
    requester_email: p.requester_email ?? null,
    created_at: p.created_at ?? null,
    updated_at: p.updated_at ?? p.last_updated_time ?? null,
    event: p.event ?? p.event_type ?? ('created' as const),
  }));

export type ServiceDeskWebhookPayload = z.input<typeof ServiceDeskWebhookPayloadSchema>;

const LOOKS_LIKE_HTML =
  /<\/?(p|br|div|span|b|i|u|em|strong|a|img|ul|ol|li|table|tr|td|th|h[1-6]|font|pre|code|blockquote|hr|html|body|head|style|script)\b[^>]*>|&(nbsp|amp|lt|gt|quot|#\d+|#x[\da-f]+);/i;

/** Plain text for search and prompts; SDP descriptions are HTML. */
export function htmlToPlainText(html: string): string {
  // Plain text with a stray "&" or "<max>" keeps its lines: only real markup is converted.
  if (!LOOKS_LIKE_HTML.test(html)) return html.trim();
  // Mail clients mix markup with plain-text lines (forwarded headers, quotes): keep those lines.
  return convert(html.replace(/\n(?!\s*<)/g, '<br>\n'), {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
    ],
  }).trim();
}
