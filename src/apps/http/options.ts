/**
 * The transport settings every client takes the same way and defaults alike: 30 s per request,
 * 4 retries, backoff from 500 ms to 30 s, and a client-side rolling window unless turned off.
 * The window runs on the wall clock, so its bookings mean the same after a restart.
 */
import type { Logger } from "../../log.js";
import type { TransportObserver } from "./observer.js";
import { RollingWindowLimiter, type RateLimit } from "./rate-limiter.js";
import type { TransportOptions } from "./transport.js";

export interface ClientTransportOptions {
  readonly fetch?: typeof fetch;
  readonly log: Logger;
  /** null: no client-side limit. */
  readonly rateLimit?: RateLimit | null;
  /** Per request, including reading the body (default 30 s). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default 4). */
  readonly maxRetries?: number;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of every attempt and rate-limit wait (the bridge's metrics); none by default. */
  readonly observer?: TransportObserver;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The transport options for a client; `defaultRateLimit` is the app's own when none is given. */
export function transportOptions(opts: ClientTransportOptions, defaultRateLimit: RateLimit): TransportOptions {
  const sleep = opts.sleep ?? realSleep;
  return {
    fetch: opts.fetch ?? globalThis.fetch.bind(globalThis),
    log: opts.log,
    timeoutMs: opts.timeoutMs ?? 30_000,
    maxRetries: opts.maxRetries ?? 4,
    backoff: { baseMs: opts.backoff?.baseMs ?? 500, maxMs: opts.backoff?.maxMs ?? 30_000 },
    limiter: opts.rateLimit === null ? null : new RollingWindowLimiter(opts.rateLimit ?? defaultRateLimit, Date.now, sleep),
    sleep,
    observer: opts.observer ?? null,
  };
}
