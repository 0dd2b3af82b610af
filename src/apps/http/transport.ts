/**
 * One HTTP exchange and the retry policy around it, for any API client: a per-request timeout,
 * the client-side rate limit, and exponential backoff with jitter on retryable statuses,
 * timeouts and network errors. What stays with each app is passed in: its error type, how it
 * reads an error body, which statuses are worth retrying and how its secrets are scrubbed. Every
 * failure is a ConnectorError (src/domain/connector-error.ts).
 */
import { ConnectorError, type ConnectorErrorInit } from "../../domain/connector-error.js";
import type { Logger } from "../../log.js";
import { outcomeOfStatus, type ExchangeOutcome, type TransportObserver } from "./observer.js";
import { describeNetworkError, describeTimeout } from "./network-error.js";
import type { RollingWindowLimiter } from "./rate-limiter.js";
import { backoffDelay, errorCode, NOT_SENT, parseRetryAfter, type Backoff } from "./retry.js";

export interface Outgoing {
  readonly method: string;
  readonly url: string;
  /** "POST /api/Agent": what logs and errors name (never the query string). */
  readonly route: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /**
   * Safe to send twice. A create is not: after a timeout or a 5xx it may have landed, so it is
   * retried only when the server certainly did not act on it (429, connection refused).
   */
  readonly idempotent: boolean;
}

export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly retryAfterMs: number | null;
}

/** The options every client sets the same way (see ./options.ts). */
export interface TransportOptions {
  readonly fetch: typeof fetch;
  readonly log: Logger;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoff: Backoff;
  readonly limiter: RollingWindowLimiter | null;
  readonly sleep: (ms: number) => Promise<void>;
  readonly observer: TransportObserver | null;
}

/** What makes the transport one app's. */
export interface AppSpecifics {
  /** Names the app in metrics and log messages ("halopsa"). */
  readonly name: string;
  /** Names the app in error texts ("HaloPSA"). */
  readonly label: string;
  /** The human part of an error body; "" when there is none. */
  readonly describeErrorBody: (text: string) => string;
  readonly isRetryableStatus: (status: number) => boolean;
  /** Removes every secret from a text before it goes into an error. */
  readonly scrub: (text: string) => string;
}

/** `{ value }` finishes; "again" sends once more without counting a retry (a 401 answered with a fresh token); null is "an error". */
export type Accept<T, O extends Outgoing = Outgoing> = (o: O, a: Answer, landedBefore: boolean) => { value: T } | "again" | null;

/** `O`: the app's own request type (its methods), handed back to `accept` as built. */
export class RetryingTransport<O extends Outgoing = Outgoing> {
  calls = 0;
  retries = 0;

  constructor(
    private readonly opts: TransportOptions,
    private readonly app: AppSpecifics,
  ) {}

  /** One attempt: waits for a rate-limit slot, sends, reads the whole body within the timeout. */
  async exchange(o: Outgoing): Promise<Answer> {
    const observer = this.opts.observer;
    if (this.opts.limiter) {
      const waitedMs = await this.opts.limiter.acquire();
      if (waitedMs > 0) observer?.rateLimitWaited(this.app.name, waitedMs / 1000);
    }
    this.calls++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.opts.timeoutMs);
    const started = performance.now();
    let status: number | null = null;
    // Settled only once the whole body is read: a body cut off by the timeout is a timeout.
    let outcome: ExchangeOutcome = "network";
    try {
      const res = await this.opts.fetch(o.url, { method: o.method, headers: o.headers, body: o.body, signal: controller.signal });
      status = res.status;
      const text = await res.text();
      outcome = outcomeOfStatus(res.status);
      return { status: res.status, text, retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), Date.now()) };
    } catch (e: unknown) {
      const effectUnknown = o.method !== "GET";
      if (controller.signal.aborted) {
        outcome = "timeout";
        throw this.error({ kind: "timeout", request: o.route, detail: describeTimeout(o.url, this.opts.timeoutMs), retryable: true, effectUnknown });
      }
      const described = describeNetworkError(o.url, e);
      const code = described.code ?? errorCode(e);
      throw this.error({
        kind: "network",
        request: o.route,
        detail: described.detail,
        retryable: true,
        effectUnknown: effectUnknown && !(code !== undefined && NOT_SENT.has(code)),
        cause: e,
      });
    } finally {
      clearTimeout(timer);
      const ms = performance.now() - started;
      observer?.exchanged(this.app.name, outcome, ms / 1000);
      this.opts.log.debug(`${this.app.name} request`, { request: o.route, status, ms: Math.round(ms) });
    }
  }

  /** This app's error; its detail scrubbed of every secret, whoever built it. */
  error(init: Omit<ConnectorErrorInit, "app">): ConnectorError {
    return new ConnectorError({ app: this.app.label, ...init, detail: this.app.scrub(init.detail) });
  }

  /**
   * The error an unsuccessful answer stands for, in words, without any secret: the whole body is
   * scrubbed before it is read and shortened, so no part of a secret survives a cut.
   */
  httpError(o: Outgoing, a: Answer, hint?: string): ConnectorError {
    const detail = this.app.describeErrorBody(this.app.scrub(a.text)) || `HTTP ${a.status}`;
    return this.error({
      kind: "http",
      status: a.status,
      request: o.route,
      detail: hint ? `${detail}: ${hint}` : detail,
      retryable: this.app.isRetryableStatus(a.status),
      effectUnknown: a.status >= 500 && o.method !== "GET",
      retryAfterMs: a.retryAfterMs,
    });
  }

  /** A 2xx answer the client cannot read. Retrying will not change it. */
  responseError(o: Outgoing, a: Answer, detail: string): ConnectorError {
    return this.error({ kind: "response", status: a.status, request: o.route, detail, retryable: false });
  }

  /**
   * Sends the request `build` makes (re-built per attempt, so a fresh token can go in) until
   * `accept` takes the answer, retrying what is worth retrying. `landedBefore` tells `accept` an
   * earlier attempt may have been carried out (a DELETE answered 404 on its retry did its work).
   */
  async send<T>(build: () => O | Promise<O>, accept: Accept<T, O>): Promise<T> {
    let landedBefore = false;
    for (let attempt = 0; ; ) {
      const o = await build();
      let failure: ConnectorError;
      let retryAfterMs: number | null = null;
      try {
        const a = await this.exchange(o);
        const taken = accept(o, a, landedBefore);
        if (taken === "again") continue;
        if (taken !== null) return taken.value;
        retryAfterMs = a.retryAfterMs;
        failure = this.httpError(o, a);
      } catch (e: unknown) {
        if (!(e instanceof ConnectorError)) throw e;
        failure = e;
      }
      const worthIt = failure.retryable && (o.idempotent || !failure.effectUnknown);
      if (!worthIt || attempt >= this.opts.maxRetries) throw failure.afterAttempts(attempt + 1);
      landedBefore ||= failure.effectUnknown;
      const delay = backoffDelay(attempt, retryAfterMs, this.opts.backoff);
      attempt++;
      this.retries++;
      this.opts.log.warn(`${this.app.name} request will be retried`, { request: o.route, status: failure.status, kind: failure.kind, attempt, delayMs: delay });
      await this.opts.sleep(delay);
    }
  }
}
