import { endOfTurn } from './same-turn';

describe('endOfTurn', () => {
  it('gives every caller of one turn the same wait', async () => {
    const first = endOfTurn();

    expect(endOfTurn()).toBe(first);
    await expect(first).resolves.toBeUndefined();
  });

  it('starts a new wait in the next turn', async () => {
    const earlier = endOfTurn();
    await earlier;

    expect(endOfTurn()).not.toBe(earlier);
  });

  it('joins callers from separate callbacks of one turn (as requests arriving together)', async () => {
    const waits = await new Promise<Promise<void>[]>((done) => {
      const seen: Promise<void>[] = [];
      for (let i = 0; i < 3; i++) {
        // Three callbacks of one loop phase, like three sockets' reads.
        setImmediate(() => {
          seen.push(endOfTurn());
          if (seen.length === 3) done(seen);
        });
      }
    });

    expect(new Set(waits).size).toBe(1);
    await Promise.all(waits);
  });
});
