/**
 * One HTTP exchange with HaloPSA, and the retry policy around it: a per-request timeout, the
 * client-side rate limit, and exponential backoff with jitter on 429, 5xx, timeouts and network
 * errors. Knows nothing about agents or tickets.
 */
import type { Logger } from "../../log.js";
import { describeErrorBody, HaloPsaError, redactSecrets } from "./errors.js";
import type { RollingWindowLimiter } from "./rate-limiter.js";

export interface Outgoing {
  readonly method: "GET" | "POST";
  readonly url: string;
  /** "POST /api/Agent": what logs and errors name (never the query string). */
  readonly route: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /**
   * Safe to send twice. A create is not: after a timeout or a 5xx it may have landed, so it is
   * retried only when HaloPSA certainly did not act on it (429, connection refused).
   */
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
  readonly secrets: () => Iterable<string>;
}

/** Errors that prove the request never reached the server (shared with the Huntress transport). */
export const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

export function errorCode(e: unknown): string | undefined {
  const cause = e instanceof Error ? (e.cause as { code?: unknown } | undefined) : undefined;
  const code = cause?.code ?? (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. HaloPSA sends none today (domain.md), but a proxy might. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

export class Transport {
  calls = 0;
  retries = 0;

  constructor(private readonly opts: TransportOptions) {}

  /** One attempt: waits for a rate-limit slot, sends, reads the whole body within the timeout. */
  async exchange(o: Outgoing): Promise<Answer> {
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
        throw new HaloPsaError({
          kind: "timeout",
          status: null,
          request: o.route,
          detail: `no answer within ${this.opts.timeoutMs} ms`,
          retryable: true,
          ambiguous: o.method !== "GET",
        });
      }
      const code = errorCode(e);
      const message = redactSecrets(e instanceof Error ? e.message : String(e), this.opts.secrets());
      throw new HaloPsaError({
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
      this.opts.log.debug("halopsa request", { request: o.route, status, ms: Math.round(performance.now() - started) });
    }
  }

  /** The error an unsuccessful answer stands for, in words, without any secret. */
  httpError(o: Outgoing, a: Answer, hint?: string): HaloPsaError {
    const detail = describeErrorBody(a.text) || `HTTP ${a.status}`;
    return new HaloPsaError({
      kind: "http",
      status: a.status,
      request: o.route,
      detail: redactSecrets(hint ? `${detail}: ${hint}` : detail, this.opts.secrets()),
      retryable: a.status === 429 || a.status === 408 || a.status >= 500,
      ambiguous: a.status >= 500 && o.method !== "GET",
    });
  }

  /**
   * Sends `o` (re-built per attempt, so a fresh token can go in) until `accept` takes the answer,
   * retrying what is worth retrying. `accept` returns `{ value }` to finish, `"again"` to send once
   * more without counting a retry (a 401 answered with a fresh token), or null for "an error".
   */
  async send<T>(build: () => Promise<Outgoing>, accept: (o: Outgoing, a: Answer) => { value: T } | "again" | null): Promise<T> {
    for (let attempt = 0; ; ) {
      const o = await build();
      let failure: HaloPsaError;
      let retryAfterMs: number | null = null;
      try {
        const a = await this.exchange(o);
        const taken = accept(o, a);
        if (taken === "again") continue;
        if (taken !== null) return taken.value;
        retryAfterMs = a.retryAfterMs;
        failure = this.httpError(o, a);
      } catch (e: unknown) {
        if (!(e instanceof HaloPsaError)) throw e;
        failure = e;
      }
      const worthIt = failure.retryable && (o.idempotent || !failure.ambiguous);
      if (!worthIt || attempt >= this.opts.maxRetries) throw failure;
      const delay = this.delay(attempt, retryAfterMs);
      attempt++;
      this.retries++;
      this.opts.log.warn("halopsa request will be retried", { request: o.route, status: failure.status, kind: failure.kind, attempt, delayMs: delay });
      await this.opts.sleep(delay);
    }
  }

  private delay(attempt: number, retryAfterMs: number | null): number {
    return backoffDelay(attempt, retryAfterMs, this.opts.backoff);
  }
}

/**
 * Exponential backoff with "equal jitter": half the step fixed, half random, so steps still grow.
 * A Retry-After longer than the step wins, capped at `maxMs`. Shared with the Huntress transport.
 */
export function backoffDelay(attempt: number, retryAfterMs: number | null, backoff: { readonly baseMs: number; readonly maxMs: number }): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** attempt);
  const jittered = step / 2 + Math.random() * (step / 2);
  return Math.round(retryAfterMs === null ? jittered : Math.max(jittered, Math.min(retryAfterMs, backoff.maxMs)));
}
