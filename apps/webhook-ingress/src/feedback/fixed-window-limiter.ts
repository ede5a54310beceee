/**
 * At most `limit` takes per key per window, in this process's memory: the
 * feedback endpoint's guard against scripts (each replica counts on its
 * own; a technician never comes near the limit).
 */
export class FixedWindowLimiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  take(key: string, now = Date.now()): boolean {
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) {
      // A new window forgets the last one: memory stays bounded by one window's keys.
      this.window = window;
      this.counts = new Map();
    }
    const count = this.counts.get(key) ?? 0;
    if (count >= this.limit) return false;
    this.counts.set(key, count + 1);
    return true;
  }
}
