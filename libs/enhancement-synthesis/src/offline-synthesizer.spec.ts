import { EnhancementSchema, type TicketContext } from '@tep/contracts';
import {
  NO_CONTEXT_ACTIONS,
  NO_CONTEXT_CAUSE,
  OfflineSynthesizer,
  offlineConfidence,
  synthesizeOffline,
} from './offline-synthesizer';
import { NOTE_WORDING } from './note-language';
import { context, emptyContext, preferences, synthesisInput } from './testing/fixtures';

const kbDown: TicketContext['degraded'] = [{ source: 'kb', reason: 'timeout after 2000 ms' }];

describe('OfflineSynthesizer', () => {
  it('builds the enhancement from the best resolutions, KB articles and unhealthy systems', async () => {
    const enhancement = await new OfflineSynthesizer().synthesize(synthesisInput());

    expect(enhancement).toEqual({
      likely_cause:
        'Likely the same issue as ticket REQ-4521 ("Outlook disconnected for accounting"), which was resolved by: Restarted the MSExchangeRPC service on exch01 and cleared the Outlook profile cache.',
      suggested_actions: [
        'Apply the resolution of ticket REQ-4521: Restarted the MSExchangeRPC service on exch01 and cleared the Outlook profile cache.',
        // 9002 is below the confident threshold: not offered as a fix.
        'Follow KB article "Troubleshooting Outlook connectivity" (https://kb.example.com/kb-1)',
        'Check MSExchangeRPC on exch01 (10.0.0.5): status degraded',
      ],
      related_tickets: ['REQ-4521', '9002', 'REQ-4390'],
      // The cause cites a confident ticket: 2.75 × 0.62, capped at 0.9 (calibrated: docs/retrieval-quality.md)
      confidence: 0.9,
      synthesizer: 'offline',
      language: 'en',
      model: null,
      fallback_reason: null,
      usage: null,
    });
    expect(EnhancementSchema.parse(enhancement)).toEqual(enhancement);
  });

  it('never presents a weak match as the likely cause: says nothing similar was found', () => {
    const weakOnly: TicketContext = {
      ...emptyContext,
      similar_tickets: context.similar_tickets.map((t) => ({ ...t, confident: false })),
    };
    const enhancement = synthesizeOffline(synthesisInput({ context: weakOnly }));
    expect(enhancement.likely_cause).toMatch(/^Nothing clearly similar was found/);
    expect(enhancement.likely_cause).toContain('possibly related');
    expect(enhancement.likely_cause).not.toMatch(/likely the same issue/i);
    expect(enhancement.suggested_actions[0]).toBe(NO_CONTEXT_ACTIONS[0]);
    expect(enhancement.suggested_actions[1]).toMatch(/^If ticket REQ-4521 .* matches, try its fix/);
    // The recorded related tickets keep their rank order.
    expect(enhancement.related_tickets).toEqual(['REQ-4521', '9002', 'REQ-4390']);
  });

  it('is deterministic', () => {
    expect(synthesizeOffline(synthesisInput())).toEqual(synthesizeOffline(synthesisInput()));
  });

  it('carries the fallback reason its caller gives', async () => {
    const enhancement = await new OfflineSynthesizer().synthesize(
      synthesisInput(),
      undefined,
      'LLM provider unavailable: timeout after 30000 ms',
    );

    expect(enhancement.fallback_reason).toBe('LLM provider unavailable: timeout after 30000 ms');
  });

  it('says plainly when nothing was found', () => {
    const enhancement = synthesizeOffline(synthesisInput({ context: emptyContext }));

    expect(enhancement.likely_cause).toBe(
      'No similar resolved tickets or KB articles were found, and no affected systems are reporting problems.',
    );
    expect(enhancement.likely_cause).toBe(NO_CONTEXT_CAUSE);
    expect(enhancement.suggested_actions).toEqual(NO_CONTEXT_ACTIONS);
    expect(enhancement.related_tickets).toEqual([]);
    expect(enhancement.confidence).toBe(0.05);
    expect(EnhancementSchema.safeParse(enhancement).success).toBe(true);
  });

  it('names unavailable sources when nothing was found', () => {
    const enhancement = synthesizeOffline(
      synthesisInput({ context: { ...emptyContext, degraded: kbDown } }),
    );

    expect(enhancement.likely_cause).toBe(
      `${NO_CONTEXT_CAUSE} Some context sources were unavailable: knowledge base.`,
    );
    expect(enhancement.confidence).toBe(0.04);
  });

  it('falls back to the best KB article when no similar ticket has a resolution', () => {
    const enhancement = synthesizeOffline(
      synthesisInput({
        context: {
          ...context,
          similar_tickets: [context.similar_tickets[2]],
          kb_articles: [
            { ...context.kb_articles[0], score: 0.3 },
            {
              article_id: 'kb-2',
              title: 'Renewing Exchange certificates',
              excerpt: 'Use the Exchange admin center to renew.',
              url: null,
              score: 0.7,
            },
          ],
        },
      }),
    );

    expect(enhancement.likely_cause).toBe(
      'Knowledge base article "Renewing Exchange certificates" matches this ticket: Use the Exchange admin center to renew.',
    );
    expect(enhancement.suggested_actions).toEqual([
      'Follow KB article "Renewing Exchange certificates"',
      'Follow KB article "Troubleshooting Outlook connectivity" (https://kb.example.com/kb-1)',
      'Check MSExchangeRPC on exch01 (10.0.0.5): status degraded',
    ]);
    // A ticket without resolution is still related.
    expect(enhancement.related_tickets).toEqual(['REQ-4390']);
  });

  it('blames unhealthy systems when there is no ticket or KB evidence', () => {
    const enhancement = synthesizeOffline(
      synthesisInput({
        context: {
          ...emptyContext,
          systems: [
            ...context.systems,
            {
              hostname: 'db01',
              ip_address: null,
              service_name: null,
              status: 'down',
              matched_on: 'hostname',
            },
            {
              hostname: 'fs01',
              ip_address: '10.0.0.9',
              service_name: null,
              status: 'unknown',
              matched_on: 'hostname',
            },
          ],
        },
      }),
    );

    expect(enhancement.likely_cause).toBe(
      'Affected systems are reporting problems: exch01 (10.0.0.5) is degraded; db01 is down.',
    );
    expect(enhancement.suggested_actions).toEqual([
      'Check MSExchangeRPC on exch01 (10.0.0.5): status degraded',
      'Check db01: status down',
    ]);
    expect(enhancement.confidence).toBe(0.25);
  });

  it('reports no confidence when the tenant turned it off', () => {
    const enhancement = synthesizeOffline(
      synthesisInput({ preferences: preferences({ include_confidence_score: false }) }),
    );

    expect(enhancement.confidence).toBeNull();
  });

  it('lowers confidence for each unavailable source', () => {
    const full = offlineConfidence(context);
    const oneDown = offlineConfidence({ ...context, degraded: kbDown });
    const twoDown = offlineConfidence({
      ...context,
      degraded: [...kbDown, { source: 'monitoring', reason: 'connection refused' }],
    });

    expect([full, oneDown, twoDown]).toEqual([0.9, 0.72, 0.58]);
  });

  it('grows with the top score and with agreeing sources, capped at 0.9; claims almost nothing without a cause', () => {
    const single = (score: number): TicketContext => ({
      ...emptyContext,
      similar_tickets: [{ ...context.similar_tickets[1], score, confident: score >= 0.2 }],
    });
    const scores = [0.1, 0.15, 0.25, 0.32, 1].map((s) => offlineConfidence(single(s)));
    // Below the confident threshold the note says "nothing clearly similar": 0.05.
    expect(scores).toEqual([0.05, 0.05, 0.69, 0.88, 0.9]);
    // Scores outside 0..1 count as 1.
    expect(offlineConfidence(single(5))).toBe(0.9);

    // A KB article beside the ticket: +0.05.
    const agreeing = offlineConfidence({ ...single(0.25), kb_articles: context.kb_articles });
    expect(agreeing).toBe(0.74);
    const many = {
      ...context,
      similar_tickets: context.similar_tickets.map((t) => ({ ...t, score: 1 })),
      kb_articles: [context.kb_articles[0], { ...context.kb_articles[0], article_id: 'kb-9' }],
    };
    expect(offlineConfidence(many)).toBe(0.9);
  });

  describe("in the ticket's language", () => {
    it.each([
      [
        'de',
        /^Wahrscheinlich dasselbe Problem wie Ticket REQ-4521 \(„Outlook disconnected for accounting“\)/,
      ],
      ['fr', /^Probablement le même problème que le ticket REQ-4521/],
      ['es', /^Probablemente el mismo problema que el ticket REQ-4521/],
      ['nl', /^Waarschijnlijk hetzelfde probleem als ticket REQ-4521/],
    ] as const)('%s: writes its sentences in it and records the language', (language, cause) => {
      const enhancement = synthesizeOffline(synthesisInput({ language }));

      expect(enhancement.language).toBe(language);
      expect(enhancement.likely_cause).toMatch(cause);
      expect(enhancement.suggested_actions).toHaveLength(3);
      for (const english of ['Apply the resolution', 'Follow KB article', 'Check ']) {
        expect(enhancement.suggested_actions.join(' ')).not.toContain(english);
      }
      expect(EnhancementSchema.safeParse(enhancement).success).toBe(true);
    });

    it('writes every fixed sentence in German', () => {
      const weakOnly: TicketContext = {
        ...emptyContext,
        similar_tickets: context.similar_tickets.map((t) => ({ ...t, confident: false })),
      };
      const weak = synthesizeOffline(synthesisInput({ context: weakOnly, language: 'de' }));
      expect(weak.likely_cause).toBe(
        'In den gelösten Tickets dieses Kunden wurde nichts eindeutig Ähnliches gefunden. ' +
          'Die ähnlichsten, möglicherweise verwandten Tickets sind REQ-4521, 9002; ' +
          'vor dem Übernehmen ihrer Lösungen prüfen, ob sie passen.',
      );
      expect(weak.suggested_actions).toEqual([
        NOTE_WORDING.de.offline.noContextActions[0],
        'Falls Ticket REQ-4521 („Outlook disconnected for accounting“) passt, dessen Lösung versuchen: Restarted the MSExchangeRPC service on exch01 and cleared the Outlook profile cache.',
        'Falls Ticket 9002 („Exchange certificate expired“) passt, dessen Lösung versuchen: Renewed the Exchange SSL certificate and restarted IIS.',
      ]);
      const systems = synthesizeOffline(
        synthesisInput({ context: { ...emptyContext, systems: context.systems }, language: 'de' }),
      );
      expect(systems.likely_cause).toBe(
        'Betroffene Systeme melden Probleme: exch01 (10.0.0.5) mit Status degraded.',
      );
      expect(systems.suggested_actions).toEqual([
        'MSExchangeRPC auf exch01 (10.0.0.5) prüfen: Status degraded',
      ]);

      const nothing = synthesizeOffline(
        synthesisInput({
          context: {
            ...emptyContext,
            degraded: [...kbDown, { source: 'monitoring', reason: 'x' }],
          },
          language: 'de',
        }),
      );
      expect(nothing.likely_cause).toBe(
        `${NOTE_WORDING.de.offline.noContextCause} Einige Kontextquellen waren nicht verfügbar: Wissensdatenbank und Systeminventar.`,
      );
      expect(nothing.suggested_actions).toEqual(NOTE_WORDING.de.offline.noContextActions);
    });

    it('keeps the English constants as they were', () => {
      expect(NO_CONTEXT_CAUSE).toBe(
        'No similar resolved tickets or KB articles were found, and no affected systems are reporting problems.',
      );
      expect(NO_CONTEXT_ACTIONS).toEqual([
        'Ask the requester for the exact error message, when the problem started and who is affected.',
        'Check recent changes and monitoring alerts for the systems the ticket mentions.',
      ]);
    });
  });

  describe('for a note the requester sees', () => {
    const forRequester = preferences({ note_visibility: 'requester' });
    const otherTickets = context.similar_tickets.flatMap((t) => [
      t.ticket_id,
      ...(t.display_id ? [t.display_id] : []),
      t.subject,
      ...(t.resolution ? [t.resolution] : []),
    ]);
    const hosts = ['exch01', '10.0.0.5', 'dc01', '10.0.0.2', 'kb.example.com', 'db01.acme.local'];
    const textOf = (e: { likely_cause: string; suggested_actions: string[] }) =>
      [e.likely_cause, ...e.suggested_actions].join('\n');

    it.each(['en', 'de', 'fr', 'es', 'nl'] as const)(
      '%s: names no other ticket, subject, resolution, host or address',
      (language) => {
        const withHostInKb: TicketContext = {
          ...context,
          kb_articles: [
            {
              ...context.kb_articles[0],
              excerpt: 'Check the RPC service on db01.acme.local and autodiscover on 10.0.0.5.',
            },
          ],
        };
        for (const ctx of [context, withHostInKb, { ...context, similar_tickets: [] }]) {
          const enhancement = synthesizeOffline(
            synthesisInput({ context: ctx, preferences: forRequester, language }),
          );
          const text = textOf(enhancement);
          for (const secret of [...otherTickets, ...hosts]) expect(text).not.toContain(secret);
          expect(text).not.toContain('https://');
          expect(EnhancementSchema.safeParse(enhancement).success).toBe(true);
        }
      },
    );

    it('still says what to do, in plain words', () => {
      const enhancement = synthesizeOffline(synthesisInput({ preferences: forRequester }));
      expect(enhancement.likely_cause).toBe(
        'Likely the same issue as a previously resolved ticket from this client.',
      );
      expect(enhancement.suggested_actions).toEqual([
        "Apply the resolution of the most similar resolved ticket in this client's history.",
        'Follow KB article "Troubleshooting Outlook connectivity"',
        'Check MSExchangeRPC on the affected system: status degraded',
      ]);

      const systemsOnly = synthesizeOffline(
        synthesisInput({
          context: { ...emptyContext, systems: context.systems },
          preferences: forRequester,
          language: 'de',
        }),
      );
      expect(systemsOnly.likely_cause).toBe(
        'Betroffene Systeme melden Probleme: MSExchangeRPC mit Status degraded.',
      );
      expect(systemsOnly.suggested_actions).toEqual([
        'MSExchangeRPC auf dem betroffenen System prüfen: Status degraded',
      ]);
    });

    it('scrubs hosts from KB text too', () => {
      const enhancement = synthesizeOffline(
        synthesisInput({
          context: {
            ...emptyContext,
            kb_articles: [
              { ...context.kb_articles[0], excerpt: 'Restart IIS on web01.acme.local.' },
            ],
          },
          preferences: forRequester,
        }),
      );
      expect(enhancement.likely_cause).toBe(
        'Knowledge base article "Troubleshooting Outlook connectivity" matches this ticket: Restart IIS on the affected system.',
      );
    });
  });
});
