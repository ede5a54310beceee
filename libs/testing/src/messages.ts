/** Pipeline messages for stage handlers' specs: one job of one tenant, an empty context. */
import type { Enhancement, Ticket, TicketContextualized } from '@tep/contracts';

export const TEST_TENANT_ID = '11111111-1111-4111-8111-111111111111';
export const TEST_JOB_ID = '22222222-2222-4222-8222-222222222222';

/** An open ticket as the ingress normalizes it, with `over` changed. */
export function testTicket(over: Partial<Ticket> = {}): Ticket {
  return {
    ticket_id: '100000000004600',
    subject: 'VPN down',
    description_html: '<p>VPN down</p>',
    description_text: 'VPN down',
    resolution_text: null,
    priority: 'High',
    status: 'Open',
    requester_email: null,
    created_at: null,
    event: 'created',
    ...over,
  };
}

/** A job as the context-gatherer hands it on: nothing similar found. */
export function contextualizedMessage(ticket: Partial<Ticket> = {}): TicketContextualized {
  return {
    version: 1,
    job_id: TEST_JOB_ID,
    tenant_id: TEST_TENANT_ID,
    received_at: '2026-12-01T09:00:00.000Z',
    ticket: testTicket(ticket),
    context: {
      similar_tickets: [],
      kb_articles: [],
      systems: [],
      degraded: [],
      language: 'en',
      possible_outage: null,
      update_of: null,
    },
  };
}

/** What a model answered for that job. */
export const testEnhancement: Enhancement = {
  likely_cause: 'The VPN gateway certificate expired.',
  suggested_actions: ['Renew the certificate.'],
  related_tickets: [],
  confidence: 0.7,
  synthesizer: 'llm',
  language: 'en',
  model: 'test-model',
  fallback_reason: null,
  usage: null,
};
