/**
 * A server-side rolling window, as HaloPSA (docs/vendor-facts.md: "300 Requests per rolling 5 minute
 * window") and Huntress (reference, "Rate Limits": 60 a minute "on a sliding window") both count:
 * a request is admitted when fewer than `requests` were admitted in the last `windowMs`. Refused
 * requests do not count, so a client that backs off gets back in.
 */

export interface RateLimit {
  readonly requests: number;
  readonly windowMs: number;
}

export class RollingWindow {
  private admitted: number[] = [];
  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {}

  tryAdmit(): boolean {
    const t = this.now();
    while (this.admitted.length > 0 && this.admitted[0]! <= t - this.limit.windowMs) this.admitted.shift();
    if (this.admitted.length >= this.limit.requests) return false;
    this.admitted.push(t);
    return true;
  }
}
