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
} & Partial<Detail>;

interface PendingFault<Detail extends object> {
  readonly kind: FaultKind;
  remaining: number;
  readonly match: FaultMatch | undefined;
  readonly status: number;
  readonly detail: Partial<Detail>;
  readonly commit: boolean;
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

  constructor(private readonly defaultShape: Shape) {
    this.errorShape = defaultShape;
  }

  /** The next `count` matching requests answer `status` (default 500) without being handled. */
  failNext(count: number, opts: { status?: number; match?: FaultMatch } & Partial<Detail> = {}): void {
    const { status, match, ...detail } = opts;
    this.pending.push({ kind: "error", remaining: count, match, status: status ?? 500, detail: detail as Partial<Detail>, commit: false });
  }

  /**
   * The next `count` matching requests never get an answer, so the client times out. With
   * `commit: true` the request is carried out first: the write lands and only the reply is lost.
   */
  hangNext(count: number, opts: { commit?: boolean; match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "hang", remaining: count, match: opts.match, status: 0, detail: {}, commit: opts.commit ?? false });
  }

  /** A 429 storm: the next `count` matching requests are refused as over the rate limit. */
  rateLimitNext(count: number, opts: { match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "rateLimit", remaining: count, match: opts.match, status: 429, detail: {}, commit: false });
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
    return { ...fault.detail, kind: fault.kind, status: fault.status, commit: fault.commit } as FaultDecision<Detail>;
  }
}
