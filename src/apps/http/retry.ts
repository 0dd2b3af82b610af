/**
 * The pieces of the retry policy that depend on nothing but HTTP: which network errors prove a
 * request was never sent, Retry-After, and the backoff between attempts.
 */

/** Errors that prove the request never reached the server, so even a create may be sent again. */
export const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/** The system error code of a failed fetch (undici puts it on `cause`). */
export function errorCode(e: unknown): string | undefined {
  const cause = e instanceof Error ? (e.cause as { code?: unknown } | undefined) : undefined;
  const code = cause?.code ?? (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. HaloPSA sends none today (docs/vendor-facts.md), but a proxy might. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the step fixed, half random, so steps still grow.
 * A Retry-After longer than the step wins, capped at `maxMs`.
 */
export function backoffDelay(attempt: number, retryAfterMs: number | null, backoff: Backoff): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** attempt);
  const jittered = step / 2 + Math.random() * (step / 2);
  return Math.round(retryAfterMs === null ? jittered : Math.max(jittered, Math.min(retryAfterMs, backoff.maxMs)));
}
