import type { Enhancement, EnhancementPreferences } from '@tep/contracts';

/** Every note carries this line; a redelivered job finds it and posts nothing. */
export const jobMarker = (jobId: string) => `Enhancement ref: ${jobId}`;

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function timestamp(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function basis(enhancement: Enhancement): string {
  if (enhancement.synthesizer === 'llm') return 'Based on ticket history and knowledge base:';
  return enhancement.fallback_reason
    ? `Based on retrieved context only, without the AI model (${enhancement.fallback_reason}):`
    : 'Based on retrieved context only (ticket history, knowledge base and inventory; no AI model configured):';
}

/**
 * The runbook's step 5.4 note, in the tenant's output format. SDP notes are
 * HTML, so markdown and plain text are sent as escaped lines.
 */
export function renderNote(
  enhancement: Enhancement,
  format: EnhancementPreferences['output_format'],
  jobId: string,
  at: Date,
): string {
  const confidence =
    enhancement.confidence === null ? null : `${Math.round(enhancement.confidence * 100)}%`;
  const related = enhancement.related_tickets.length
    ? enhancement.related_tickets.join(', ')
    : 'none found';
  switch (format) {
    case 'html':
      return [
        `<div><p><b>🤖 AI-Generated Enhancement (${timestamp(at)})</b></p>`,
        `<p>${escapeHtml(basis(enhancement))}</p>`,
        `<p><b>Likely Cause:</b> ${escapeHtml(enhancement.likely_cause)}</p>`,
        `<p><b>Suggested Actions:</b></p><ol>${enhancement.suggested_actions.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ol>`,
        `<p><b>Related Tickets:</b> ${escapeHtml(related)}</p>`,
        confidence ? `<p>Confidence: ${confidence}</p>` : '',
        `<p><small>${escapeHtml(jobMarker(jobId))}</small></p></div>`,
      ].join('');
    case 'markdown':
    case 'plain': {
      const bold = (s: string) => (format === 'markdown' ? `**${s}**` : s);
      const lines = [
        `🤖 AI-Generated Enhancement (${timestamp(at)})`,
        '',
        basis(enhancement),
        '',
        `${bold('Likely Cause:')} ${enhancement.likely_cause}`,
        bold('Suggested Actions:'),
        ...enhancement.suggested_actions.map((a, i) => `${i + 1}. ${a}`),
        '',
        `${bold('Related Tickets:')} ${related}`,
        ...(confidence ? ['', `Confidence: ${confidence}`] : []),
        '',
        jobMarker(jobId),
      ];
      return lines.map(escapeHtml).join('<br>\n');
    }
  }
}
