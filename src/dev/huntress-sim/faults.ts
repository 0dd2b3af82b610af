/**
 * What can go wrong between the bridge and Huntress, switchable at runtime from a test: error
 * bursts (5xx, 404, 403...), hangs, 429 storms and added latency. Huntress's own 60 requests per
 * minute sliding window is in server.ts (the same RollingWindow as the HaloPSA simulator's).
 */
import type { ErrorShape } from "./model.js";

/** Which requests a fault applies to; every request when omitted. */
export interface FaultMatch {
  readonly method?: string;
  /** A substring of, or a pattern for, the request path (e.g. "/memberships"). Case-insensitive for strings. */
  readonly path?: string | RegExp;
}

export type FaultKind = "error" | "hang" | "rateLimit";

export interface FaultDecision {
  readonly kind: FaultKind;
  readonly status: number;
  readonly message: string | undefined;
  /** For hangs: run the handler (the write lands) and then never answer. */
  readonly commit: boolean;
}

interface PendingFault extends FaultDecision {
  remaining: number;
  readonly match: FaultMatch | undefined;
}

function matches(m: FaultMatch | undefined, method: string, path: string): boolean {
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m.path === undefined) return true;
  return typeof m.path === "string" ? path.toLowerCase().includes(m.path.toLowerCase()) : m.path.test(path);
}

export class Faults {
  /** Added to every request before it is handled (ms). */
  latencyMs = 0;
  /** The layout of every error body the simulator writes (see model.ts). */
  errorShape: ErrorShape = "grape";
  private pending: PendingFault[] = [];

  /** The next `count` matching requests answer `status` (default 500) without being handled. */
  failNext(count: number, opts: { status?: number; message?: string; match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "error", remaining: count, match: opts.match, status: opts.status ?? 500, message: opts.message, commit: false });
  }

  /**
   * The next `count` matching requests never get an answer, so the client times out. With
   * `commit: true` the request is carried out first: the write lands and only the reply is lost.
   */
  hangNext(count: number, opts: { commit?: boolean; match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "hang", remaining: count, match: opts.match, status: 0, message: undefined, commit: opts.commit ?? false });
  }

  /** A 429 storm: the next `count` matching requests are refused as over the rate limit. */
  rateLimitNext(count: number, opts: { match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "rateLimit", remaining: count, match: opts.match, status: 429, message: undefined, commit: false });
  }

  reset(): void {
    this.pending = [];
    this.latencyMs = 0;
    this.errorShape = "grape";
  }

  /** Takes the first pending fault that applies to this request, if any. */
  take(method: string, path: string): FaultDecision | null {
    const fault = this.pending.find((f) => f.remaining > 0 && matches(f.match, method, path));
    if (!fault) return null;
    fault.remaining--;
    this.pending = this.pending.filter((f) => f.remaining > 0);
    return { kind: fault.kind, status: fault.status, message: fault.message, commit: fault.commit };
  }
}
