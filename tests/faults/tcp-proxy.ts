/**
 * A TCP forwarder on loopback: the round-robin in front of the ingress
 * replicas in the cluster runs (what a Kubernetes Service does). Each new
 * connection goes to the next backend; a backend that refuses the
 * connection is skipped. `cut()` resets every connection and refuses new
 * ones until `heal()`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from '@tep/service-process';

export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private next = 0;
  private blocked = false;

  private constructor(
    readonly port: number,
    private readonly backends: number[],
  ) {}

  static async start(backends: number[], port?: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(port ?? (await freePort()), backends);
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resets every connection through it and refuses new ones until `heal()`. */
  cut(): void {
    this.blocked = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.blocked = false;
  }

  private listen(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  private track(socket: Socket): void {
    // No Nagle: a small write (a route's ack) must not wait ~40 ms for the peer's delayed ACK.
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private accept(client: Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    this.track(client);
    client.pause();
    this.connectBackend(client, 0);
  }

  /** Tries the backends in rotation, skipping one that refuses, until all refused. */
  private connectBackend(client: Socket, tried: number): void {
    if (tried >= this.backends.length || client.destroyed) {
      client.destroy();
      return;
    }
    const port = this.backends[this.next++ % this.backends.length];
    const upstream = connect(port, '127.0.0.1');
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      if (this.blocked || client.destroyed) {
        upstream.destroy();
        client.destroy();
        return;
      }
      this.track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    upstream.once('error', () => {
      if (!connected) this.connectBackend(client, tried + 1);
    });
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
