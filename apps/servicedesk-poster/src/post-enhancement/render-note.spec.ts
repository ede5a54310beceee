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
  it('renders markdown as HTML: bold labels, a numbered list, no markdown left', () => {
    const note = renderNote(enhancement, 'markdown', jobId, at);
    expect(note).toContain('<strong>Likely Cause:</strong> Database connection pool exhaustion');
    expect(note).toMatch(
      /<ol>\s*<li>Check active connections: SELECT count\(\*\) FROM pg_stat_activity;<\/li>\s*<li>Raise the pool &lt;max&gt;<\/li>\s*<\/ol>/,
    );
    expect(note).toContain('<strong>Related Tickets:</strong> TKT-10203, TKT-11405');
    expect(note).toContain('<strong>Confidence:</strong> 85%');
    expect(note).toContain(jobMarker(jobId));
    expect(note).not.toMatch(/\*\*|`|(^|>)\s*#/);
  });

  it.each(['markdown', 'html', 'plain'] as const)(
    '%s: the model cannot inject markup, scripts or links, and its own markdown is not shown raw',
    (format) => {
      const hostile = {
        ...enhancement,
        likely_cause:
          '**Pool** exhausted <script>alert(1)</script><img src=x onerror=alert(2)> [click](https://evil.example) `x`',
        suggested_actions: ['## Restart <b onclick="x()">now</b>', 'Set `max_connections` to 200'],
      };
      const note = renderNote(hostile, format, jobId, at);
      expect(note).not.toMatch(/<script|<img|onerror|onclick|<a |href|evil\.example/i);
      expect(note).not.toMatch(/\*\*|`|##/);
      expect(note).toContain('Pool exhausted');
      expect(note).toContain('Set max_connections to 200');
    },
  );

  it('renders plain text escaped, one line per line', () => {
    const note = renderNote(enhancement, 'plain', jobId, at);
    expect(note.split('<br />\n')).toEqual([
      '🤖 AI-Generated Enhancement (2025-11-03 10:35:00 UTC)',
      '',
      'Based on ticket history and knowledge base:',
      '',
      'Likely Cause: Database connection pool exhaustion',
      'Suggested Actions:',
      '1. Check active connections: SELECT count(*) FROM pg_stat_activity;',
      '2. Raise the pool &lt;max&gt;',
      '',
      'Related Tickets: TKT-10203, TKT-11405',
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
