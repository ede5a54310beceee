import {
  EnhancementPreferencesSchema,
  type EnhancementPreferences,
  type Ticket,
  type TicketContext,
} from '@tep/contracts';
import type { SynthesisInput } from '../provider';

export const ticket: Ticket = {
  ticket_id: '100000000004600',
  subject: 'Outlook cannot connect to Exchange',
  description_html: '<p>Since this morning Outlook shows Disconnected for the finance team.</p>',
  description_text: 'Since this morning Outlook shows Disconnected for the finance team.',
  resolution_text: null,
  priority: 'High',
  status: 'Open',
  requester_email: 'anna@customer.example',
  created_at: '2024-11-28T09:00:00.000Z',
  event: 'created',
};

/** Deliberately not in score order: consumers must rank themselves. */
export const context: TicketContext = {
  similar_tickets: [
    {
      ticket_id: '9002',
      display_id: null,
      subject: 'Exchange certificate expired',
      resolution: 'Renewed the Exchange SSL certificate and restarted IIS.',
      score: 0.41,
      match: 'trigram',
      confident: false,
    },
    {
      ticket_id: '9001',
      display_id: 'REQ-4521',
      subject: 'Outlook disconnected for accounting',
      resolution:
        'Restarted the MSExchangeRPC service on exch01 and cleared the Outlook profile cache.',
      score: 0.62,
      match: 'full_text',
      confident: true,
    },
    {
      ticket_id: '9003',
      display_id: 'REQ-4390',
      subject: 'Outlook slow',
      resolution: null,
      score: 0.2,
      match: 'trigram',
      confident: false,
    },
  ],
  kb_articles: [
    {
      article_id: 'kb-1',
      title: 'Troubleshooting Outlook connectivity',
      excerpt: 'Check the Exchange RPC service and autodiscover DNS records.',
      url: 'https://kb.example.com/kb-1',
      score: 0.5,
    },
  ],
  systems: [
    {
      hostname: 'exch01',
      ip_address: '10.0.0.5',
      service_name: 'MSExchangeRPC',
      status: 'degraded',
      matched_on: 'hostname',
    },
    {
      hostname: 'dc01',
      ip_address: '10.0.0.2',
      service_name: null,
      status: 'up',
      matched_on: 'ip_address',
    },
  ],
  degraded: [],
  language: 'en',
  possible_outage: null,
  update_of: null,
};

export const emptyContext: TicketContext = {
  similar_tickets: [],
  kb_articles: [],
  systems: [],
  degraded: [],
  language: 'en',
  possible_outage: null,
  update_of: null,
};

export const preferences = (overrides: Partial<EnhancementPreferences> = {}) =>
  EnhancementPreferencesSchema.parse({ llm_model: 'openai/gpt-4o-mini', ...overrides });

export const synthesisInput = (overrides: Partial<SynthesisInput> = {}): SynthesisInput => ({
  ticket,
  context,
  preferences: preferences(),
  language: 'en',
  ...overrides,
});

/** A well-formed model answer for the fixture context. */
export const goodAnswer = {
  likely_cause: 'The MSExchangeRPC service on exch01 is degraded.',
  suggested_actions: ['Restart MSExchangeRPC on exch01.', 'Clear the Outlook profile cache.'],
  related_tickets: ['REQ-4521'],
  confidence: 0.8,
};
