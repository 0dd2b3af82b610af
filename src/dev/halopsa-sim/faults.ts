/**
 * What can go wrong between the bridge and HaloPSA, switchable at runtime from a test: HaloPSA's
 * own rolling-window rate limit, 5xx bursts, hangs, 429 storms, added latency, and the several
 * error body layouts HaloPSA answers with.
 */
import type { ErrorShape } from "./model.js";

/**
 * domain.md (HaloPSA): hosted Halo answers 429 with this text, plain, and no Retry-After header.
 * The text is HaloPSA's, so it stays the same whatever window the simulator is configured with.
 */
export const RATE_LIMIT_TEXT = "Rate Limit Reached - 300 Requests per rolling 5 minute window";

export interface RateLimit {
  readonly requests: number;
  readonly windowMs: number;
}

/** Which requests a fault applies to; every request when omitted. */
export interface FaultMatch {
  readonly method?: string;
  /** A substring of, or a pattern for, the request path (e.g. "/api/Agent"). Case-insensitive for strings. */
  readonly path?: string | RegExp;
}

export type FaultKind = "error" | "hang" | "rateLimit";

interface PendingFault {
  kind: FaultKind;
  remaining: number;
  match: FaultMatch | undefined;
  status: number;
  shape: ErrorShape | undefined;
  /** For hangs: run the handler (the write lands) and then never answer. */
  commit: boolean;
}

export interface FaultDecision {
  readonly kind: FaultKind;
  readonly status: number;
  readonly shape: ErrorShape | undefined;
  readonly commit: boolean;
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
  /** The layout of every error body the simulator writes (4xx and injected 5xx). */
  errorShape: ErrorShape = "ClassName";
  private pending: PendingFault[] = [];

  /** The next `count` matching requests answer `status` (default 500) without being handled. */
  failNext(count: number, opts: { status?: number; shape?: ErrorShape; match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "error", remaining: count, match: opts.match, status: opts.status ?? 500, shape: opts.shape, commit: false });
  }

  /**
   * The next `count` matching requests never get an answer, so the client times out. With
   * `commit: true` the request is carried out first: the write lands and only the reply is lost.
   */
  hangNext(count: number, opts: { commit?: boolean; match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "hang", remaining: count, match: opts.match, status: 0, shape: undefined, commit: opts.commit ?? false });
  }

  /** A 429 storm: the next `count` matching requests are refused as over the rate limit. */
  rateLimitNext(count: number, opts: { match?: FaultMatch } = {}): void {
    this.pending.push({ kind: "rateLimit", remaining: count, match: opts.match, status: 429, shape: undefined, commit: false });
  }

  reset(): void {
    this.pending = [];
    this.latencyMs = 0;
    this.errorShape = "ClassName";
  }

  /** Takes the first pending fault that applies to this request, if any. */
  take(method: string, path: string): FaultDecision | null {
    const fault = this.pending.find((f) => f.remaining > 0 && matches(f.match, method, path));
    if (!fault) return null;
    fault.remaining--;
    this.pending = this.pending.filter((f) => f.remaining > 0);
    return { kind: fault.kind, status: fault.status, shape: fault.shape, commit: fault.commit };
  }
}

/**
 * HaloPSA's limit is a rolling window (domain.md: "300 Requests per rolling 5 minute window"): a
 * request is admitted when fewer than `requests` were admitted in the last `windowMs`. Refused
 * requests do not count, so a client that backs off gets back in.
 */
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

/** The body of an error in one of HaloPSA's layouts (domain.md; HaloAPI Private/New-HaloError.ps1). */
export function errorBody(shape: ErrorShape, status: number, message: string): { json?: unknown; text?: string } {
  switch (shape) {
    case "error":
      return { json: { error: message } };
    case "Message":
      return { json: { Message: message } };
    case "errorMessage":
      return { json: { resultCode: status, errorMessage: message } };
    case "ClassName":
      return { json: { ClassName: status >= 500 ? "System.Exception" : "HaloValidationException", Message: message } };
    case "text":
      return { text: message };
    case "empty":
      return { text: "" };
  }
}
