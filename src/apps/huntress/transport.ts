/**
 * One HTTP exchange with the Huntress API, and the retry policy around it: a per-request timeout,
 * the client-side sliding window, and exponential backoff with jitter on 429, 5xx, timeouts and
 * network errors. The window, the backoff and the Retry-After parsing are the HaloPSA client's
 * (src/apps/halopsa/); the error type and the scrubbing of the Basic credentials are Huntress's.
 */
import type { Logger } from "../../log.js";
import { describeErrorBody, redactSecrets } from "../halopsa/errors.js";
import type { RollingWindowLimiter } from "../halopsa/rate-limiter.js";
import { backoffDelay, errorCode, NOT_SENT, parseRetryAfter } from "../halopsa/transport.js";
import { HuntressError } from "./errors.js";

export interface Outgoing {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  readonly url: string;
  /** "PATCH /v1/memberships/{id}": what logs and errors name (never the query string). */
  readonly route: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Safe to send twice (see client.ts for each call's reasoning). */
  readonly idempotent: boolean;
}

export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly retryAfterMs: number | null;
}

export interface TransportOptions {
  readonly fetch: typeof fetch;
  readonly log: Logger;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly limiter: RollingWindowLimiter | null;
  readonly sleep: (ms: number) => Promise<void>;
  /** The API key, the secret and their Basic token: scrubbed from every error text. */
  readonly secrets: () => Iterable<string>;
}

/** Reference, HTTP Response Codes: 429 (rate limit) and 500 ("You could retry the request") are worth another try; so are 408 and other 5xx. */
const isRetryableStatus = (status: number): boolean => status === 429 || status === 408 || status >= 500;

export class HuntressTransport {
  calls = 0;
  retries = 0;

  constructor(private readonly opts: TransportOptions) {}

  private scrub(text: string): string {
    return redactSecrets(text, this.opts.secrets()).replace(/Basic\s+[A-Za-z0-9+/=]+/g, "Basic [redacted]");
  }

  /** One attempt: waits for a rate-limit slot, sends, reads the whole body within the timeout. */
  private async exchange(o: Outgoing): Promise<Answer> {
    if (this.opts.limiter) await this.opts.limiter.acquire();
    this.calls++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.opts.timeoutMs);
    const started = performance.now();
    let status: number | null = null;
    try {
      const res = await this.opts.fetch(o.url, { method: o.method, headers: o.headers, body: o.body, signal: controller.signal });
      status = res.status;
      const text = await res.text();
      return { status: res.status, text, retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), Date.now()) };
    } catch (e: unknown) {
      if (controller.signal.aborted) {
        throw new HuntressError({ kind: "timeout", status: null, request: o.route, detail: `no answer within ${this.opts.timeoutMs} ms`, retryable: true, ambiguous: o.method !== "GET" });
      }
      const code = errorCode(e);
      const message = this.scrub(e instanceof Error ? e.message : String(e));
      throw new HuntressError({
        kind: "network",
        status: null,
        request: o.route,
        detail: code ? `${message} (${code})` : message,
        retryable: true,
        ambiguous: o.method !== "GET" && !(code !== undefined && NOT_SENT.has(code)),
        cause: e,
      });
    } finally {
      clearTimeout(timer);
      this.opts.log.debug("huntress request", { request: o.route, status, ms: Math.round(performance.now() - started) });
    }
  }

  /** The error an unsuccessful answer stands for, in words, without any secret. */
  httpError(o: Outgoing, a: Answer): HuntressError {
    return new HuntressError({
      kind: "http",
      status: a.status,
      request: o.route,
      detail: this.scrub(describeErrorBody(a.text) || `HTTP ${a.status}`),
      retryable: isRetryableStatus(a.status),
      ambiguous: a.status >= 500 && o.method !== "GET",
    });
  }

  /** A 2xx answer the client cannot read. Retrying will not change it. */
  responseError(o: Outgoing, a: Answer, detail: string): HuntressError {
    return new HuntressError({ kind: "response", status: a.status, request: o.route, detail: this.scrub(detail), retryable: false });
  }

  /**
   * Sends `o` until `accept` takes the answer, retrying what is worth retrying. `accept` returns
   * `{ value }` to finish or null for "an error"; `landedBefore` tells it an earlier attempt may
   * have been carried out (a DELETE answered 404 on its retry already did its work).
   */
  async send<T>(o: Outgoing, accept: (a: Answer, landedBefore: boolean) => { value: T } | null): Promise<T> {
    let landedBefore = false;
    for (let attempt = 0; ; ) {
      let failure: HuntressError;
      let retryAfterMs: number | null = null;
      try {
        const a = await this.exchange(o);
        const taken = accept(a, landedBefore);
        if (taken !== null) return taken.value;
        retryAfterMs = a.retryAfterMs;
        failure = this.httpError(o, a);
      } catch (e: unknown) {
        if (!(e instanceof HuntressError)) throw e;
        failure = e;
      }
      const worthIt = failure.retryable && (o.idempotent || !failure.ambiguous);
      if (!worthIt || attempt >= this.opts.maxRetries) throw failure.afterAttempts(attempt + 1);
      landedBefore ||= failure.ambiguous;
      const delay = backoffDelay(attempt, retryAfterMs, this.opts.backoff);
      attempt++;
      this.retries++;
      this.opts.log.warn("huntress request will be retried", { request: o.route, status: failure.status, kind: failure.kind, attempt, delayMs: delay });
      await this.opts.sleep(delay);
    }
  }
}
