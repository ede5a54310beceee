/** Renders a run's results as the markdown tables docs/benchmarks.md uses. */
import type { ServiceName } from './lib/platform';
import type { MachineLoad } from './pipeline';
import type { BenchResults } from './run';

const f = (value: number | undefined, digits = 1) =>
  value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
const pct = (ratio: number) => `${(ratio * 100).toFixed(0)} %`;
const verdict = (met: boolean) => (met ? '**met**' : '**missed**');

export const TARGETS = {
  ingressOverJetstream: 0.8,
  endToEndP95Ms: 100,
  contextP95Ms: 20,
  /** 150 MB (10^6 bytes) in MiB, the unit VmRSS is reported in here. */
  idleRssMiB: (150 * 1e6) / 2 ** 20,
};

/** CPU the platform itself spends per webhook: services, their database backends, NATS. */
export function platformCpuMs(cpuMsPerWebhook: Record<string, number>): number {
  return Object.entries(cpuMsPerWebhook)
    .filter(([name]) => !name.startsWith('bench '))
    .reduce((sum, [, ms]) => sum + (Number.isFinite(ms) ? ms : 0), 0);
}

export function renderMarkdown(results: BenchResults): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(
    `Run ${results.startedAt} → ${results.finishedAt}; ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, PostgreSQL ${m.postgres}, NATS ${m.nats}; load average at start ${m.loadAverageAtStart}.`,
    '',
  );

  const ingress = results.ingress;
  if (ingress) {
    const s = results.settings.ingress;
    out.push(
      `### Ingress (${s.rounds} rounds × ${s.durationSeconds} s per cell after ${s.warmupSeconds} s warm-up; ` +
        `server pinned to core 0, autocannon to core 1: ${ingress.pinned ? 'yes' : 'no'})`,
      '',
      '| Connections | Server | Accepted req/s | p50 ms | p95 ms | p99 ms | Server CPU ms/req | nats-server CPU ms/req | Machine busy (cores) | Non-202 |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of ingress.summary) {
      out.push(
        `| ${r.connections} | ${r.server} | ${f(r.reqPerSec, 0)} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ` +
          `${f(r.serverCpuMsPerRequest, 3)} | ${f(r.natsCpuMsPerRequest, 3)} | ${f(r.machineBusyCores, 2)} | ${r.non202} |`,
      );
    }
    out.push(
      '',
      '| Connections | ours / (a) HMAC only | ours / (b) HMAC + JetStream | Target ≥ 80 % of (b) | Server CPU per webhook, ours / (b) |',
      '| ---: | ---: | ---: | --- | ---: |',
    );
    for (const r of ingress.ratios) {
      out.push(
        `| ${r.connections} | ${pct(r.oursOverHmac)} | ${pct(r.oursOverJetstream)} | ` +
          `${verdict(r.oursOverJetstream >= TARGETS.ingressOverJetstream)} | ${f(r.cpuPerRequestOursOverJetstream, 1)} × |`,
      );
    }
    if (ingress.profile) {
      out.push(
        '',
        `CPU profile of the ingress at ${s.diagnosticConnections} connections ` +
          `(${ingress.profile.busyMs} ms on CPU sampled, ${ingress.profile.idleMs} ms idle):`,
        '',
        '| Component | Share of CPU |',
        '| --- | ---: |',
        ...ingress.profile.components.map((c) => `| ${c.component} | ${c.percent} % |`),
        '',
        '| Heaviest functions (self time) | Share |',
        '| --- | ---: |',
        ...ingress.profile.topFunctions.map((t) => `| \`${t.fn.trim()}\` | ${t.percent} % |`),
      );
    }
    out.push('');
  }

  const pipeline = results.pipeline;
  if (pipeline) {
    const t = pipeline.throughput;
    const load = (m: MachineLoad) =>
      `machine busy ${f(m.allProcessesCores, 2)} of ${results.machine.cores} cores: the five services ` +
      `${f(m.platformServicesCores, 2)}, PostgreSQL backends ${f(m.postgresCores, 2)}, nats-server ` +
      `${f(m.natsServerCores, 2)}, this harness ${f(m.harnessCores, 2)}, the SDP simulator ` +
      `${f(m.simulatorCores, 2)}, other users' processes ${f(m.otherCores, 2)}`;
    out.push(
      `### Pipeline (${pipeline.tenants} tenants, ${pipeline.synthesizer === 'offline' ? 'offline synthesizer' : 'instant LLM'}, WORKER_CONCURRENCY ${pipeline.workerConcurrency}; ` +
        `warm-up ${results.settings.pipeline.warmupSeconds} s at half the rate)`,
      '',
    );
    for (const l of pipeline.latency) {
      out.push(
        `**${l.rate} webhooks/s for ${l.seconds} s** (achieved ${f(l.sentPerSecond)}/s): ${l.sent} sent, ` +
          `${l.accepted} accepted, ${l.notes} notes; ${load(l.machine)}.`,
        '',
        '| Measure | p50 ms | p95 ms | p99 ms | max ms |',
        '| --- | ---: | ---: | ---: | ---: |',
        `| **Webhook sent → note created (end to end)** | ${f(l.endToEndMs.p50)} | ${f(l.endToEndMs.p95)} | ${f(l.endToEndMs.p99)} | ${f(l.endToEndMs.max)} |`,
        `| Webhook sent → 202 received | ${f(l.ingressAckMs.p50)} | ${f(l.ingressAckMs.p95)} | ${f(l.ingressAckMs.p99)} | ${f(l.ingressAckMs.max)} |`,
        ...Object.entries(l.stagesMs).map(
          ([stage, s]) => `| ${stage} | ${f(s.p50)} | ${f(s.p95)} | ${f(s.p99)} | ${f(s.max)} |`,
        ),
        '',
        `Backlog-lane moves (the workers' fairness lanes) per webhook: ${f(l.backlogMovesPerWebhook, 2)}.`,
        '',
      );
    }
    const target = pipeline.latency[0];
    out.push(
      `End-to-end p95 target < ${TARGETS.endToEndP95Ms} ms at ${target.rate} webhooks/s: ` +
        `${verdict(target.endToEndMs.p95 < TARGETS.endToEndP95Ms)} (p95 ${f(target.endToEndMs.p95)} ms).`,
      '',
      `Sustained throughput (closed loop, ${t.backlog} webhooks in flight, ${t.seconds} s): ` +
        `**${f(t.notesPerSecond, 1)} notes/s** steady; ${t.notes} notes for ${t.sent} webhooks sent, ` +
        `drained ${f(t.drainSeconds)} s after sending stopped, ${t.lost} without a note; ${load(t.machine)}.`,
      '',
      `Notes per second over the loop and the drain: ${t.timeline.join(', ')}.`,
      '',
      '| Process | CPU ms per webhook (throughput loop) |',
      '| --- | ---: |',
      ...Object.entries(t.cpuMsPerWebhook).map(([name, ms]) => `| ${name} | ${f(ms, 2)} |`),
      '',
      `Platform CPU per webhook (the five services, their PostgreSQL backends and nats-server): ` +
        `${f(platformCpuMs(t.cpuMsPerWebhook), 1)} ms, so ${results.machine.cores} dedicated cores could ` +
        `carry at most about ${f((results.machine.cores * 1000) / platformCpuMs(t.cpuMsPerWebhook), 0)} webhooks/s (an upper bound: ` +
        `the sender, the fake LLM and the simulator excluded).`,
      '',
      '| Process | read system calls per webhook | write system calls per webhook |',
      '| --- | ---: | ---: |',
      ...Object.entries(t.syscallsPerWebhook).map(
        ([name, n]) => `| ${name} | ${f(n.reads, 1)} | ${f(n.writes, 1)} |`,
      ),
      '',
    );
    const fair = pipeline.fairness;
    if (fair) {
      out.push(
        `Fairness under a backlog: ${fair.backlog} webhooks of one tenant queued at once, then one ticket ` +
          `of a quiet tenant. Its note came after **${f(fair.quietTicketMs / 1000, 2)} s** (target < 5 s), ` +
          `behind ${fair.noisyNotesBeforeQuiet} of the noisy tenant's; the noisy tenant drained ` +
          `${f(fair.noisyAloneNotesPerSecond, 1)} notes/s alone and ${f(fair.noisyWithQuietNotesPerSecond, 1)} ` +
          `with the quiet one (**${f((100 * fair.noisyWithQuietNotesPerSecond) / fair.noisyAloneNotesPerSecond, 0)} %**, target ≥ 80 %).`,
        '',
      );
    }
    const profiled = Object.entries(pipeline.profiles);
    if (profiled.length) {
      const components = [
        ...new Set(profiled.flatMap(([, p]) => p.components.map((c) => c.component))),
      ];
      out.push(
        'Where each service spends its CPU under the closed loop (share of its busy time, V8 sampling profiler):',
        '',
        `| Component | ${profiled.map(([name]) => name).join(' | ')} |`,
        `| --- | ${profiled.map(() => '---:').join(' | ')} |`,
        ...components.map(
          (c) =>
            `| ${c} | ${profiled
              .map(([, p]) => {
                const share = p.components.find((x) => x.component === c)?.percent;
                return share === undefined ? '' : `${share} %`;
              })
              .join(' | ')} |`,
        ),
        '',
      );
    }
  }

  const memory = results.memory;
  if (memory || pipeline) {
    out.push(
      `### Memory (VmRSS, MiB; target < 150 MB = ${f(TARGETS.idleRssMiB, 0)} MiB idle per service)`,
      '',
      '| Service | Idle, production build (plain node) | Idle, `npm start` (SWC loader) | JS heap used / total (build) | Peak under the pipeline load (SWC) | Target (production build) |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
    );
    const names = Object.keys(memory?.source ?? pipeline?.memoryMiB ?? {}) as ServiceName[];
    for (const name of names) {
      const built = memory?.compiled?.[name];
      const src = memory?.source[name];
      out.push(
        `| ${name} | ${f(built?.rssMiB, 0)} | ${f(src?.rssMiB ?? pipeline?.memoryMiB[name].idle, 0)} | ` +
          `${f(built?.heapUsedMiB, 0)} / ${f(built?.heapTotalMiB, 0)} | ${f(pipeline?.memoryMiB[name].peakUnderLoad, 0)} | ` +
          `${built ? verdict(built.rssMiB < TARGETS.idleRssMiB) : '–'} |`,
      );
    }
    if (ingress) {
      out.push(
        `| webhook-ingress right after the ingress benchmark (SWC) | | | | ${f(ingress.ingressRssAfterLoadMiB, 0)} | |`,
      );
    }
    if (memory) {
      out.push(
        '',
        `Floors: a bare \`node\` process ${f(memory.floors.bareNodeMiB, 0)} MiB; node with only the SWC loader ` +
          `${f(memory.floors.nodeWithSwcLoaderMiB, 0)} MiB. Production build: ${memory.compiledNote}. ` +
          `Idle = ${memory.idleSeconds} s after the tenant was created, nothing processed.`,
      );
    }
    out.push('');
  }

  const context = results.context;
  if (context) {
    out.push(
      `### Context retrieval (${context.rows.toLocaleString('en')} ticket_history rows, ${context.tenants} tenants, ` +
        `${context.kbArticles} KB articles, ${context.inventory} inventory rows; table ${context.tableSizeMiB} MiB, postings ${context.postingsSizeMiB} MiB; ` +
        `${context.queries} queries as tep_app under RLS)`,
      '',
      '| Query | p50 ms | p95 ms | p99 ms | max ms | Target p95 < 20 ms |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
      `| Similar tickets (findSimilarTickets, in its transaction) | ${f(context.similarTicketsMs.p50)} | ${f(context.similarTicketsMs.p95)} | ${f(context.similarTicketsMs.p99)} | ${f(context.similarTicketsMs.max)} | ${verdict(context.similarTicketsMs.p95 < TARGETS.contextP95Ms)} |`,
      `| Whole gather (3 sources in parallel) | ${f(context.gatherMs.p50)} | ${f(context.gatherMs.p95)} | ${f(context.gatherMs.p99)} | ${f(context.gatherMs.max)} | ${verdict(context.gatherMs.p95 < TARGETS.contextP95Ms)} |`,
      '',
      `Similar tickets found per query: ${f(context.meanSimilarFound)} on average; trigram fallbacks: ${context.trigramFallbacks}. ` +
        `Generation: ${f(context.generationSeconds, 0)} s. Indexes in the plans: ` +
        Object.entries(context.indexesUsed)
          .map(([q, idx]) => `${q}: ${idx.length ? idx.join(', ') : 'none (sequential scan)'}`)
          .join('; ') +
        `. The sample's any-word query matches ${context.ginCandidatesAllTenants.toLocaleString('en')} ` +
        'resolved rows across all tenants: what the GIN index on search_vector would return before RLS ' +
        "keeps one tenant's rows, which is why the planner prefers the tenant_id index.",
      '',
    );
    for (const [name, plan] of Object.entries(context.explain)) {
      out.push(
        `<details><summary>EXPLAIN (ANALYZE, BUFFERS): ${name}</summary>`,
        '',
        '```',
        plan,
        '```',
        '',
        '</details>',
        '',
      );
    }
  }

  const runtime = results.runtime;
  if (runtime) {
    const s = results.settings.runtime;
    out.push(
      `### Stage runtime against a bare NATS client (${s.jobs} jobs of ${s.tenants} tenants through the three worker stages, ` +
        `handlers doing no work, concurrency ${s.concurrency}; medians of ${s.rounds} rounds, modes alternating)`,
      '',
      '| Mode | Jobs/s | CPU per job, this process (ms) | CPU per job, nats-server (ms) | Backlog-lane moves per job |',
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const r of runtime.summary) {
      out.push(
        `| ${r.mode} | ${f(r.jobsPerSecond, 0)} | ${f(r.processCpuMsPerJob, 3)} | ${f(r.natsCpuMsPerJob, 3)} | ${f(r.backlogMovesPerJob, 2)} |`,
      );
    }
    out.push(
      '',
      `The stage runtime costs **${f(runtime.cpuRatio, 2)} ×** the bare client's CPU per job ` +
        `(process and nats-server together) and reaches ${f(runtime.throughputRatio * 100, 0)} % of its jobs/s.`,
      '',
    );
  }
  const http = results.httpClient;
  if (http) {
    const s = results.settings.httpClient;
    out.push(
      `### CPU per outbound HTTP call (${s.calls} chat-completion calls per mode to a loopback server in the process; ` +
        `medians of ${s.rounds} rounds, modes alternating)`,
      '',
      '| Client | CPU per call, client and server (ms) |',
      '| --- | ---: |',
    );
    for (const r of http.summary) out.push(`| ${r.mode} | ${f(r.cpuMsPerCall, 3)} |`);
    out.push('');
  }
  const ranking = results.ranking;
  if (ranking) {
    const s = results.settings.ranking;
    out.push(
      `### PostgreSQL CPU per ranking query (one tenant: 200 resolved and ${s.openTickets} open tickets; ` +
        `${s.queries} queries per mode and round, medians of ${s.rounds} rounds, modes alternating)`,
      '',
      '| Query | Scored from | Backend CPU per query (ms) |',
      '| --- | --- | ---: |',
    );
    for (const r of ranking.summary)
      out.push(`| ${r.query} | ${r.mode} | ${f(r.backendCpuMsPerQuery, 3)} |`);
    out.push(
      '',
      `Both modes returned the same tickets with the same scores: **${ranking.sameResults ? 'yes' : 'no'}**.`,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
