import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import {
  StageError,
  type Enhancement,
  type EnhancementPreferences,
  type TicketContext,
} from '@tep/contracts';
import {
  NOTE_WORDING,
  formatPercent,
  joinList,
  scrubAddresses,
  type NoteLabels,
} from '@tep/enhancement-synthesis';

/**
 * Every note carries this line, in every language; a redelivered job finds
 * it and posts nothing, so its wording never changes.
 */
export const jobMarker = (jobId: string) => `Enhancement ref: ${jobId}`;

/**
 * SDP shows a note's description as HTML, so every output format ends as
 * HTML a technician reads cleanly: `markdown` is authored as markdown and
 * rendered by markdown-it, `html` is built as HTML, `plain` is escaped text
 * with line breaks. The model's text (and other tickets' subjects) is
 * untrusted: it is escaped (never interpreted as markdown or HTML), and the
 * result passes an allow-list sanitiser, so no markup, script or link of
 * the model's reaches the ticket. The fixed wording is in the enhancement's
 * language (NOTE_WORDING); a note the requester sees names no other ticket
 * and no host or address.
 */

// Raw HTML in the source is shown as text, never passed through.
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

/**
 * The allow-list. The only links a note may hold are its own feedback links
 * (`feedbackBase`): any other anchor is dropped with its text.
 */
const sanitizeOptions = (feedbackBase: string | undefined): sanitizeHtml.IOptions => ({
  allowedTags: ['div', 'p', 'br', 'b', 'strong', 'em', 'ol', 'ul', 'li', 'small', 'h3', 'h4', 'a'],
  allowedAttributes: { a: ['href'] },
  allowedSchemes: ['https', 'http'],
  disallowedTagsMode: 'escape',
  exclusiveFilter: (frame) =>
    frame.tag === 'a' &&
    (feedbackBase === undefined || !(frame.attribs.href ?? '').startsWith(feedbackBase)),
});

const escapeHtml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/**
 * Text as literal markdown text: no emphasis, links, headings or code of its
 * own. Line breaks would start markdown blocks, so whitespace becomes one
 * space, except no-break spaces (French typography before `:`).
 */
const escapeMarkdown = (text: string) =>
  text.replace(/[^\S\u00a0]+/g, ' ').replace(/([\\`*_{}[\]()#+\-.!|<>~=:])/g, '\\$1');

/**
 * Models (small local ones especially) answer in markdown of their own:
 * keep the words, drop the syntax — a technician should never see `**`,
 * `#` or backticks, and a link of the model's never becomes a link.
 */
export function plainModelText(text: string): string {
  return text
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(HTML_TAG, ' ')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(^|\n)\s{0,3}#{1,6}\s+/g, '$1')
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
    .replace(/(^|[\s(])[*_](?=\S)([^*_\n]*?\S)[*_](?=[\s).,:;!?]|$)/g, '$1$2')
    .replace(/`+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Tags of real HTML elements (not `<max>`-style placeholders a technician must fill in). */
const HTML_TAG =
  /<\/?(a|b|i|u|em|strong|p|br|div|span|img|iframe|object|embed|ul|ol|li|h[1-6]|code|pre|table|tr|td|th|thead|tbody|font|small|sup|sub|blockquote|hr|form|input|button|svg|link|meta)\b[^>]*>/gi;

function timestamp(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export interface NoteInput {
  enhancement: Enhancement;
  /** The job's context: which related tickets are confident, a possible outage, the systems. */
  context: TicketContext;
  format: EnhancementPreferences['output_format'];
  visibility: EnhancementPreferences['note_visibility'];
  jobId: string;
  at: Date;
  /**
   * The tenant's `context_sources`, for the low-confidence note's "Searched:"
   * line (those in `context.degraded` were not reached). Without it the note
   * names only the unavailable sources: it cannot know what was enabled.
   */
  sources?: EnhancementPreferences['context_sources'];
  /**
   * The note's feedback links (a technicians-only note ends with them): the
   * page each opens, with the rating chosen. Absent: no links.
   */
  feedback?: { base: string; helpfulUrl: string; notHelpfulUrl: string };
}

/** A piece of a note, before it is put in a format. */
type Block =
  | { kind: 'title'; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'field'; label: string; text: string }
  | { kind: 'list'; label: string | null; items: string[]; ordered: boolean }
  | { kind: 'marker'; text: string }
  | { kind: 'links'; label: string; links: { text: string; url: string }[] };
/** Blocks of one section follow each other line by line in plain text; sections are a blank line apart. */
type Section = Block[];

const text = (text: string): Block => ({ kind: 'text', text });
const field = (label: string, text: string): Block => ({ kind: 'field', label, text });
const list = (label: string | null, items: string[], ordered: boolean): Block => ({
  kind: 'list',
  label,
  items,
  ordered,
});

const MAX_OUTAGE_SUBJECT_CHARS = 120;

/** The note's fixed wording, and how much of the context it may show. */
interface Writer {
  t: NoteLabels;
  forRequester: boolean;
  /** Model text as words only; for a requester also without hosts or addresses. */
  modelText: (text: string) => string;
}

function writerOf(input: NoteInput): Writer {
  const t = NOTE_WORDING[input.enhancement.language].note;
  const forRequester = input.visibility === 'requester';
  return {
    t,
    forRequester,
    modelText: (text) => {
      const plain = plainModelText(text);
      return forRequester ? scrubAddresses(plain, input.context.systems, t.affectedSystem) : plain;
    },
  };
}

const title = (label: string, at: Date): Section => [
  { kind: 'title', text: `${label} (${timestamp(at)})` },
];
const marker = (jobId: string): Section => [{ kind: 'marker', text: jobMarker(jobId) }];

/** Helpful / Not helpful, for the technicians (a requester-visible note has none). */
function feedbackLinks(input: NoteInput, w: Writer): Section[] {
  if (!input.feedback || w.forRequester) return [];
  return [
    [
      {
        kind: 'links',
        label: w.t.feedbackPrompt,
        links: [
          { text: w.t.helpful, url: input.feedback.helpfulUrl },
          { text: w.t.notHelpful, url: input.feedback.notHelpfulUrl },
        ],
      },
    ],
  ];
}

function basis(enhancement: Enhancement, w: Writer): Section {
  if (enhancement.synthesizer === 'llm') return [text(w.t.basisModel)];
  if (enhancement.fallback_reason === null) return [text(w.t.basisOffline)];
  // Why the model failed is an operator's detail (and may name a host): not for a requester.
  return [text(w.t.basisFallback(w.forRequester ? null : enhancement.fallback_reason))];
}

/**
 * Opens a note while similar tickets pile up: how many, and (not for a
 * requester) the most similar of them.
 */
function outage(context: TicketContext, w: Writer): Section[] {
  const outage = context.possible_outage;
  if (!outage) return [];
  const banner = field(
    `⚠️ ${w.t.possibleOutage}`,
    w.t.outageTickets(outage.count, outage.window_minutes),
  );
  if (w.forRequester || outage.tickets.length === 0) return [[banner]];
  const tickets = outage.tickets.map((ticket) => {
    const subject = plainModelText(ticket.subject);
    const shown =
      subject.length > MAX_OUTAGE_SUBJECT_CHARS
        ? `${subject.slice(0, MAX_OUTAGE_SUBJECT_CHARS - 1)}…`
        : subject;
    return `${ticket.display_id ?? ticket.ticket_id} — ${shown}`;
  });
  return [[banner, list(null, tickets, false)]];
}

/**
 * Confident matches first, plainly; the rest (below the retrieval's
 * confident threshold, or not in the context at all) after them, marked.
 * Other tickets' ids are not for a requester's eyes.
 */
function relatedTickets(enhancement: Enhancement, context: TicketContext, w: Writer): Section[] {
  if (w.forRequester) return [];
  const confident = new Set(
    context.similar_tickets.filter((s) => s.confident).map((s) => s.display_id ?? s.ticket_id),
  );
  const sure = enhancement.related_tickets.filter((id) => confident.has(id));
  const possibly = enhancement.related_tickets.filter((id) => !confident.has(id));
  const groups = [
    ...(sure.length ? [sure.join(', ')] : []),
    ...(possibly.length ? [`${w.t.possiblyRelated} ${possibly.join(', ')}`] : []),
  ];
  return [[field(w.t.relatedTickets, groups.length ? groups.join(' — ') : w.t.noneFound)]];
}

function confidence(enhancement: Enhancement, w: Writer): Section[] {
  if (enhancement.confidence === null) return [];
  return [[field(w.t.confidence, formatPercent(enhancement.language, enhancement.confidence))]];
}

function causeAndActions(enhancement: Enhancement, w: Writer): Section {
  return [
    field(w.t.likelyCause, w.modelText(enhancement.likely_cause)),
    list(w.t.suggestedActions, enhancement.suggested_actions.map(w.modelText), true),
  ];
}

/** The runbook's step 5.4 note. */
function enhancementNote(input: NoteInput): Section[] {
  const { enhancement, context } = input;
  const w = writerOf(input);
  return [
    title(w.t.title, input.at),
    ...outage(context, w),
    basis(enhancement, w),
    causeAndActions(enhancement, w),
    ...relatedTickets(enhancement, context, w),
    ...confidence(enhancement, w),
    ...feedbackLinks(input, w),
    marker(input.jobId),
  ];
}

function lowConfidenceNote(input: NoteInput): Section[] {
  const { enhancement, context } = input;
  const w = writerOf(input);
  const language = enhancement.language;
  const down = [...new Set(context.degraded.map((d) => d.source))];
  const searched = (input.sources ?? [])
    .filter((s) => !down.includes(s))
    .map((s) => w.t.sources[s]);
  const unavailable = down.map((s) => w.t.sources[s]);
  return [
    title(w.t.lowConfidenceTitle, input.at),
    ...outage(context, w),
    [
      text(w.t.nothingConfident),
      ...(searched.length ? [text(w.t.searched(joinList(language, searched)))] : []),
      ...(unavailable.length ? [text(w.t.unavailable(joinList(language, unavailable)))] : []),
    ],
    // What the offline synthesizer asks for when it has nothing: the details that would help.
    [list(w.t.suggestedActions, [...NOTE_WORDING[language].offline.noContextActions], true)],
    ...confidence(enhancement, w),
    ...feedbackLinks(input, w),
    marker(input.jobId),
  ];
}

function followUpNote(input: NoteInput): Section[] {
  const w = writerOf(input);
  return [
    title(w.t.followUpTitle, input.at),
    ...outage(input.context, w),
    causeAndActions(input.enhancement, w),
    ...confidence(input.enhancement, w),
    ...feedbackLinks(input, w),
    marker(input.jobId),
  ];
}

function asMarkdown(sections: Section[]): string {
  const block = (b: Block): string => {
    switch (b.kind) {
      case 'title':
        return `**${escapeMarkdown(b.text)}**`;
      case 'text':
      case 'marker':
        return escapeMarkdown(b.text);
      case 'links':
        // Our own URLs (base64url token, no markdown syntax), the link text escaped.
        return `**${escapeMarkdown(b.label)}** ${b.links
          .map((l) => `[${escapeMarkdown(l.text)}](<${l.url}>)`)
          .join(' · ')}`;
      case 'field':
        return `**${escapeMarkdown(b.label)}** ${escapeMarkdown(b.text)}`;
      case 'list': {
        const items = b.items.map(
          (item, i) => `${b.ordered ? `${i + 1}.` : '-'} ${escapeMarkdown(item)}`,
        );
        return [...(b.label ? [`**${escapeMarkdown(b.label)}**`, ''] : []), ...items].join('\n');
      }
    }
  };
  // Markdown needs a blank line between blocks, whatever their section.
  return sections.flat().map(block).join('\n\n');
}

function asHtml(sections: Section[]): string {
  const block = (b: Block): string => {
    switch (b.kind) {
      case 'title':
        return `<p><b>${escapeHtml(b.text)}</b></p>`;
      case 'text':
        return `<p>${escapeHtml(b.text)}</p>`;
      case 'field':
        return `<p><b>${escapeHtml(b.label)}</b> ${escapeHtml(b.text)}</p>`;
      case 'list': {
        const tag = b.ordered ? 'ol' : 'ul';
        const items = b.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('');
        return `${b.label ? `<p><b>${escapeHtml(b.label)}</b></p>` : ''}<${tag}>${items}</${tag}>`;
      }
      case 'marker':
        return `<p><small>${escapeHtml(b.text)}</small></p>`;
      case 'links':
        return `<p><b>${escapeHtml(b.label)}</b> ${b.links
          .map((l) => `<a href="${escapeHtml(l.url)}">${escapeHtml(l.text)}</a>`)
          .join(' · ')}</p>`;
    }
  };
  return `<div>${sections.flat().map(block).join('')}</div>`;
}

function asPlain(sections: Section[]): string {
  const lines = (b: Block): string[] => {
    switch (b.kind) {
      case 'title':
      case 'text':
      case 'marker':
        return [b.text];
      case 'field':
        return [`${b.label} ${b.text}`];
      case 'links':
        return [b.label, ...b.links.map((l) => `${l.text}: ${l.url}`)];
      case 'list':
        return [
          ...(b.label ? [b.label] : []),
          ...b.items.map((item, i) => `${b.ordered ? `${i + 1}.` : '-'} ${item}`),
        ];
    }
  };
  const all = sections
    .map((section) => section.flatMap(lines))
    .flatMap((sectionLines, i) => (i ? ['', ...sectionLines] : sectionLines));
  return all.map(escapeHtml).join('<br>\n');
}

/** The note as the HTML SDP displays, in the tenant's output format. */
function render(sections: Section[], input: NoteInput): string {
  const format = input.format;
  let html: string;
  switch (format) {
    case 'markdown':
      html = `<div>${markdown.render(asMarkdown(sections))}</div>`;
      break;
    case 'html':
      html = asHtml(sections);
      break;
    case 'plain':
      html = asPlain(sections);
      break;
  }
  return sanitizeHtml(html, sanitizeOptions(input.feedback?.base)).trim();
}

/** The runbook's step 5.4 note, opened by a possible-outage banner when there is one. */
export function renderNote(input: NoteInput): string {
  return render(enhancementNote(input), input);
}

/**
 * Instead of the enhancement when its confidence is below the tenant's
 * `min_confidence` (`low_confidence_action: note`): says nothing confident
 * was found, what was searched (pass `sources`), and which details would help.
 */
export function renderLowConfidenceNote(input: NoteInput): string {
  return render(lowConfidenceNote(input), input);
}

/** The short note added after a ticket update (`on_update: new_note`): the new cause and actions. */
export function renderFollowUpNote(input: NoteInput): string {
  return render(followUpNote(input), input);
}

export type NoteKind = 'enhancement' | 'low_confidence' | 'follow_up';
const RENDERERS: Record<NoteKind, (input: NoteInput) => string> = {
  enhancement: renderNote,
  low_confidence: renderLowConfidenceNote,
  follow_up: renderFollowUpNote,
};

/**
 * The note to post, or a dead letter with the reason: a note that cannot be
 * rendered (or sanitises to nothing) never reaches the ticket half-built.
 */
export function noteToPost(kind: NoteKind, input: NoteInput): string {
  let html: string;
  try {
    html = RENDERERS[kind](input);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StageError('invalid_message', `the ${kind} note could not be rendered: ${reason}`);
  }
  if (!html.includes(jobMarker(input.jobId))) {
    throw new StageError('invalid_message', `the ${kind} note lost its content in sanitising`);
  }
  return html;
}
