/**
 * Part 5: the stage runtime against the floor. The same jobs go through the
 * three worker stages twice, each stage's handler doing no work of its own
 * (it hands on a fixed next message), so what is measured is the runtime:
 *
 *  - `stage runtime`: @tep/pipeline as the workers run it (runStageConsumer
 *    with both lanes, validation of input and output, tenant check, spans
 *    with the SDK the services register, heartbeats, double ack,
 *    publishNext, as StageWorker hands a result on);
 *  - `bare client`: what any correct stage must do, written plainly with the
 *    NATS client — pull, JSON.parse, publish the next message with its
 *    Nats-Msg-Id and tenant/job headers, await the store, double ack.
 *
 * Each run drains a backlog of pre-published received jobs; CPU is this
 * process's plus nats-server's, per job (three hops). Modes alternate per
 * round, so the machine's drift hits both.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  EnhancementPreferencesSchema,
  TicketReceivedSchema,
  type StageName,
  type TicketContext,
  type TicketReceived,
  type Topology,
} from '@tep/contracts';
import {
  HEADER,
  STAGES,
  ensureTopology,
  nextHop,
  publishMessage,
  publishNext,
  runStageConsumer,
  type RunningConsumer,
  type StageOutput,
} from '@tep/pipeline';
import { initTracing } from '@tep/service-runtime';
import { benchNats, natsServerPid } from './lib/environment';
import { cpuSeconds, sleep } from './lib/processes';
import { median } from './lib/stats';

export interface RuntimeOptions {
  jobs: number;
  /** Tenants the jobs are spread over, round-robin. */
  tenants: number;
  rounds: number;
  concurrency: number;
}

export type RuntimeMode = 'stage runtime' | 'bare client';

export interface RuntimeCell {
  mode: RuntimeMode;
  round: number;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  /** This process's CPU per job, ms (three stages). */
  processCpuMsPerJob: number;
  natsCpuMsPerJob: number;
  /** Messages the fairness lanes moved to a backlog lane, per job. */
  backlogMovesPerJob: number;
}

export interface RuntimeReport {
  cells: RuntimeCell[];
  /** Medians over the rounds. */
  summary: Omit<RuntimeCell, 'round' | 'seconds' | 'jobs'>[];
  /** Stage runtime over bare client: CPU per job (process + nats-server) and jobs/s. */
  cpuRatio: number;
  throughputRatio: number;
}

const WORKER_STAGES: StageName[] = ['context-gatherer', 'llm-synthesizer', 'servicedesk-poster'];
const tenantId = (n: number) => `33333333-3333-4333-8333-${String(n).padStart(12, '0')}`;

/** A context of the size the gatherer hands on: five similar tickets, two articles, two systems. */
const CONTEXT: TicketContext = {
  similar_tickets: Array.from({ length: 5 }, (_, i) => ({
    ticket_id: `10000000000${i}`,
    display_id: `#${4600 + i}`,
    subject: `Database connection timeout on db0${i}`,
    resolution:
      'Raised the connection pool size from 20 to 50 and restarted the application service; ' +
      'the timeouts stopped within a minute. Root cause: pool exhaustion after the nightly job.',
    score: 0.6 - i * 0.05,
    match: 'full_text',
    confident: i < 2,
  })),
  kb_articles: Array.from({ length: 2 }, (_, i) => ({
    article_id: `KB-${i}`,
    title: 'How to fix database connection timeouts',
    excerpt:
      'Check the connection pool, the firewall idle timeout and the database load. If the pool is ' +
      'exhausted, raise its size and look for connections that are never returned.',
    url: `https://kb.example.com/${i}`,
    score: 0.4,
  })),
  systems: [
    {
      hostname: 'db01',
      ip_address: '10.0.0.1',
      service_name: 'postgresql',
      status: 'up',
      matched_on: 'hostname',
    },
    {
      hostname: 'app01',
      ip_address: '10.0.0.2',
      service_name: 'api',
      status: 'up',
      matched_on: 'hostname',
    },
  ],
  degraded: [],
  language: 'en',
  possible_outage: null,
  update_of: null,
};
const PREFERENCES = EnhancementPreferencesSchema.parse({});
const ENHANCEMENT = {
  likely_cause: 'The application exhausts its database connection pool.',
  suggested_actions: ['Raise the pool size.', 'Look for connections that are never returned.'],
  related_tickets: ['#4600', '#4601'],
  confidence: 0.72,
  synthesizer: 'llm' as const,
  language: 'en' as const,
  model: 'bench-model',
  fallback_reason: null,
  usage: { prompt_tokens: 900, completion_tokens: 120 },
};

function receivedJob(n: number, tenants: number): TicketReceived {
  return {
    version: 1,
    job_id: randomUUID(),
    tenant_id: tenantId(n % tenants),
    received_at: new Date().toISOString(),
    ticket: {
      ticket_id: `RT-${n}`,
      subject: `Database connection timeout error #${n}`,
      description_html:
        "<p>Application reports 'Connection timeout' when querying PostgreSQL database on db01.</p>",
      description_text:
        "Application reports 'Connection timeout' when querying PostgreSQL database on db01. " +
        'Error started at 10:30 AM. All other services operational.',
      resolution_text: null,
      priority: 'High',
      status: 'Open',
      requester_email: 'user@acmecorp.com',
      created_at: '2025-11-03T10:30:00Z',
      event: 'created',
    },
  };
}

/** What each stage hands on for `input` (no work: a fixed context, answer and note). */
function nextMessage(stage: StageName, input: Record<string, unknown>): unknown {
  switch (stage) {
    case 'context-gatherer':
      return { ...input, context: CONTEXT, preferences: PREFERENCES };
    case 'llm-synthesizer':
      return { ...input, enhancement: ENHANCEMENT };
    case 'servicedesk-poster': {
      const ticket = input.ticket as { ticket_id: string };
      return {
        version: 1,
        job_id: input.job_id,
        tenant_id: input.tenant_id,
        received_at: input.received_at,
        ticket_id: ticket.ticket_id,
        note_id: '1',
        posted_at: new Date().toISOString(),
      };
    }
  }
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function startRuntime(
  js: JetStreamClient,
  topology: Topology,
  concurrency: number,
  onPosted: () => void,
): Promise<RunningConsumer[]> {
  return Promise.all(
    WORKER_STAGES.map((stage) =>
      runStageConsumer({
        js,
        topology,
        stage,
        schema: STAGES[stage].input,
        // As StageWorker.complete hands on a `next` result.
        handle: async (message: { tenant_id: string; job_id: string }) => {
          await publishNext(
            js,
            topology,
            stage,
            { tenantId: message.tenant_id, jobId: message.job_id },
            nextMessage(stage, message) as StageOutput<typeof stage>,
          );
        },
        onProcessed: ({ outcome }) => {
          if (stage === 'servicedesk-poster' && outcome === 'done') onPosted();
        },
        logger: silent,
        concurrency,
      }),
    ),
  );
}

async function startBare(
  js: JetStreamClient,
  topology: Topology,
  concurrency: number,
  onPosted: () => void,
): Promise<{ stop(): Promise<void> }> {
  const decoder = new TextDecoder();
  const loops = await Promise.all(
    WORKER_STAGES.map(async (stage) => {
      const consumer = await js.consumers.get(
        topology.ticketsStream,
        topology.consumers[stage].durable,
      );
      const messages = await consumer.consume({ max_messages: concurrency, expires: 1_000 });
      let running = 0;
      const freed: (() => void)[] = [];
      const work = async (msg: JsMsg) => {
        const input = JSON.parse(decoder.decode(msg.data)) as { tenant_id: string; job_id: string };
        const hop = nextHop(stage, topology, input.tenant_id, input.job_id);
        const hdrs = natsHeaders();
        hdrs.set(HEADER.tenantId, input.tenant_id);
        hdrs.set(HEADER.jobId, input.job_id);
        await js.publish(hop.subject, JSON.stringify(nextMessage(stage, input)), {
          msgID: hop.msgId,
          headers: hdrs,
        });
        await msg.ackAck();
        if (stage === 'servicedesk-poster') onPosted();
      };
      const loop = (async () => {
        for await (const msg of messages) {
          while (running >= concurrency) await new Promise<void>((resolve) => freed.push(resolve));
          running++;
          void work(msg).finally(() => {
            running--;
            freed.shift()?.();
          });
        }
      })();
      return { messages, loop };
    }),
  );
  return {
    async stop() {
      await Promise.all(loops.map((l) => l.messages.close()));
      await Promise.all(loops.map((l) => l.loop));
    },
  };
}

async function measure(
  mode: RuntimeMode,
  round: number,
  options: RuntimeOptions,
): Promise<RuntimeCell> {
  const nats = await benchNats('runtime');
  try {
    await ensureTopology(await jetstreamManager(nats.nc), nats.topology);
    const js = jetstream(nats.nc);
    // The backlog first, outside the measured phase.
    for (let start = 0; start < options.jobs; start += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, options.jobs - start) }, (_, i) => {
          const job = receivedJob(start + i, options.tenants);
          return publishMessage(js, {
            subject: nats.topology.subjects.received(job.tenant_id),
            schema: TicketReceivedSchema,
            message: job,
            msgId: `received:${job.job_id}`,
            tenantId: job.tenant_id,
            jobId: job.job_id,
          });
        }),
      );
    }
    let posted = 0;
    const natsPid = natsServerPid();
    const natsBefore = natsPid ? cpuSeconds(natsPid) : Number.NaN;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const running =
      mode === 'stage runtime'
        ? await startRuntime(js, nats.topology, options.concurrency, () => posted++)
        : [await startBare(js, nats.topology, options.concurrency, () => posted++)];
    const deadline = Date.now() + 300_000;
    while (posted < options.jobs) {
      if (Date.now() > deadline)
        throw new Error(`${mode}: ${posted} of ${options.jobs} jobs after 300 s`);
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const natsCpu = natsPid ? cpuSeconds(natsPid) - natsBefore : Number.NaN;
    await Promise.all(running.map((r) => r.stop()));
    const jsm = await jetstreamManager(nats.nc);
    const backlog = await jsm.streams.info(nats.topology.ticketsStream, {
      subjects_filter: `${nats.topology.namespace}.tickets.backlog.>`,
    });
    const moves = Object.values(backlog.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    const cell: RuntimeCell = {
      mode,
      round,
      jobs: options.jobs,
      seconds,
      jobsPerSecond: options.jobs / seconds,
      processCpuMsPerJob: (cpu.user + cpu.system) / 1000 / options.jobs,
      natsCpuMsPerJob: (natsCpu * 1000) / options.jobs,
      backlogMovesPerJob: moves / options.jobs,
    };
    console.log(
      `  [runtime] round=${round} ${mode.padEnd(13)} ${cell.jobsPerSecond.toFixed(0)} jobs/s, ` +
        `CPU per job: this process ${cell.processCpuMsPerJob.toFixed(3)} ms, nats-server ${cell.natsCpuMsPerJob.toFixed(3)} ms; ` +
        `backlog moves per job ${cell.backlogMovesPerJob.toFixed(2)}`,
    );
    return cell;
  } finally {
    await nats.cleanup();
  }
}

export async function benchRuntime(options: RuntimeOptions): Promise<RuntimeReport> {
  // As every service registers it (no exporter: spans have ids, nothing is recorded).
  initTracing('bench-runtime');
  const cells: RuntimeCell[] = [];
  const modes: RuntimeMode[] = ['stage runtime', 'bare client'];
  for (let round = 0; round < options.rounds; round++) {
    for (const mode of round % 2 ? [...modes].reverse() : modes) {
      cells.push(await measure(mode, round, options));
    }
  }
  const summary = modes.map((mode) => {
    const of = cells.filter((c) => c.mode === mode);
    return {
      mode,
      jobsPerSecond: median(of.map((c) => c.jobsPerSecond)),
      processCpuMsPerJob: median(of.map((c) => c.processCpuMsPerJob)),
      natsCpuMsPerJob: median(of.map((c) => c.natsCpuMsPerJob)),
      backlogMovesPerJob: median(of.map((c) => c.backlogMovesPerJob)),
    };
  });
  const [runtime, bare] = summary;
  const total = (s: (typeof summary)[number]) => s.processCpuMsPerJob + s.natsCpuMsPerJob;
  return {
    cells,
    summary,
    cpuRatio: total(runtime) / total(bare),
    throughputRatio: runtime.jobsPerSecond / bare.jobsPerSecond,
  };
}
