/**
 * Where a profiled process spends its CPU: each sample of a V8 .cpuprofile
 * is charged to the innermost frame on its stack that belongs to a known
 * component (a package or our code), so that e.g. fs.writeSync called by
 * pino counts as logging and Buffer work inside the NATS client counts as
 * NATS. Samples whose whole stack is Node core are charged to Node core.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const COMPONENTS: [string, RegExp][] = [
  [
    'logging (pino, nestjs-pino, pino-http)',
    /node_modules\/(pino|pino-http|nestjs-pino|@pinojs|sonic-boom|pino-std-serializers|fast-redact)\//,
  ],
  ['NATS client (JetStream, KV)', /node_modules\/@nats-io\//],
  [
    'NestJS + Express routing',
    /node_modules\/(@nestjs|express|router|body-parser|raw-body|finalhandler|send|on-finished|qs|path-to-regexp|statuses|content-type|type-is|iconv-lite|media-typer|mime-types|accepts|negotiator|vary|etag|fresh|range-parser|parseurl|encodeurl|escape-html|depd|safe-buffer|http-errors|setprototypeof|inherits|unpipe|bytes)\//,
  ],
  ['zod validation', /node_modules\/zod\//],
  ['metrics (prom-client)', /node_modules\/(prom-client|tdigest|bintrees)\//],
  ['tracing (@opentelemetry/api, no SDK)', /node_modules\/@opentelemetry\//],
  [
    'html-to-text',
    /node_modules\/(html-to-text|htmlparser2|domhandler|domutils|entities|dom-serializer|selderee|parseley|leac|peberminta|deepmerge)\//,
  ],
  ['rxjs', /node_modules\/rxjs\//],
  ['openai SDK', /node_modules\/openai\//],
  ['TypeORM + pg', /node_modules\/(typeorm|pg|pg-protocol|pg-pool|pg-types|postgres-)/],
  ['other packages', /node_modules\//],
  ['our code (apps/, libs/)', /\/(apps|libs)\//],
];

function componentOf(frame: CallFrame): string | undefined {
  if (!frame.url) return undefined;
  for (const [name, pattern] of COMPONENTS) if (pattern.test(frame.url)) return name;
  return undefined;
}

export interface ProfileBreakdown {
  /** Sampled time the process was on CPU (idle excluded), ms. */
  busyMs: number;
  idleMs: number;
  /** Share of busy time per component, highest first. */
  components: { component: string; percent: number }[];
  /** Heaviest functions by self time (share of busy time). */
  topFunctions: { fn: string; percent: number }[];
}

export function analyseProfile(path: string): ProfileBreakdown {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const charged = new Map<number, string>();
  const chargeOf = (id: number): string => {
    const known = charged.get(id);
    if (known) return known;
    const leaf = byId.get(id)!;
    let result: string;
    if (leaf.callFrame.functionName === '(idle)') result = '(idle)';
    else if (leaf.callFrame.functionName === '(garbage collector)') result = 'garbage collection';
    else if (leaf.callFrame.functionName === '(program)') result = 'V8/native (unattributed)';
    else {
      result = 'Node core (http, streams, crypto, timers)';
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const component = componentOf(byId.get(at)!.callFrame);
        if (component) {
          result = component;
          break;
        }
      }
    }
    charged.set(id, result);
    return result;
  };
  const time = new Map<string, number>();
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const delta = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const component = chargeOf(id);
    time.set(component, (time.get(component) ?? 0) + delta);
    if (component !== '(idle)') {
      const f = byId.get(id)!.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url
        .replace(/^.*node_modules\//, '')
        .replace(/^file:\/\/.*\/main\//, '')
        .replace(/^\/.*\/main\//, '')}`;
      self.set(name, (self.get(name) ?? 0) + delta);
    }
  });
  const idleMs = time.get('(idle)') ?? 0;
  time.delete('(idle)');
  const busyMs = [...time.values()].reduce((a, b) => a + b, 0);
  const share = (ms: number) => Number(((ms / busyMs) * 100).toFixed(1));
  return {
    busyMs: Math.round(busyMs),
    idleMs: Math.round(idleMs),
    components: [...time.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([component, ms]) => ({ component, percent: share(ms) })),
    topFunctions: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([fn, ms]) => ({ fn, percent: share(ms) })),
  };
}
