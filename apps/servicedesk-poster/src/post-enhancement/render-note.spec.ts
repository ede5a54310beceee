import type { Enhancement } from '@tep/contracts';
import { jobMarker, renderNote } from './render-note';

const enhancement: Enhancement = {
  likely_cause: 'Database connection pool exhaustion',
  suggested_actions: [
    'Check active connections: SELECT count(*) FROM pg_stat_activity;',
    'Raise the pool <max>',
  ],
  related_tickets: ['TKT-10203', 'TKT-11405'],
  confidence: 0.85,
  synthesizer: 'llm',
  model: 'openai/gpt-4o-mini',
  fallback_reason: null,
  usage: null,
};
const at = new Date('2025-11-03T10:35:00Z');
const jobId = '0b8f4c2e-1d2a-8c3b-9a4d-5e6f7a8b9c0d';

describe('renderNote', () => {
  it('renders the runbook shape in markdown, escaped for an HTML note', () => {
    const note = renderNote(enhancement, 'markdown', jobId, at);
    expect(note.split('<br>\n')).toEqual([
      '🤖 AI-Generated Enhancement (2025-11-03 10:35:00 UTC)',
      '',
      'Based on ticket history and knowledge base:',
      '',
      '**Likely Cause:** Database connection pool exhaustion',
      '**Suggested Actions:**',
      '1. Check active connections: SELECT count(*) FROM pg_stat_activity;',
      '2. Raise the pool &lt;max&gt;',
      '',
      '**Related Tickets:** TKT-10203, TKT-11405',
      '',
      'Confidence: 85%',
      '',
      jobMarker(jobId),
    ]);
  });

  it('renders HTML with an ordered list and no confidence when it is off', () => {
    const note = renderNote({ ...enhancement, confidence: null }, 'html', jobId, at);
    expect(note).toContain('<ol><li>Check active connections');
    expect(note).toContain('<li>Raise the pool &lt;max&gt;</li></ol>');
    expect(note).not.toContain('Confidence');
    expect(note).toContain(jobMarker(jobId));
  });

  it('says when the note is context-only and why', () => {
    const offline = {
      ...enhancement,
      synthesizer: 'offline' as const,
      fallback_reason: 'LLM provider unavailable: timeout after 30000 ms',
    };
    expect(renderNote(offline, 'plain', jobId, at)).toContain(
      'Based on retrieved context only, without the AI model (LLM provider unavailable: timeout after 30000 ms):',
    );
    expect(renderNote(offline, 'plain', jobId, at)).not.toContain('**');
  });
});
