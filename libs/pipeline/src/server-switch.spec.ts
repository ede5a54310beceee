import { ServerSwitch } from './server-switch';

/** A connection that records reconnects, and a clock the test moves. */
function setup(options: { closed?: boolean; servers?: number } = {}) {
  let clock = 0;
  let server = '127.0.0.1:4222';
  const switches: { from: string; failures: number }[] = [];
  const nc = {
    reconnects: 0,
    reconnect() {
      this.reconnects++;
      return Promise.resolve();
    },
    getServer: () => server,
    isClosed: () => options.closed ?? false,
    isDraining: () => false,
  };
  const watch = new ServerSwitch(nc, {
    servers: options.servers ?? 3,
    failures: 3,
    afterMs: 1_000,
    holdOffMs: 10_000,
    now: () => clock,
    onSwitch: (from, failures) => switches.push({ from, failures }),
  });
  const failAt = (...times: number[]) => {
    for (const t of times) {
      clock = t;
      watch.failed();
    }
  };
  const moveTo = (to: string) => (server = to);
  return { nc, watch, switches, failAt, moveTo };
}

describe('ServerSwitch', () => {
  it('reconnects after enough failures in a row over long enough, and says from where', () => {
    const { nc, switches, failAt } = setup();
    failAt(0, 400, 800);
    expect(nc.reconnects).toBe(0); // three failures, but within 1 s
    failAt(1_000);
    expect(nc.reconnects).toBe(1);
    expect(switches).toEqual([{ from: '127.0.0.1:4222', failures: 4 }]);
  });

  it('starts counting again after a success', () => {
    const { nc, watch, failAt } = setup();
    failAt(0, 500);
    watch.succeeded();
    failAt(1_000, 1_500, 1_900);
    expect(nc.reconnects).toBe(0); // four failures since 0 s, but only three in a row, within 1 s
    failAt(2_000);
    expect(nc.reconnects).toBe(1);
  });

  it('switches at most once per hold-off while failures go on', () => {
    const { nc, failAt, moveTo } = setup();
    failAt(0, 500, 1_000);
    expect(nc.reconnects).toBe(1);
    moveTo('127.0.0.1:4223');
    failAt(2_000, 3_000, 4_000, 5_000, 9_000);
    expect(nc.reconnects).toBe(1);
    failAt(11_000);
    expect(nc.reconnects).toBe(2);
  });

  it('switches again at once when the reconnect landed on the same server', () => {
    const { nc, failAt } = setup();
    failAt(0, 500, 1_000);
    failAt(1_500, 2_000, 2_500);
    expect(nc.reconnects).toBe(2);
  });

  it('never switches with one server in the list', () => {
    const single = setup({ servers: 1 });
    single.failAt(0, 500, 1_000, 2_000);
    expect(single.nc.reconnects).toBe(0);
  });

  it('leaves a closed connection alone', () => {
    const { nc, failAt } = setup({ closed: true });
    failAt(0, 500, 1_000, 2_000);
    expect(nc.reconnects).toBe(0);
  });
});
