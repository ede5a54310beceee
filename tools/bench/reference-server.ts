/**
 * Reference servers the ingress is measured against, run as their own
 * process (started by ingress.ts; not a service of the platform):
 *
 *  - `hmac`: plain node:http that reads the body, verifies the hex
 *    HMAC-SHA256 in X-ServiceDesk-Signature in constant time and answers 202.
 *  - `hmac-jetstream`: the same, plus one JetStream publish (with
 *    Nats-Msg-Id) awaited until the server acknowledges storing it, on the
 *    platform's own TICKETS stream settings (created with ensureTopology) —
 *    the least any correct ingress must do before answering 202.
 *  - `hmac-jetstream-kv` (diagnostic): the same plus what the ingress did per
 *    webhook until issue 12 moved the durable replay check to the first
 *    worker — a KV get of the delivery key before the publish and a KV put
 *    after it — to show what those round trips cost.
 *
 * Environment: REF_MODE, PORT, REF_SECRET, NATS_URL, NATS_NAMESPACE.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { createTopology } from '@tep/contracts';
import { ensureTopology } from '@tep/pipeline';

const mode = process.env.REF_MODE;
if (mode !== 'hmac' && mode !== 'hmac-jetstream' && mode !== 'hmac-jetstream-kv')
  throw new Error('REF_MODE must be set');
const secret = process.env.REF_SECRET ?? '';
if (!secret) throw new Error('REF_SECRET must be set');
const port = Number(process.env.PORT ?? 0);
const topology = createTopology(process.env.NATS_NAMESPACE ?? '');
const HEX_SHA256 = /^(?:sha256=)?([0-9a-f]{64})$/i;
const ACCEPTED = JSON.stringify({ status: 'accepted' });
const FORBIDDEN = JSON.stringify({ status: 'rejected', error: 'forbidden' });

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function verified(body: Buffer, header: string | string[] | undefined): boolean {
  const match = typeof header === 'string' ? HEX_SHA256.exec(header.trim()) : null;
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}

async function main(): Promise<void> {
  let js: JetStreamClient | undefined;
  let kv: KV | undefined;
  if (mode !== 'hmac') {
    const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
    await ensureTopology(await jetstreamManager(nc), topology);
    js = jetstream(nc);
    if (mode === 'hmac-jetstream-kv') {
      // Same bucket settings as the ingress's idempotency keys.
      kv = await new Kvm(nc).create(`${topology.namespace}_ref_deliveries`, {
        history: 1,
        ttl: 96 * 3600 * 1000,
      });
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (req.method === 'GET' && req.url === '/health') return reply(res, 200, '{"status":"ok"}');
    if (!verified(body, req.headers['x-servicedesk-signature'])) return reply(res, 403, FORBIDDEN);
    if (!js) return reply(res, 202, ACCEPTED);
    const tenantId = new URL(req.url ?? '/', 'http://x').searchParams.get('tenant_id') ?? 'none';
    const msgID = createHash('sha256').update(tenantId).update('\n').update(body).digest('hex');
    const publish = () =>
      js.publish(topology.subjects.received(tenantId), body, { msgID, timeout: 5_000 });
    const work = kv
      ? (async () => {
          const key = `${tenantId}.${msgID.slice(0, 32)}`;
          await kv.get(key);
          await publish();
          await kv.put(key, msgID);
        })()
      : publish();
    work.then(
      () => reply(res, 202, ACCEPTED),
      () => reply(res, 503, '{"status":"rejected","error":"queue_unavailable"}'),
    );
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  console.log(`reference server (${mode}) listening on ${port}`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
