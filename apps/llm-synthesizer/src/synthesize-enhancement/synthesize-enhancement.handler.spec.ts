import type { PinoLogger } from 'nestjs-pino';
import { EnhancementPreferencesSchema, TicketEnhancedSchema } from '@tep/contracts';
import { type StageContext } from '@tep/pipeline';
import type { TenantDatabase } from '@tep/data';
import type { EnhancementProvider, SynthesisInput } from '@tep/enhancement-synthesis';
import { MetricsRegistry, PipelineMetrics } from '@tep/service-runtime';
import { TEST_TENANT_ID, contextualizedMessage, testEnhancement } from '@tep/testing';
import { SynthesizeEnhancement } from './synthesize-enhancement.handler';

const TENANT_ID = TEST_TENANT_ID;
const message = contextualizedMessage();
const enhancement = testEnhancement;

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
