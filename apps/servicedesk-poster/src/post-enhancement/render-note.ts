import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import type { Enhancement, EnhancementPreferences } from '@tep/contracts';

/** Every note carries this line; a redelivered job finds it and posts nothing. */
export const jobMarker = (jobId: string) => `Enhancement ref: ${jobId}`;

/**
 * SDP shows a note's description as HTML, so every output format ends as
 * HTML a technician reads cleanly: `markdown` is authored as markdown and
 * rendered by markdown-it, `html` is built as HTML, `plain` is escaped text
 * with line breaks. The model's text is untrusted: it is escaped (never
 * interpreted as markdown or HTML), and the result passes an allow-list
 * sanitiser, so no markup, script or link of the model's reaches the ticket.
 */

// Raw HTML in the source is shown as text, never passed through.
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: ['div', 'p', 'br', 'b', 'strong', 'em', 'ol', 'ul', 'li', 'small', 'h3', 'h4'],
  allowedAttributes: {},
  disallowedTagsMode: 'escape',
};

const escapeHtml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** Model text as literal markdown text: no emphasis, links, headings or code of its own. */
const escapeMarkdown = (text: string) =>
  text.replace(/\s+/g, ' ').replace(/([\\`*_{}[\]()#+\-.!|<>~=:])/g, '\\$1');

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

function basis(enhancement: Enhancement): string {
  if (enhancement.synthesizer === 'llm') return 'Based on ticket history and knowledge base:';
  return enhancement.fallback_reason
    ? `Based on retrieved context only, without the AI model (${enhancement.fallback_reason}):`
    : 'Based on retrieved context only (ticket history, knowledge base and inventory; no AI model configured):';
}

/** What a note says, before it is put in a format. */
interface NoteContent {
  title: string;
  basis: string;
  likelyCause: string;
  actions: string[];
  related: string;
  confidence: string | null;
  marker: string;
}

function contentOf(enhancement: Enhancement, jobId: string, at: Date): NoteContent {
  return {
    title: `🤖 AI-Generated Enhancement (${timestamp(at)})`,
    basis: basis(enhancement),
    likelyCause: plainModelText(enhancement.likely_cause),
    actions: enhancement.suggested_actions.map(plainModelText),
    related: enhancement.related_tickets.length
      ? enhancement.related_tickets.join(', ')
      : 'none found',
    confidence:
      enhancement.confidence === null ? null : `${Math.round(enhancement.confidence * 100)}%`,
    marker: jobMarker(jobId),
  };
}

function asMarkdown(c: NoteContent): string {
  const lines = [
    `**${escapeMarkdown(c.title)}**`,
    '',
    escapeMarkdown(c.basis),
    '',
    `**Likely Cause:** ${escapeMarkdown(c.likelyCause)}`,
    '',
    '**Suggested Actions:**',
    '',
    ...c.actions.map((a, i) => `${i + 1}. ${escapeMarkdown(a)}`),
    '',
    `**Related Tickets:** ${escapeMarkdown(c.related)}`,
    ...(c.confidence ? ['', `**Confidence:** ${escapeMarkdown(c.confidence)}`] : []),
    '',
    escapeMarkdown(c.marker),
  ];
  return lines.join('\n');
}

function asHtml(c: NoteContent): string {
  return [
    `<div><p><b>${escapeHtml(c.title)}</b></p>`,
    `<p>${escapeHtml(c.basis)}</p>`,
    `<p><b>Likely Cause:</b> ${escapeHtml(c.likelyCause)}</p>`,
    `<p><b>Suggested Actions:</b></p><ol>${c.actions.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ol>`,
    `<p><b>Related Tickets:</b> ${escapeHtml(c.related)}</p>`,
    c.confidence ? `<p><b>Confidence:</b> ${escapeHtml(c.confidence)}</p>` : '',
    `<p><small>${escapeHtml(c.marker)}</small></p></div>`,
  ].join('');
}

function asPlain(c: NoteContent): string {
  const lines = [
    c.title,
    '',
    c.basis,
    '',
    `Likely Cause: ${c.likelyCause}`,
    'Suggested Actions:',
    ...c.actions.map((a, i) => `${i + 1}. ${a}`),
    '',
    `Related Tickets: ${c.related}`,
    ...(c.confidence ? ['', `Confidence: ${c.confidence}`] : []),
    '',
    c.marker,
  ];
  return lines.map(escapeHtml).join('<br>\n');
}

/** The runbook's step 5.4 note as the HTML SDP displays, in the tenant's output format. */
export function renderNote(
  enhancement: Enhancement,
  format: EnhancementPreferences['output_format'],
  jobId: string,
  at: Date,
): string {
  const content = contentOf(enhancement, jobId, at);
  let html: string;
  switch (format) {
    case 'markdown':
      html = `<div>${markdown.render(asMarkdown(content))}</div>`;
      break;
    case 'html':
      html = asHtml(content);
      break;
    case 'plain':
      html = asPlain(content);
      break;
  }
  return sanitizeHtml(html, SANITIZE).trim();
}
