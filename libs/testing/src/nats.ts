/** NATS for integration specs: the real server, a fresh namespace per spec. */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { PLATFORM_DEFAULTS } from '@tep/config';
import { createTopology, type Topology } from '@tep/contracts';
import { ensureTopology } from '@tep/pipeline';

export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? PLATFORM_DEFAULTS.natsUrl;

export interface TestNats {
  nc: NatsConnection;
  namespace: string;
  topology: Topology;
  /** Removes this spec's streams and buckets. */
  cleanup(): Promise<void>;
}

/**
 * A fresh namespace with its topology in place, as the tenant registry
 * creates it in a running platform: a spec may start any service alone
 * (services other than the registry wait for the topology, never create it).
 */
export async function createTestNats(): Promise<TestNats> {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const topology = createTopology(namespace);
  const nc = await connect({ servers: TEST_NATS_URL });
  await ensureTopology(await jetstreamManager(nc), topology);
  return {
    nc,
    namespace,
    topology,
    async cleanup() {
      await deleteNamespaceStreams(nc, namespace);
      await nc.drain();
    },
  };
}

/**
 * Every stream named `<ns>_…` and KV bucket `KV_<ns>_…`: the topology's,
 * the advisory stream and the ingress's own buckets alike, so runs leave
 * nothing behind on a shared server.
 */
export async function deleteNamespaceStreams(nc: NatsConnection, namespace: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const name of jsm.streams.names()) {
    if (name.startsWith(`${namespace}_`) || name.startsWith(`KV_${namespace}_`)) names.push(name);
  }
  for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
