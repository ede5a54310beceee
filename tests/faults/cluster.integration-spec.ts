/**
 * The cluster the fault suite's `--cluster` runs on: three nats-servers on
 * loopback whose routes can be stopped (configuration reload), so a
 * partition can be made and healed; and the round-robin in front of the
 * ingress replicas. The long
 * runs (`npm run faults:cluster`) depend on both doing what they claim.
 */
import { createServer, type Server } from 'node:http';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ServerSwitch } from '@tep/pipeline';
import { NatsCluster, removeTempDirs, sleep } from './infra';
import { TcpProxy } from './tcp-proxy';

jest.setTimeout(120_000);

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(100);
  }
}

describe('three nats-servers clustered, with routes that can be stopped', () => {
  let cluster: NatsCluster;
  const connections: NatsConnection[] = [];
  /** Management through one node only: what that node sees. */
  const managers = new Map<string, JetStreamManager>();

  beforeAll(async () => {
    cluster = await NatsCluster.create();
    for (const [i, node] of cluster.nodes.entries()) {
      const nc = await connect({ servers: [node.url], maxReconnectAttempts: -1 });
      connections.push(nc);
      managers.set(
        cluster.names[i],
        await jetstreamManager(nc, { timeout: 2_000, checkAPI: false }),
      );
    }
    const jsm = managers.get('n0')!;
    await until(
      () => jsm.streams.add({ name: 'T', subjects: ['t.>'], num_replicas: 3 }).then(() => true),
      30_000,
    );
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await cluster?.destroy();
    removeTempDirs();
  });

  const leaderSeenBy = async (node: string) =>
    (await managers.get(node)!.streams.info('T')).cluster?.leader;

  it('stores on three replicas, elects a new leader on the majority side of a partition, and catches the cut-off node up once healed', async () => {
    const js = jetstream(connections[0]);
    await js.publish('t.a', 'before');
    const leader = await until(() => leaderSeenBy('n0'), 10_000);
    const info = await managers.get('n0')!.streams.info('T');
    expect(info.cluster?.replicas).toHaveLength(2);

    cluster.partition(leader);
    const others = cluster.names.filter((n) => n !== leader);
    const elected = await until(async () => {
      const seen = await leaderSeenBy(others[0]);
      return seen && seen !== leader ? seen : undefined;
    }, 30_000);
    expect(others).toContain(elected);

    // The majority side still takes writes; the cut-off node cannot reach a quorum.
    const majority = jetstream(connections[cluster.names.indexOf(others[0])], { timeout: 3_000 });
    const during = await majority.publish('t.a', 'during the partition');
    const isolated = jetstream(connections[cluster.names.indexOf(leader)], { timeout: 2_000 });
    await expect(isolated.publish('t.a', 'on the minority side')).rejects.toThrow();

    cluster.heal();
    const caughtUp = await until(async () => {
      const view = await managers.get(leader)!.streams.info('T');
      return view.state.last_seq >= during.seq &&
        (view.cluster?.replicas ?? []).every((r) => r.current)
        ? view
        : undefined;
    }, 60_000);
    expect(caughtUp.state.messages).toBe(during.seq);
  });

  it('moves a publisher on the cut-off node to another server once its publishes keep failing (ServerSwitch, as the ingress does)', async () => {
    const leader = await until(() => leaderSeenBy('n0'), 10_000);
    const index = cluster.names.indexOf(leader);
    // Connected to the node that will be cut off; the others are next in its list.
    const urls = [
      cluster.nodes[index].url,
      ...cluster.nodes.filter((_, i) => i !== index).map((n) => n.url),
    ];
    const nc = await connect({
      servers: urls,
      noRandomize: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    connections.push(nc);
    expect(nc.getServer()).toBe(urls[0].replace('nats://', ''));
    const switches: string[] = [];
    const serverSwitch = new ServerSwitch(nc, {
      servers: urls.length,
      failures: 3,
      afterMs: 1_000,
      onSwitch: (from) => switches.push(from),
    });
    const js = jetstream(nc, { timeout: 1_000 });
    // Cut a whole mesh, and publish once the cut has taken effect: the reload
    // is asynchronous, and a CI run that cut right after the last test's heal
    // published while the node was still connected (stored, no switch).
    const routesAre = (expected: number[]) =>
      until(async () => {
        const counts = await cluster.routeCounts();
        return counts.every((n, i) => n === expected[i]) ? true : undefined;
      }, 30_000);
    await routesAre(cluster.names.map(() => 2));

    cluster.partition(leader);
    try {
      await routesAre(cluster.names.map((_, i) => (i === index ? 0 : 1)));
      const stored = await until(async () => {
        try {
          const ack = await js.publish('t.a', 'from the cut-off node');
          serverSwitch.succeeded();
          return ack;
        } catch (error) {
          serverSwitch.failed();
          throw error;
        }
      }, 60_000);
      // Twice from the same server: nats.js's first reconnect returns to where it started.
      expect(new Set(switches)).toEqual(new Set([urls[0].replace('nats://', '')]));
      expect(nc.getServer()).not.toBe(urls[0].replace('nats://', ''));
      expect(stored.seq).toBeGreaterThan(0);
    } finally {
      cluster.heal();
    }
  });
});

describe('the round-robin in front of the ingress replicas', () => {
  const servers: Server[] = [];
  let balancer: TcpProxy;

  beforeAll(async () => {
    for (const name of ['a', 'b']) {
      const server = createServer((_req, res) => res.end(name));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
    }
    balancer = await TcpProxy.start(servers.map((s) => (s.address() as { port: number }).port));
  });

  afterAll(async () => {
    await balancer?.close();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const ask = async () => {
    // A new connection each time: the round-robin is per connection, as a Kubernetes Service's.
    const res = await fetch(balancer.url, { headers: { connection: 'close' } });
    return res.text();
  };

  it('spreads new connections over both replicas and skips one that is down', async () => {
    const answers = [await ask(), await ask(), await ask(), await ask()];
    expect(answers.sort()).toEqual(['a', 'a', 'b', 'b']);
    servers[1].closeAllConnections();
    await new Promise((resolve) => servers[1].close(resolve));
    const whileDown = [await ask(), await ask(), await ask()];
    expect(whileDown).toEqual(['a', 'a', 'a']);
  });

  it('refuses every connection while cut, and forwards again once healed', async () => {
    balancer.cut();
    await expect(ask()).rejects.toThrow();
    balancer.heal();
    await expect(ask()).resolves.toBe('a');
  });
});
