import type { NatsConnection } from '@nats-io/transport-node';

export interface ServerSwitchOptions {
  /** How many servers the connection's URL list names: with one there is nowhere to go. */
  servers: number;
  /** Failed JetStream requests in a row before switching (default 5). */
  failures?: number;
  /** …spanning at least this long, so a burst of timeouts alone is not enough (default 3 s). */
  afterMs?: number;
  /** At most one switch per this long: an election everywhere is not fixed by hopping (default 15 s). */
  holdOffMs?: number;
  /** Told before the connection drops: the server it leaves and the failures that made it. */
  onSwitch?(from: string, failures: number): void;
  now?(): number;
}

/**
 * Leaves a NATS server that is cut off from its cluster. A node on the
 * minority side of a partition keeps its clients — their connections stay
 * up — but stores nothing, so every JetStream publish through it times out,
 * and the client changes servers only when its connection drops. The
 * ingress replica on such a node answered 503 for the whole partition in the
 * fault suite while the other replica took the traffic. After `failures`
 * failed requests in a row over at least `afterMs`, with no success between,
 * this drops the connection on purpose (`reconnect()`): the client moves on
 * to the next server of its list, where the majority side stores again.
 * Requests in flight on the old connection fail (the ingress answers 503,
 * the sender retries under the same job id: nothing is lost or doubled).
 */
export class ServerSwitch {
  private failures = 0;
  private firstFailureAt = 0;
  private lastSwitchAt = Number.NEGATIVE_INFINITY;
  private lastLeft = '';
  private readonly minFailures: number;
  private readonly afterMs: number;
  private readonly holdOffMs: number;
  private readonly now: () => number;

  constructor(
    private readonly nc: Pick<
      NatsConnection,
      'reconnect' | 'getServer' | 'isClosed' | 'isDraining'
    >,
    private readonly options: ServerSwitchOptions,
  ) {
    this.minFailures = options.failures ?? 5;
    this.afterMs = options.afterMs ?? 3_000;
    this.holdOffMs = options.holdOffMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  /** A JetStream request through the connection succeeded. */
  succeeded(): void {
    this.failures = 0;
  }

  /** A JetStream request through the connection failed (timeout, no responders). */
  failed(): void {
    const now = this.now();
    if (this.failures === 0) this.firstFailureAt = now;
    this.failures++;
    if (this.failures < this.minFailures || now - this.firstFailureAt < this.afterMs) return;
    if (this.options.servers < 2 || this.nc.isClosed() || this.nc.isDraining()) return;
    const server = this.nc.getServer();
    // The client's first reconnect goes back to the server it started on
    // (nats.js rotates its list from the second on): still there, go on at once.
    if (now - this.lastSwitchAt < this.holdOffMs && server !== this.lastLeft) return;
    this.lastSwitchAt = now;
    this.lastLeft = server;
    this.options.onSwitch?.(server, this.failures);
    this.failures = 0;
    // Rejects only if the connection closed meanwhile: nothing to switch then.
    this.nc.reconnect().catch(() => undefined);
  }
}
