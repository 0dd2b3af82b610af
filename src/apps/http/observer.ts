/**
 * What the retrying transport tells an observer (the bridge's metrics) about each exchange with
 * an app's API. An interface rather than a metrics library here: the API clients stay usable, and
 * testable, without one, and the observer decides how to count.
 */

/** How one attempt ended: an answer by status class, or no answer at all. */
export type ExchangeOutcome = "ok" | "client_error" | "server_error" | "rate_limited" | "timeout" | "network";

export interface TransportObserver {
  /** One attempt sent to `app` ("halopsa", "huntress"); retries and token requests each count. */
  exchanged(app: string, outcome: ExchangeOutcome, seconds: number): void;
  /** A send that had to wait `seconds` for a slot in the client-side rate limit. */
  rateLimitWaited(app: string, seconds: number): void;
}

/** 429 is the app's rate limit, told apart from other refusals: it means "slow down", not "fix something". */
export function outcomeOfStatus(status: number): ExchangeOutcome {
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  if (status >= 400) return "client_error";
  return "ok";
}
