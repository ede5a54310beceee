import type { Enhancement, NoteLanguage, TicketContext } from '@tep/contracts';
import { NOTE_WORDING } from '@tep/enhancement-synthesis';
import {
  noteToPost,
  jobMarker,
  renderFollowUpNote,
  renderLowConfidenceNote,
  renderNote,
  type NoteInput,
} from './render-note';

const enhancement: Enhancement = {
  likely_cause: 'Database connection pool exhaustion',
  suggested_actions: [
    'Check active connections: SELECT count(*) FROM pg_stat_activity;',
    'Raise the pool <max>',
  ],
  related_tickets: ['TKT-10203', 'TKT-11405'],
  confidence: 0.85,
  synthesizer: 'llm',
  language: 'en',
  model: 'openai/gpt-4o-mini',
  fallback_reason: null,
  usage: null,
};

const similar = (
  id: string,
  confident: boolean,
  displayId: string | null = id,
): TicketContext['similar_tickets'][number] => ({
  ticket_id: displayId === id ? `db-${id}` : id,
  display_id: displayId,
  subject: `Subject of ${id}`,
  resolution: `Resolution of ${id}`,
  score: confident ? 0.7 : 0.3,
  match: 'full_text',
  confident,
});

const context: TicketContext = {
  similar_tickets: [similar('TKT-10203', true), similar('TKT-11405', true)],
  kb_articles: [],
  systems: [
    {
      hostname: 'db01',
      ip_address: '10.0.0.7',
      service_name: 'postgresql',
      status: 'degraded',
      matched_on: 'hostname',
    },
  ],
  degraded: [],
  language: 'en',
  possible_outage: null,
  update_of: null,
};

const outage: NonNullable<TicketContext['possible_outage']> = {
  window_minutes: 60,
  count: 3,
  tickets: [
    { ticket_id: '9101', display_id: 'REQ-9101', subject: 'Billing app **times out**' },
    { ticket_id: '9102', display_id: null, subject: 'Cannot save invoices' },
    { ticket_id: '9103', display_id: 'REQ-9103', subject: 'Billing <b>slow</b>' },
  ],
};

const at = new Date('2025-11-03T10:35:00Z');
const jobId = '0b8f4c2e-1d2a-8c3b-9a4d-5e6f7a8b9c0d';
const FORMATS = ['markdown', 'html', 'plain'] as const;
const LANGUAGES = ['en', 'de', 'fr', 'es', 'nl'] as const;

const input = (overrides: Partial<NoteInput> = {}): NoteInput => ({
  enhancement,
  context,
  format: 'markdown',
  visibility: 'technicians',
  jobId,
  at,
  ...overrides,
});
const inLanguage = (language: NoteLanguage, overrides: Partial<NoteInput> = {}) =>
  input({ ...overrides, enhancement: { ...(overrides.enhancement ?? enhancement), language } });

/** Roughly what a person sees of the note's HTML: its lines of text, entities decoded. */
function visibleLines(html: string): string[] {
  return html
    .replace(/<br\s*\/?>/g, '\n')
    .replace(/<\/(p|li|ol|ul|div)>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}
const visible = (html: string) => visibleLines(html).join('\n');

/** No markup syntax, entity or tag shown as text. */
function expectClean(html: string): void {
  const text = visible(html);
  expect(text).not.toMatch(/\*\*|`|(^|\n)\s*#|&[a-z]+;|&#\d+;/i);
  // `<max>` is the model's placeholder and reads as written; a tag would not.
  expect(text).not.toMatch(/<\/?(b|strong|em|p|br|div|small|ol|ul|li|script|img|a)\b[^>]*>/i);
}

const ENGLISH_LABELS = [
  'AI-Generated Enhancement',
  'Based on',
  'Likely Cause',
  'Suggested Actions',
  'Related Tickets',
  'Confidence',
  'possibly related',
  'none found',
  'Possible outage',
  'No confident suggestion',
  'Update to the AI enhancement',
];

describe('renderNote', () => {
  it('renders markdown as HTML: bold labels, a numbered list, no markdown left', () => {
    const note = renderNote(input());
    expect(note).toContain('<strong>Likely Cause:</strong> Database connection pool exhaustion');
    expect(note).toMatch(
      /<ol>\s*<li>Check active connections: SELECT count\(\*\) FROM pg_stat_activity;<\/li>\s*<li>Raise the pool &lt;max&gt;<\/li>\s*<\/ol>/,
    );
    expect(note).toContain('<strong>Related Tickets:</strong> TKT-10203, TKT-11405');
    expect(note).toContain('<strong>Confidence:</strong> 85%');
    expect(note).toContain(jobMarker(jobId));
    expect(note).not.toMatch(/\*\*|`|(^|>)\s*#/);
  });

  it.each(FORMATS)(
    '%s: the model cannot inject markup, scripts or links, and its own markdown is not shown raw',
    (format) => {
      const hostile = {
        ...enhancement,
        likely_cause:
          '**Pool** exhausted <script>alert(1)</script><img src=x onerror=alert(2)> [click](https://evil.example) `x`',
        suggested_actions: ['## Restart <b onclick="x()">now</b>', 'Set `max_connections` to 200'],
      };
      const note = renderNote(input({ enhancement: hostile, format }));
      expect(note).not.toMatch(/<script|<img|onerror|onclick|<a |href|evil\.example/i);
      expect(note).not.toMatch(/\*\*|`|##/);
      expect(note).toContain('Pool exhausted');
      expect(note).toContain('Set max_connections to 200');
    },
  );

  it('renders plain text escaped, one line per line', () => {
    const note = renderNote(input({ format: 'plain' }));
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
    const note = renderNote(
      input({ enhancement: { ...enhancement, confidence: null }, format: 'html' }),
    );
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
    const note = renderNote(input({ enhancement: offline, format: 'plain' }));
    expect(note).toContain(
      'Based on retrieved context only, without the AI model (LLM provider unavailable: timeout after 30000 ms):',
    );
    expect(note).not.toContain('**');
    expect(renderNote(input({ enhancement: { ...offline, fallback_reason: null } }))).toContain(
      'Based on retrieved context only (ticket history, knowledge base and inventory; no AI model configured):',
    );
  });

  describe('in the ticket language', () => {
    it.each(FORMATS)('%s: a German note has German labels and no English ones', (format) => {
      const lines = visibleLines(renderNote(inLanguage('de', { format })));
      expect(lines[0]).toBe('🤖 KI-generierte Ergänzung (2025-11-03 10:35:00 UTC)');
      expect(lines).toContain('Auf Grundlage der Ticket-Historie und der Wissensdatenbank:');
      expect(lines).toContain('Wahrscheinliche Ursache: Database connection pool exhaustion');
      expect(lines).toContain('Empfohlene Maßnahmen:');
      expect(lines).toContain('Verwandte Tickets: TKT-10203, TKT-11405');
      expect(lines).toContain('Konfidenz: 85\u00a0%');
      // Redelivery finds the note by this line: never translated.
      expect(lines.at(-1)).toBe(`Enhancement ref: ${jobId}`);
      const text = lines.slice(0, -1).join('\n');
      for (const english of ENGLISH_LABELS) expect(text).not.toContain(english);
    });

    it.each([
      [
        'fr',
        [
          'Cause probable\u00a0:',
          'Actions suggérées\u00a0:',
          'Tickets associés\u00a0:',
          'Confiance\u00a0:',
        ],
      ],
      ['es', ['Causa probable:', 'Acciones sugeridas:', 'Tickets relacionados:', 'Confianza:']],
      [
        'nl',
        [
          'Waarschijnlijke oorzaak:',
          'Voorgestelde acties:',
          'Gerelateerde tickets:',
          'Betrouwbaarheid:',
        ],
      ],
    ] as const)('%s: labels are translated', (language, labels) => {
      for (const format of FORMATS) {
        const note = renderNote(inLanguage(language, { format }));
        const text = visible(note);
        for (const label of labels) expect(text).toContain(label);
        for (const english of ENGLISH_LABELS) expect(text).not.toContain(english);
        expect(text).toContain(jobMarker(jobId));
        expectClean(note);
      }
    });

    it('writes the confidence as the language does', () => {
      const confidenceLine = (language: NoteLanguage) =>
        visibleLines(renderNote(inLanguage(language))).find((l) => /\d/.test(l) && /%/.test(l));
      expect(confidenceLine('en')).toBe('Confidence: 85%');
      expect(confidenceLine('fr')).toMatch(/^Confiance\u00a0: 85\s%$/);
      expect(confidenceLine('nl')).toBe('Betrouwbaarheid: 85%');
    });
  });

  describe('related tickets', () => {
    const mixed: TicketContext = {
      ...context,
      similar_tickets: [
        similar('REQ-1', false),
        similar('REQ-2', true),
        similar('9003', true, null),
        similar('REQ-4', false),
      ],
    };
    const relatedLine = (e: Partial<Enhancement>, ctx = mixed, language: NoteLanguage = 'en') =>
      visibleLines(
        renderNote(inLanguage(language, { enhancement: { ...enhancement, ...e }, context: ctx })),
      ).find((l) => l.startsWith(NOTE_WORDING[language].note.relatedTickets));

    it('lists confident matches plainly, then the others marked as possibly related, each in order', () => {
      expect(relatedLine({ related_tickets: ['REQ-1', 'REQ-2', 'REQ-4', '9003'] })).toBe(
        'Related Tickets: REQ-2, 9003 — possibly related: REQ-1, REQ-4',
      );
    });

    it('marks ids it cannot match, or only weak matches, as possibly related', () => {
      expect(relatedLine({ related_tickets: ['REQ-4', 'TKT-404'] })).toBe(
        'Related Tickets: possibly related: REQ-4, TKT-404',
      );
      expect(relatedLine({ related_tickets: ['REQ-1'] }, mixed, 'de')).toBe(
        'Verwandte Tickets: möglicherweise verwandt: REQ-1',
      );
    });

    it('says none were found, in the language', () => {
      expect(relatedLine({ related_tickets: [] })).toBe('Related Tickets: none found');
      expect(relatedLine({ related_tickets: [] }, mixed, 'es')).toBe(
        'Tickets relacionados: ninguno encontrado',
      );
    });
  });

  describe('possible outage', () => {
    it.each(FORMATS)('%s: the note opens with the banner and the open tickets', (format) => {
      const note = renderNote(input({ format, context: { ...context, possible_outage: outage } }));
      const lines = visibleLines(note).map((l) => l.replace(/^- /, ''));
      expect(lines.slice(1, 5)).toEqual([
        '⚠️ Possible outage: 3 similar open tickets in the last hour',
        'REQ-9101 — Billing app times out',
        '9102 — Cannot save invoices',
        'REQ-9103 — Billing slow',
      ]);
      expect(lines[5]).toBe('Based on ticket history and knowledge base:');
      expectClean(note);
      if (format !== 'plain') expect(note).toMatch(/<ul>\s*<li>REQ-9101/);
    });

    it.each([
      ['en', 30, 'Possible outage: 3 similar open tickets in the last 30 minutes'],
      ['en', 120, 'Possible outage: 3 similar open tickets in the last 2 hours'],
      ['de', 60, 'Mögliche Störung: 3 ähnliche offene Tickets in der letzten Stunde'],
      ['de', 45, 'Mögliche Störung: 3 ähnliche offene Tickets in den letzten 45 Minuten'],
      [
        'fr',
        60,
        'Panne possible\u00a0: 3 tickets ouverts similaires au cours de la dernière heure',
      ],
      [
        'es',
        180,
        'Posible caída del servicio: 3 tickets abiertos similares en las últimas 3 horas',
      ],
      ['nl', 60, 'Mogelijke storing: 3 vergelijkbare open tickets in het afgelopen uur'],
    ] as const)('%s, %i minutes: %s', (language, window_minutes, banner) => {
      const lines = visibleLines(
        renderNote(
          inLanguage(language, {
            context: { ...context, possible_outage: { ...outage, window_minutes } },
          }),
        ),
      );
      expect(lines[1]).toBe(`⚠️ ${banner}`);
    });

    it('counts one ticket in the singular', () => {
      const one = { window_minutes: 60, count: 1, tickets: outage.tickets.slice(0, 1) };
      const lines = visibleLines(
        renderNote(input({ context: { ...context, possible_outage: one } })),
      );
      expect(lines[1]).toBe('⚠️ Possible outage: 1 similar open ticket in the last hour');
    });

    it('says how many there are, listing the most similar it was given', () => {
      const many = { ...outage, count: 42 };
      const lines = visibleLines(
        renderNote(input({ format: 'plain', context: { ...context, possible_outage: many } })),
      );
      expect(lines[1]).toBe('⚠️ Possible outage: 42 similar open tickets in the last hour');
      expect(lines.slice(2, 5)).toEqual([
        '- REQ-9101 — Billing app times out',
        '- 9102 — Cannot save invoices',
        '- REQ-9103 — Billing slow',
      ]);
    });
  });

  describe('for the requester', () => {
    const leaky: Enhancement = {
      ...enhancement,
      likely_cause:
        'Pool exhaustion on db01 (10.0.0.7), the same as TKT-10203; db01.acme.local logs show it.',
      suggested_actions: [
        'Restart postgresql on db01',
        'Check the VIP at 2001:db8::7 and https://monitor.acme.local/d/1',
      ],
    };
    const requesterInput = (overrides: Partial<NoteInput> = {}) =>
      input({
        enhancement: leaky,
        visibility: 'requester',
        context: { ...context, possible_outage: outage },
        ...overrides,
      });

    it.each(FORMATS)(
      '%s: no other ticket, no host, no address, no outage subjects, no failure detail',
      (format) => {
        const note = renderNote(requesterInput({ format }));
        const text = visible(note);
        for (const secret of [
          'db01',
          '10.0.0.7',
          '2001:db8',
          'acme.local',
          'Related Tickets',
          'TKT-11405',
          'REQ-9101',
          'Billing',
          'Cannot save',
        ]) {
          expect(text).not.toContain(secret);
        }
        expect(text).toContain('⚠️ Possible outage: 3 similar open tickets in the last hour');
        expect(text).toContain(
          'Likely Cause: Pool exhaustion on the affected system, the same as TKT-10203; the affected system logs show it.',
        );
        expect(text).toContain('Restart postgresql on the affected system');
        expect(text).toContain('Check the VIP at the affected system and the affected system');
        expect(text).toContain(jobMarker(jobId));
        expectClean(note);
      },
    );

    it('says the neutral words in the note language and leaves out why the model failed', () => {
      const offline: Enhancement = {
        ...leaky,
        language: 'de',
        synthesizer: 'offline',
        fallback_reason: 'LLM provider unavailable: connect ECONNREFUSED 10.9.9.9:11434',
      };
      const text = visible(renderNote(requesterInput({ enhancement: offline })));
      expect(text).toContain('Restart postgresql on das betroffene System');
      expect(text).toContain('Nur auf Grundlage des abgerufenen Kontexts, ohne das KI-Modell:');
      expect(text).not.toContain('10.9.9.9');
      expect(text).not.toContain('ECONNREFUSED');
    });
  });
});

describe('renderLowConfidenceNote', () => {
  const weak = { ...enhancement, confidence: 0.2 };
  const kbDown: TicketContext = {
    ...context,
    degraded: [{ source: 'kb', reason: 'timeout after 2000 ms at kb.acme.local' }],
  };

  it.each(FORMATS)(
    '%s: says nothing confident was found, what was searched, what to gather',
    (format) => {
      const note = renderLowConfidenceNote(
        input({
          enhancement: weak,
          context: kbDown,
          format,
          sources: ['ticket_history', 'kb', 'monitoring'],
        }),
      );
      const lines = visibleLines(note).map((l) => l.replace(/^\d+\. /, ''));
      expect(lines).toEqual([
        '🤖 No confident suggestion (2025-11-03 10:35:00 UTC)',
        'Nothing similar enough was found, or the evidence was too weak to suggest a likely cause.',
        'Searched: ticket history and system inventory.',
        'Unavailable: knowledge base.',
        'Suggested Actions:',
        ...NOTE_WORDING.en.offline.noContextActions,
        'Confidence: 20%',
        jobMarker(jobId),
      ]);
      expectClean(note);
      // The model's weak guess is not offered, and the failure's detail stays out.
      expect(note).not.toContain('pool exhaustion');
      expect(note).not.toContain('kb.acme.local');
    },
  );

  it('is written in the note language, marker unchanged', () => {
    for (const format of FORMATS) {
      const note = renderLowConfidenceNote(
        inLanguage('de', { enhancement: weak, format, sources: ['ticket_history', 'kb'] }),
      );
      const lines = visibleLines(note).map((l) => l.replace(/^\d+\. /, ''));
      expect(lines[0]).toBe('🤖 Kein verlässlicher Vorschlag (2025-11-03 10:35:00 UTC)');
      expect(lines).toContain('Durchsucht: Ticket-Historie und Wissensdatenbank.');
      expect(lines).toContain(NOTE_WORDING.de.offline.noContextActions[0]);
      expect(lines.at(-1)).toBe(jobMarker(jobId));
      for (const english of ENGLISH_LABELS) expect(lines.join('\n')).not.toContain(english);
      expectClean(note);
    }
  });

  it('without the tenant sources, names only what was unavailable', () => {
    const text = visible(renderLowConfidenceNote(input({ enhancement: weak, context: kbDown })));
    expect(text).not.toContain('Searched');
    expect(text).toContain('Unavailable: knowledge base.');
  });

  it('still opens with a possible outage', () => {
    const lines = visibleLines(
      renderLowConfidenceNote(
        input({ enhancement: weak, context: { ...context, possible_outage: outage } }),
      ),
    );
    expect(lines[1]).toBe('⚠️ Possible outage: 3 similar open tickets in the last hour');
  });
});

describe('renderFollowUpNote', () => {
  const updated: Enhancement = {
    ...enhancement,
    likely_cause: 'The **new** error points at an expired certificate',
    suggested_actions: ['Renew the certificate on db01', 'Restart the `billing` service'],
  };

  it.each(FORMATS)('%s: the new cause and actions, with the marker', (format) => {
    const note = renderFollowUpNote(input({ enhancement: updated, format }));
    const lines = visibleLines(note).map((l) => l.replace(/^\d+\. /, ''));
    expect(lines).toEqual([
      '🤖 Update to the AI enhancement (2025-11-03 10:35:00 UTC)',
      'Likely Cause: The new error points at an expired certificate',
      'Suggested Actions:',
      'Renew the certificate on db01',
      'Restart the billing service',
      'Confidence: 85%',
      jobMarker(jobId),
    ]);
    expectClean(note);
  });

  it.each(LANGUAGES.filter((l) => l !== 'en'))('%s: translated', (language) => {
    const note = renderFollowUpNote(inLanguage(language, { enhancement: updated, format: 'html' }));
    const t = NOTE_WORDING[language].note;
    expect(note).toContain(t.followUpTitle);
    expect(note).toContain(`<b>${t.likelyCause}</b>`);
    expect(note).toContain(jobMarker(jobId));
    for (const english of ENGLISH_LABELS) expect(visible(note)).not.toContain(english);
  });

  it('scrubs hosts for the requester', () => {
    const text = visible(
      renderFollowUpNote(input({ enhancement: updated, visibility: 'requester', format: 'plain' })),
    );
    expect(text).toContain('Renew the certificate on the affected system');
    expect(text).not.toContain('db01');
  });
});

describe('every note, format and language', () => {
  const kinds = { renderNote, renderLowConfidenceNote, renderFollowUpNote };
  it.each(Object.keys(kinds) as (keyof typeof kinds)[])(
    '%s shows no markup syntax and ends with the untranslated marker',
    (kind) => {
      for (const language of LANGUAGES) {
        for (const format of FORMATS) {
          for (const visibility of ['technicians', 'requester'] as const) {
            const note = kinds[kind](
              inLanguage(language, {
                format,
                visibility,
                context: { ...context, possible_outage: outage },
                enhancement: { ...enhancement, suggested_actions: ['Raise the pool size'] },
                sources: ['ticket_history'],
              }),
            );
            expectClean(note);
            expect(visibleLines(note).at(-1)).toBe(jobMarker(jobId));
          }
        }
      }
    },
  );
});

describe('noteToPost', () => {
  it('returns the note of each kind, marker included', () => {
    for (const kind of ['enhancement', 'low_confidence', 'follow_up'] as const) {
      expect(noteToPost(kind, input())).toContain(`Enhancement ref: ${jobId}`);
    }
  });

  it('turns a note that cannot be rendered into a dead letter with the reason', () => {
    const broken = input({
      enhancement: { ...enhancement, suggested_actions: undefined as unknown as string[] },
    });
    expect(() => noteToPost('enhancement', broken)).toThrow(
      expect.objectContaining({
        code: 'invalid_message',
        message: expect.stringMatching(/^the enhancement note could not be rendered: /),
      }),
    );
  });
});
