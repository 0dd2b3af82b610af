/**
 * A client-side rolling window: at most `requests` sends in any `windowMs`. HaloPSA counts the
 * same way (docs/vendor-facts.md: "300 Requests per rolling 5 minute window") and answers 429 with no
 * Retry-After; Huntress too (60 a minute "on a sliding window"). Waiting here is cheaper than
 * being refused there.
 *
 * The window outlives the process: HaloPSA still counts the requests a bridge sent just before a
 * restart. The limiter does no I/O itself; it hands its bookings (epoch ms) to whoever keeps them
 * (src/provisioning/rate-windows.ts) and takes them back at start.
 */

export interface RateLimit {
  readonly requests: number;
  readonly windowMs: number;
}

export interface RateLimiterStats {
  /** How many sends had to wait for a slot. */
  readonly waits: number;
  /** Total time spent waiting (ms). */
  readonly waitedMs: number;
}

export class RollingWindowLimiter {
  private readonly sent: number[] = [];
  private waits = 0;
  private waitedMs = 0;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    if (!(limit.requests >= 1) || !(limit.windowMs > 0)) throw new RangeError("rateLimit needs requests >= 1 and windowMs > 0");
  }

  /**
   * Resolves when one more send fits the window, and books it; answers how long it waited (ms, 0
   * when a slot was free). Checking and booking happen in the same synchronous turn, so concurrent
   * callers cannot overbook.
   */
  async acquire(): Promise<number> {
    let waited = false;
    const started = this.now();
    for (;;) {
      const t = this.now();
      while (this.sent.length > 0 && this.sent[0]! <= t - this.limit.windowMs) this.sent.shift();
      if (this.sent.length < this.limit.requests) {
        this.sent.push(t);
        for (const l of this.listeners) l();
        if (!waited) return 0;
        this.waits++;
        this.waitedMs += t - started;
        return t - started;
      }
      waited = true;
      // The oldest booking leaves the window at sent[0] + windowMs; +1 ms so it has left when we look again.
      await this.sleep(Math.max(1, this.sent[0]! + this.limit.windowMs - t + 1));
    }
  }

  /** The sends still inside the window (ms on the limiter's clock, oldest first), to be kept across a restart. */
  bookings(): number[] {
    const t = this.now();
    return this.sent.filter((at) => at > t - this.limit.windowMs);
  }

  /** Takes back bookings kept from an earlier run; any outside the window (or in the future: a clock change) are dropped. */
  restore(bookings: readonly number[]): void {
    const t = this.now();
    const kept = bookings.filter((at) => Number.isFinite(at) && at > t - this.limit.windowMs && at <= t);
    this.sent.splice(0, this.sent.length, ...[...kept, ...this.sent].sort((a, b) => a - b));
  }

  /** Called after every booking (synchronously: keep it cheap). */
  subscribe(listener: () => void): void {
    this.listeners.push(listener);
  }

  stats(): RateLimiterStats {
    return { waits: this.waits, waitedMs: this.waitedMs };
  }
}
