/** The stage runtime against the real JetStream server. */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { createTestNats, eventually, type TestNats } from '@tep/testing';
import {
  DeadLetterSchema,
  StageError,
  TicketReceivedSchema,
  type DeadLetter,
  type TicketReceived,
} from '@tep/contracts';
import {
  currentJobLogFields,
  publishMessage,
  runExhaustedDeliveryCapture,
  runStageConsumer,
} from './index';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function received(tenantId: string, ticketId: string): TicketReceived {
  return {
    version: 1,
    job_id: randomUUID(),
    tenant_id: tenantId,
    received_at: new Date().toISOString(),
    ticket: {
      ticket_id: ticketId,
      subject: 's',
      description_html: '',
      description_text: '',
      resolution_text: null,
      priority: null,
      status: null,
      requester_email: null,
      created_at: null,
      event: 'created',
    },
  };
}

describe('stage consumer runner', () => {
  let nats: TestNats;
  let js: JetStreamClient;

  beforeEach(async () => {
    // The test namespace comes with its topology in place.
    nats = await createTestNats();
    js = jetstream(nats.nc);
  });
  afterEach(async () => nats.cleanup());

  const publish = (m: TicketReceived) =>
    publishMessage(js, {
      subject: nats.topology.subjects.received(m.tenant_id),
      schema: TicketReceivedSchema,
      message: m,
      msgId: `received:${m.job_id}`,
      tenantId: m.tenant_id,
      jobId: m.job_id,
    });

  it('lets a quiet tenant through while another floods', async () => {
    const flood = randomUUID();
    const quietTenant = randomUUID();
    for (let i = 0; i < 40; i++) await publish(received(flood, `F-${i}`));
    await publish(received(quietTenant, 'Q-1'));
    const order: string[] = [];
    const consumer = await runStageConsumer({
      js,
      topology: nats.topology,
      stage: 'context-gatherer',
      schema: TicketReceivedSchema,
      logger: quiet,
      concurrency: 2,
      handle: async (m) => {
        await sleep(50);
        order.push(m.ticket.ticket_id);
      },
    });
    try {
      await eventually(() => (order.includes('Q-1') ? true : undefined), 20_000);
      // Without fairness Q-1 would come 41st; it must not wait for the flood
      // (4th–10th on this 2-core machine, the later beside the heaviest specs).
      expect(order.indexOf('Q-1')).toBeLessThan(20);
      await eventually(() => (order.length === 41 ? true : undefined), 30_000);
      expect(new Set(order).size).toBe(41);
    } finally {
      await consumer.stop();
    }
  }, 60_000);

  it("reaches a quiet tenant's ticket behind thousands of a noisy tenant's queued ones, each handled once", async () => {
    const FLOOD = 3_000;
    /** Publishes the flood (as after an outage: queued while the workers were away). */
    const flood = async (tenant: string) => {
      for (let i = 0; i < FLOOD; i += 250) {
        await Promise.all(
          Array.from({ length: Math.min(250, FLOOD - i) }, (_, k) =>
            publish(received(tenant, `N-${i + k}`)),
          ),
        );
      }
    };
    const run = async (quietTenant?: string) => {
      const noisy = randomUUID();
      await flood(noisy);
      const handled: string[] = [];
      const started = Date.now();
      let quietAt: number | undefined;
      let quietMs: number | undefined;
      const consumer = await runStageConsumer({
        js,
        topology: nats.topology,
        stage: 'context-gatherer',
        schema: TicketReceivedSchema,
        logger: quiet,
        concurrency: 4,
        handle: async (m) => {
          // A real stage takes 10–30 ms; 5 keeps the run short and the skim's
          // lead over the work (which decides the quiet ticket's place) out of
          // the noise of a loaded 2-core machine.
          await sleep(5);
          if (m.tenant_id === quietTenant) {
            quietAt = handled.length;
            quietMs = Date.now() - started;
          }
          handled.push(`${m.tenant_id}:${m.ticket.ticket_id}`);
        },
      });
      try {
        if (quietTenant) await publish(received(quietTenant, 'Q-1'));
        const total = FLOOD + (quietTenant ? 1 : 0);
        await eventually(() => (handled.length >= total ? true : undefined), 90_000);
        const seconds = (Date.now() - started) / 1000;
        expect(new Set(handled).size).toBe(total); // none twice, none lost
        return { quietAt, quietMs, noisyPerSecond: FLOOD / seconds };
      } finally {
        await consumer.stop();
      }
    };

    const alone = await run();
    const withQuiet = await run(randomUUID());
    // Stream order would put it after all 3,000 (the runtime before the lanes: after ~2,000);
    // the main lane skims past the flood (750–820 on 2 cores alone, 1,160–1,280 beside the
    // heaviest specs): ahead of where the runtime before the lanes got it, with a margin.
    expect(withQuiet.quietAt).toBeLessThan(FLOOD * 0.6);
    console.log(
      `fairness: quiet ticket handled after ${withQuiet.quietAt} of ${FLOOD} queued (${withQuiet.quietMs} ms); noisy tenant ` +
        `${alone.noisyPerSecond.toFixed(0)}/s alone, ${withQuiet.noisyPerSecond.toFixed(0)}/s beside the quiet one`,
    );
  }, 180_000);

  it('gives every log line of a job its tenant and job ids from the async context, and none outside', async () => {
    const tenant = randomUUID();
    const message = received(tenant, 'L-1');
    await publish(message);
    const seen: unknown[] = [];
    const consumer = await runStageConsumer({
      js,
      topology: nats.topology,
      stage: 'context-gatherer',
      schema: TicketReceivedSchema,
      logger: quiet,
      concurrency: 1,
      handle: async () => {
        await sleep(10); // still there after an await
        seen.push(currentJobLogFields());
      },
    });
    try {
      await eventually(() => (seen.length === 1 ? true : undefined), 10_000);
      expect(seen[0]).toMatchObject({ tenant_id: tenant, job_id: message.job_id });
      expect(currentJobLogFields()).toBeUndefined();
    } finally {
      await consumer.stop();
    }
  }, 30_000);

  it('stops gracefully: finishes in-flight work and hands the rest back at once', async () => {
    const tenant = randomUUID();
    for (let i = 0; i < 10; i++) await publish(received(tenant, `G-${i}`));
    const done = new Set<string>();
    const first = await runStageConsumer({
      js,
      topology: nats.topology,
      stage: 'context-gatherer',
      schema: TicketReceivedSchema,
      logger: quiet,
      concurrency: 2,
      handle: async (m) => {
        await sleep(200);
        done.add(m.ticket.ticket_id);
      },
    });
    await eventually(() => (first.inFlight > 0 ? true : undefined));
    await first.stop();
    expect(first.inFlight).toBe(0);
    const afterFirst = done.size;
    expect(afterFirst).toBeGreaterThan(0);
    const started = Date.now();
    const second = await runStageConsumer({
      js,
      topology: nats.topology,
      stage: 'context-gatherer',
      schema: TicketReceivedSchema,
      logger: quiet,
      handle: (m) => {
        done.add(m.ticket.ticket_id);
        return Promise.resolve();
      },
    });
    try {
      await eventually(() => (done.size === 10 ? true : undefined), 10_000);
      // Well under the 30 s ack wait: nothing was left un-acked by the first replica.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('retries transient failures and dead-letters poison at once, calling onDeadLetter', async () => {
    const tenant = randomUUID();
    const transient = received(tenant, 'T-1');
    const poison = received(tenant, 'P-1');
    await publish(transient);
    await publish(poison);
    let attempts = 0;
    const dead: DeadLetter[] = [];
    const consumer = await runStageConsumer({
      js,
      topology: nats.topology,
      stage: 'context-gatherer',
      schema: TicketReceivedSchema,
      logger: quiet,
      onDeadLetter: (d) => {
        dead.push(d);
        return Promise.resolve();
      },
      handle: (m) => {
        if (m.ticket.ticket_id === 'P-1')
          return Promise.reject(new StageError('ticket_not_found', 'gone'));
        attempts++;
        return attempts < 2
          ? Promise.reject(new StageError('upstream_unavailable', 'blip'))
          : Promise.resolve();
      },
    });
    try {
      await eventually(() => (attempts === 2 && dead.length === 1 ? true : undefined), 15_000);
      expect(dead[0]).toMatchObject({
        job_id: poison.job_id,
        error_code: 'ticket_not_found',
        stage: 'context-gatherer',
        deliveries: 1,
      });
      const jsm = await jetstreamManager(nats.nc);
      const stored = await jsm.streams.getMessage(nats.topology.deadLetterStream, {
        last_by_subj: nats.topology.subjects.deadLetter('context-gatherer', tenant),
      });
      expect(DeadLetterSchema.parse(stored!.json()).original_payload).toContain('P-1');
      // Terminated, not left pending for another delivery (nats-server 2.9 ignores TERM with a reason).
      await eventually(async () => {
        const info = await jsm.consumers.info(
          nats.topology.ticketsStream,
          nats.topology.consumers['context-gatherer'].durable,
        );
        return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
      }, 5_000);
    } finally {
      await consumer.stop();
    }
  }, 30_000);

  it('dead-letters a message whose deliveries ran out while no worker decided (server advisory)', async () => {
    const tenant = randomUUID();
    const job = received(tenant, 'X-1');
    const ack = await publish(job);
    // What the server publishes when a message exceeds max_deliver unacknowledged.
    await nats.nc
      .request(
        nats.topology.exhaustedAdvisorySubject(nats.topology.consumers['context-gatherer'].durable),
        JSON.stringify({
          type: 'io.nats.jetstream.advisory.v1.max_deliver',
          stream: nats.topology.ticketsStream,
          consumer: nats.topology.consumers['context-gatherer'].durable,
          stream_seq: ack.seq,
          deliveries: 10,
        }),
      )
      .catch(() => undefined);
    const dead: DeadLetter[] = [];
    const capture = await runExhaustedDeliveryCapture({
      js,
      topology: nats.topology,
      stage: 'context-gatherer',
      logger: quiet,
      onDeadLetter: (d) => {
        dead.push(d);
        return Promise.resolve();
      },
    });
    try {
      await eventually(() => (dead.length === 1 ? true : undefined), 10_000);
      expect(dead[0]).toMatchObject({ job_id: job.job_id, tenant_id: tenant, deliveries: 10 });
    } finally {
      await capture.stop();
    }
  }, 30_000);

  it('dead-letters a message whose body names another tenant than its subject and header', async () => {
    const victim = randomUUID();
    const attacker = randomUUID();
    const crafted = { ...received(victim, 'EVIL-1') };
    // Published on the attacker's subject with the attacker's header, body naming the victim.
    await publishMessage(js, {
      subject: nats.topology.subjects.received(attacker),
      schema: TicketReceivedSchema,
      message: crafted,
      msgId: `received:${crafted.job_id}`,
      tenantId: attacker,
      jobId: crafted.job_id,
    });
    const handled: string[] = [];
    const dead: DeadLetter[] = [];
    const consumer = await runStageConsumer({
      js,
      topology: nats.topology,
      stage: 'context-gatherer',
      schema: TicketReceivedSchema,
      logger: quiet,
      onDeadLetter: (d) => {
        dead.push(d);
        return Promise.resolve();
      },
      handle: (m) => {
        handled.push(m.tenant_id);
        return Promise.resolve();
      },
    });
    try {
      await eventually(() => (dead.length === 1 ? true : undefined), 10_000);
      expect(handled).toEqual([]);
      expect(dead[0]).toMatchObject({ error_code: 'invalid_message', tenant_id: attacker });
    } finally {
      await consumer.stop();
    }
  }, 30_000);
});
