/**
 * One error for everything the Huntress API can answer, with the HTTP status and whether trying
 * again later can help. Its text never holds the API key or secret (the transport scrubs every
 * detail before it gets here).
 */

export type HuntressErrorKind =
  /** Huntress answered with an error status. */
  | "http"
  /** No answer within the client's timeout. */
  | "timeout"
  /** The connection failed or broke. */
  | "network"
  /** Huntress answered 2xx with something the client cannot read. */
  | "response";

export interface HuntressErrorInit {
  readonly kind: HuntressErrorKind;
  readonly status: number | null;
  readonly request: string;
  readonly detail: string;
  readonly retryable: boolean;
  readonly ambiguous?: boolean;
  readonly attempts?: number;
  readonly cause?: unknown;
}

export class HuntressError extends Error {
  override readonly name = "HuntressError";
  /** The HTTP status, or null when no answer came back (timeout, network). */
  readonly status: number | null;
  /** Whether the same request may succeed later (429, 5xx, timeouts, network errors). */
  readonly retryable: boolean;
  readonly kind: HuntressErrorKind;
  /** e.g. "PATCH /v1/memberships/{id}" (never the query string). */
  readonly request: string;
  /** The human part of the answer (or of the failure), without any secret. */
  readonly detail: string;
  /** True when Huntress may have carried the request out although the client saw it fail. */
  readonly ambiguous: boolean;
  /** How many times the request was sent before the client gave up. */
  readonly attempts: number;

  constructor(init: HuntressErrorInit) {
    const what = init.status !== null ? `${init.status}` : init.kind;
    const tries = (init.attempts ?? 1) > 1 ? ` after ${init.attempts} attempts` : "";
    super(`Huntress ${init.request} failed (${what})${tries}: ${init.detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.retryable = init.retryable;
    this.kind = init.kind;
    this.request = init.request;
    this.detail = init.detail;
    this.ambiguous = init.ambiguous ?? false;
    this.attempts = init.attempts ?? 1;
  }

  /** The same failure, saying how many attempts were made. */
  afterAttempts(attempts: number): HuntressError {
    if (attempts === this.attempts) return this;
    const { kind, status, request, detail, retryable, ambiguous, cause } = this;
    return new HuntressError({ kind, status, request, detail, retryable, ambiguous, attempts, cause });
  }
}
