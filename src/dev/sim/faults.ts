/**
 * Runtime fault switches shared by the simulators: error bursts, hangs, 429 storms and added
 * latency, each aimed at every request or at the ones a `FaultMatch` picks. Each simulator says
 * how an injected error is described (HaloPSA: a body layout; Huntress: a message) through
 * `Detail`, and which body layout its errors use by default through `Shape`.
 */

/** Which requests a fault applies to; every request when omitted. */
export interface FaultMatch {
  readonly method?: string;
  /** A substring of, or a pattern for, the request path (e.g. "/api/Agent"). Case-insensitive for strings. */
  readonly path?: string | RegExp;
}

export type FaultKind = "error" | "hang" | "rateLimit";

/** What the server does with one request; `Detail`'s fields are set only on injected errors. */
export type FaultDecision<Detail extends object> = {
  readonly kind: FaultKind;
  readonly status: number;
  /** For hangs: run the handler (the write lands) and then never answer. */
  readonly commit: boolean;
  /** For committed hangs: how long after the request arrived the write lands (0: at once). */
  readonly landAfterMs: number;
} & Partial<Detail>;

interface PendingFault<Detail extends object> {
  readonly kind: FaultKind;
  remaining: number;
  readonly match: FaultMatch | undefined;
  readonly status: number;
  readonly detail: Partial<Detail>;
  readonly commit: boolean;
  readonly landAfterMs: number;
}

/** How a hang ends: never answered; with `commit`, carried out (at once, or `landAfterMs` later). */
export interface HangOptions {
  readonly commit?: boolean;
  /**
   * With `commit: true`: the write lands this many ms after the request arrived instead of at once,
   * and the reply is still never sent. This is a slow server that finishes a create after the client
   * gave up, so the client's retry (or its look-up of what landed) can run before the write exists.
   */
  readonly landAfterMs?: number;
  readonly match?: FaultMatch;
}

function matches(m: FaultMatch | undefined, method: string, path: string): boolean {
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m.path === undefined) return true;
  return typeof m.path === "string" ? path.toLowerCase().includes(m.path.toLowerCase()) : m.path.test(path);
}

export class SimFaults<Shape, Detail extends object> {
  /** Added to every request before it is handled (ms). */
  latencyMs = 0;
  /** The layout of every error body the simulator writes. */
  errorShape: Shape;
  private pending: PendingFault<Detail>[] = [];
  /** Committed hangs whose write has not landed yet (see `HangOptions.landAfterMs`). */
  private landing = 0;

  constructor(private readonly defaultShape: Shape) {
    this.errorShape = defaultShape;
  }

  /** The next `count` matching requests answer `status` (default 500) without being handled. */
  failNext(count: number, opts: { status?: number; match?: FaultMatch } & Partial<Detail> = {}): void {
    const { status, match, ...detail } = opts;
    this.pending.push({ kind: "error", remaining: count, match, status: status ?? 500, detail: detail as Partial<Detail>, commit: false, landAfterMs: 0 });
  }

  /**
   * The next `count` matching requests never get an answer, so the client times out. With
   * `commit: true` the request is carried out: the write lands (at once, or `landAfterMs` later)
   * and only the reply is lost.
   */
  hangNext(count: number, opts: HangOptions = {}): void {
    const landAfterMs = opts.commit ? Math.max(0, opts.landAfterMs ?? 0) : 0;
    this.pending.push({ kind: "hang", remaining: count, match: opts.match, status: 0, detail: {}, commit: opts.commit ?? false, landAfterMs });
  }

  /** A 429 storm: the next `count` matching requests are refused as over the rate limit. */
  rateLimitNext(count: number, opts: { match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "rateLimit", remaining: count, match: opts.match, status: 429, detail: {}, commit: false, landAfterMs: 0 });
  }

  /** Late writes still on their way (tests wait for 0 before they read the simulator's state). */
  get landingsPending(): number {
    return this.landing;
  }

  /**
   * Waits `ms`, then runs `land` (the handler that carries the write out). Counted in
   * `landingsPending` until `land` returns. Not cancelled by `reset()`: the write is already
   * inside the server, as a slow HaloPSA's would be.
   */
  async landLate(ms: number, land: () => void): Promise<void> {
    this.landing++;
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
      land();
    } finally {
      this.landing--;
    }
  }

  reset(): void {
    this.pending = [];
    this.latencyMs = 0;
    this.errorShape = this.defaultShape;
  }

  /** Takes the first pending fault that applies to this request, if any. */
  take(method: string, path: string): FaultDecision<Detail> | null {
    const fault = this.pending.find((f) => f.remaining > 0 && matches(f.match, method, path));
    if (!fault) return null;
    fault.remaining--;
    this.pending = this.pending.filter((f) => f.remaining > 0);
    return { ...fault.detail, kind: fault.kind, status: fault.status, commit: fault.commit, landAfterMs: fault.landAfterMs } as FaultDecision<Detail>;
  }
}
