import { EnhancementSchema, type TicketContext } from '@tep/contracts';
import {
  NO_CONTEXT_ACTIONS,
  NO_CONTEXT_CAUSE,
  OfflineSynthesizer,
  offlineConfidence,
  synthesizeOffline,
} from './offline-synthesizer';
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
      // 0.1 + 0.65 × 0.62 (top score) + 0.05 × 2 (agreeing sources)
      confidence: 0.6,
      synthesizer: 'offline',
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
      `${NO_CONTEXT_CAUSE} Some context sources were unavailable: kb.`,
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

    expect([full, oneDown, twoDown]).toEqual([0.6, 0.48, 0.39]);
  });

  it('grows with the top score and with agreeing sources, capped at 0.9', () => {
    const single = (score: number): TicketContext => ({
      ...emptyContext,
      similar_tickets: [{ ...context.similar_tickets[1], score }],
    });
    const scores = [0.1, 0.4, 0.7, 1].map((s) => offlineConfidence(single(s)));
    expect(scores).toEqual([0.17, 0.36, 0.55, 0.75]);
    // Scores outside 0..1 count as 1.
    expect(offlineConfidence(single(5))).toBe(0.75);

    const agreeing = offlineConfidence({ ...single(1), kb_articles: context.kb_articles });
    expect(agreeing).toBe(0.8);
    const many = {
      ...context,
      similar_tickets: context.similar_tickets.map((t) => ({ ...t, score: 1 })),
      kb_articles: [context.kb_articles[0], { ...context.kb_articles[0], article_id: 'kb-9' }],
    };
    expect(offlineConfidence(many)).toBe(0.9);
  });
});
