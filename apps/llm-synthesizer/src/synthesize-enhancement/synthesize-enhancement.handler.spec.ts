import type { PinoLogger } from 'nestjs-pino';
import {
  EnhancementPreferencesSchema,
  TicketEnhancedSchema,
  type Enhancement,
  type TicketContextualized,
} from '@tep/contracts';
import { type StageContext } from '@tep/pipeline';
import type { TenantDatabase } from '@tep/data';
import type { EnhancementProvider, SynthesisInput } from '@tep/enhancement-synthesis';
import { MetricsRegistry, PipelineMetrics } from '@tep/service-runtime';
import { SynthesizeEnhancement } from './synthesize-enhancement.handler';

const TENANT_ID = '11111111-1111-4111-8111-111111111111';

const message: TicketContextualized = {
  version: 1,
  job_id: '22222222-2222-4222-8222-222222222222',
  tenant_id: TENANT_ID,
  received_at: '2026-12-01T09:00:00.000Z',
  ticket: {
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
  },
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

const enhancement: Enhancement = {
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

/** A model stand-in that reports redactions the way the real provider does. */
const redactingModel = (counts: Parameters<NonNullable<SynthesisInput['onRedactions']>>[0]) => ({
  name: 'redacting',
  synthesize: (input: SynthesisInput) => {
    input.onRedactions?.(counts);
    return Promise.resolve(enhancement);
  },
});

function handler(
  synthesizer: EnhancementProvider,
  metrics: PipelineMetrics,
  database = { withTenant: () => Promise.resolve({}) } as unknown as TenantDatabase,
) {
  const logger = { setContext: () => undefined, info: () => undefined } as unknown as PinoLogger;
  const prices = { promptPerMillionUsd: 0, completionPerMillionUsd: 0 };
  return new SynthesizeEnhancement(database, synthesizer, prices, metrics, logger);
}

const stage = { working: () => undefined } as unknown as StageContext;

describe('SynthesizeEnhancement', () => {
  it('hands on the job with the enhancement, a valid tickets.enhanced message', async () => {
    const metrics = new PipelineMetrics(new MetricsRegistry());
    const model = redactingModel({ secret: 0, card: 0, iban: 0, email: 0, phone: 0, name: 0 });
    const result = await handler(model, metrics).execute(message, stage);
    expect(result).toEqual({ kind: 'next', message: { ...message, enhancement } });
    if (result.kind !== 'next') throw new Error('expected the next message');
    expect(TicketEnhancedSchema.safeParse(result.message).success).toBe(true);
  });

  it('counts the redactions of the job by tenant and kind', async () => {
    const registry = new MetricsRegistry();
    const metrics = new PipelineMetrics(registry);
    const model = redactingModel({ secret: 2, card: 0, iban: 0, email: 1, phone: 0, name: 1 });

    await handler(model, metrics).execute(message, stage);
    await handler(model, metrics).execute(message, stage);

    const { values } = await metrics.redactions.get();
    expect(values.map(({ labels, value }) => [labels.kind, labels.tenant_id, value])).toEqual([
      ['secret', TENANT_ID, 4],
      ['email', TENANT_ID, 2],
      ['name', TENANT_ID, 2],
    ]);
  });

  it("uses the preferences the gatherer read for the job, without reading the tenant's row", async () => {
    const seen: string[] = [];
    const model = {
      name: 'recording',
      synthesize: (input: SynthesisInput) => {
        seen.push(input.preferences.llm_model);
        return Promise.resolve(enhancement);
      },
    };
    const withTenant = jest.fn(() => Promise.resolve({ llm_model: 'stored/model' }));
    const database = { withTenant } as unknown as TenantDatabase;
    const metrics = new PipelineMetrics(new MetricsRegistry());
    const preferences = EnhancementPreferencesSchema.parse({ llm_model: 'carried/model' });

    await handler(model, metrics, database).execute({ ...message, preferences }, stage);
    expect(withTenant).not.toHaveBeenCalled();
    // A message queued before the field existed: the stage reads them itself.
    await handler(model, metrics, database).execute(message, stage);
    expect(withTenant).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(['carried/model', 'stored/model']);
  });
});
