/**
 * Rate limits on the SCIM API, the admin API, /metrics and the review page: one budget per source
 * address, checked before authentication (it also slows anyone guessing tokens), and one per token
 * name, checked right after it. /healthz and /readyz are not limited: an orchestrator's probes must
 * see the bridge as it is, never a 429 of their own making.
 *
 * Each budget is GCRA (the generic cell rate algorithm, a token bucket kept as one number per key):
 * a key may send `burst` requests at once and `perSecond` after that. A refusal is a 429 with
 * Retry-After in each API's own error form. State lives in memory, per process.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIPv4, isIPv6 } from "node:net";
import type { Response } from "express";
import { sendProblem } from "../admin/problem.js";
import { pathOf, type Handler, type Next } from "./handler.js";
import type { Logger } from "../log.js";
import { send } from "../scim/router.js";
import { ERROR_SCHEMA } from "../scim/schema.js";

export interface Rate {
  /** Sustained requests per second; 0 turns the limit off. */
  readonly perSecond: number;
  /** Requests allowed at once on top of the sustained rate (a full bucket). */
  readonly burst: number;
}

/** A rate that limits nothing. */
export const NO_LIMIT: Rate = { perSecond: 0, burst: 1 };

export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number; readonly firstInWindow: boolean };

/** A refused key is logged at most once in this long, so a flood costs one log line a minute per key, not one per request. */
const LOG_WINDOW_MS = 60_000;
/** Idle keys are swept at most this often; a sweep walks every key, so not on each request. */
const SWEEP_INTERVAL_MS = 1_000;
/**
 * Hard cap on keys held. Only a flood from more distinct addresses than this within a few seconds
 * reaches it; the oldest key is then forgotten, which can only give that key a fresh budget, never
 * refuse anyone wrongly. About 100 bytes a key: a few MB at most.
 */
const DEFAULT_MAX_KEYS = 50_000;

interface Entry {
  /** GCRA's theoretical arrival time (ms): the bucket is full again when the clock reaches it. */
  tat: number;
  /** When this key's last refusal was logged; -Infinity when never. */
  loggedAt: number;
}

/** One GCRA budget per key, with bounded memory. */
export class KeyedLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private lastSweep: number;

  constructor(
    rate: Rate,
    private readonly now: () => number,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new RangeError("a rate limit needs perSecond > 0 and burst >= 1");
    this.intervalMs = 1000 / rate.perSecond;
    this.toleranceMs = this.intervalMs * rate.burst;
    this.lastSweep = now();
  }

  /** Books one request for `key` if its budget allows, else says how long until it would. */
  take(key: string): Verdict {
    const t = this.now();
    if (t - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(t);
    const entry = this.entries.get(key);
    if (!entry) {
      // An unseen key has a full bucket, and burst >= 1 means it has room for one.
      this.insert(key, { tat: t + this.intervalMs, loggedAt: -Infinity });
      return { allowed: true };
    }
    const tat = Math.max(entry.tat, t) + this.intervalMs;
    const allowAt = tat - this.toleranceMs;
    if (t >= allowAt) {
      entry.tat = tat;
      return { allowed: true };
    }
    const firstInWindow = t - entry.loggedAt >= LOG_WINDOW_MS;
    if (firstInWindow) entry.loggedAt = t;
    return { allowed: false, retryAfterMs: allowAt - t, firstInWindow };
  }

  /** Keys held now, to show memory stays bounded. */
  size(): number {
    return this.entries.size;
  }

  /** At the cap the oldest key goes at once: sweeping here instead would cost a walk of every key per request of a flood. */
  private insert(key: string, entry: Entry): void {
    if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, entry);
  }

  /** Forgets keys whose bucket is full again and whose last refusal log is old: they are the same as unseen keys. */
  private sweep(t: number): void {
    this.lastSweep = t;
    for (const [key, e] of this.entries) {
      if (e.tat <= t && t - e.loggedAt >= LOG_WINDOW_MS) this.entries.delete(key);
    }
  }
}

/**
 * The key for a source address: IPv4 as is (also when IPv4-mapped in IPv6), IPv6 by its /64,
 * because one host usually holds a whole /64 and could otherwise take a fresh budget per address.
 */
export function addressKey(ip: string | undefined): string {
  if (ip === undefined || ip === "") return "unknown";
  if (isIPv4(ip)) return ip;
  const mapped = /^::ffff:([\d.]+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  const bare = ip.split("%")[0]!;
  if (!isIPv6(bare)) return ip;
  const [head = "", tail] = bare.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  let groups = headGroups;
  if (tail !== undefined) {
    const tailGroups = tail === "" ? [] : tail.split(":");
    // A dotted IPv4 tail (::1.2.3.4) stands for two groups.
    const tailCount = tailGroups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
    groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailCount).fill("0"), ...tailGroups];
  }
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

export type LimitKind = "address" | "token";

/** Answers a refused request in the form its API uses; Retry-After is already set. */
export type Refuse<Res extends ServerResponse = ServerResponse> = (res: Res, detail: string) => void;

/** SCIM routes: an RFC 7644 §3.12 error. §3.12 defines no scimType for 429, so there is none. */
export const refuseScim: Refuse = (res, detail) => send(res, { status: 429, body: { schemas: [ERROR_SCHEMA], status: "429", detail } });

/** Admin API routes: RFC 9457 problem details. */
export const refuseProblem: Refuse<Response> = (res, detail) => sendProblem(res, 429, detail);

/**
 * Review page routes: plain text. The page's own layout would pull a stylesheet that is itself
 * refused, and text cannot run script, so no CSP is needed; nosniff keeps browsers from guessing.
 */
export const refusePlainText: Refuse<Response> = (res, detail) => {
  res.status(429).setHeader("X-Content-Type-Options", "nosniff");
  res.type("text/plain").send(`${detail}\n`);
};

export interface RequestLimitsOptions {
  readonly perToken: Rate;
  readonly perAddress: Rate;
  readonly log: Logger;
  readonly now?: () => number;
  readonly maxKeys?: number;
}

/** The two budgets of one running bridge, their middleware, and a count of refusals for /metrics. */
export class RequestLimits {
  private readonly address: KeyedLimiter | undefined;
  private readonly token: KeyedLimiter | undefined;
  private readonly refused: Record<LimitKind, number> = { address: 0, token: 0 };
  private readonly log: Logger;

  constructor(o: RequestLimitsOptions) {
    const now = o.now ?? Date.now;
    this.log = o.log;
    this.address = o.perAddress.perSecond > 0 ? new KeyedLimiter(o.perAddress, now, o.maxKeys) : undefined;
    this.token = o.perToken.perSecond > 0 ? new KeyedLimiter(o.perToken, now, o.maxKeys) : undefined;
  }

  /** Limits by source address (`addressOf`, which honours SCIM_BRIDGE_TRUST_PROXY); mount before authentication. */
  byAddress<Res extends ServerResponse>(addressOf: (req: IncomingMessage) => string | undefined, refuse: Refuse<Res>): Handler<Res> {
    const limiter = this.address;
    if (!limiter) return (_req, _res, next) => next();
    return (req, res, next) => {
      const key = addressKey(addressOf(req));
      const verdict = limiter.take(key);
      if (verdict.allowed) return next();
      this.refuse(req, res, verdict, refuse, "address", key, `Too many requests from ${key}`);
    };
  }

  /** Runs `authenticate`, then limits by the authenticated token's name. */
  byToken<Res extends ServerResponse>(authenticate: Handler<Res>, refuse: Refuse<Res>): Handler<Res> {
    const limiter = this.token;
    if (!limiter) return authenticate;
    return (req, res, next) => {
      const afterAuth: Next = (err) => {
        if (err !== undefined) return next(err);
        const name = req.principal?.name;
        // No principal would be a wiring mistake; the routes behind refuse it themselves.
        if (name === undefined) return next();
        const verdict = limiter.take(name);
        if (verdict.allowed) return next();
        this.refuse(req, res, verdict, refuse, "token", name, `Too many requests for token "${name}"`);
      };
      authenticate(req, res, afterAuth);
    };
  }

  /** Requests refused so far, by budget; read by /metrics at scrape time. */
  refusals(): readonly { readonly kind: LimitKind; readonly count: number }[] {
    return [
      { kind: "address", count: this.refused.address },
      { kind: "token", count: this.refused.token },
    ];
  }

  private refuse<Res extends ServerResponse>(req: IncomingMessage, res: Res, verdict: Verdict & { allowed: false }, refuse: Refuse<Res>, kind: LimitKind, key: string, what: string): void {
    this.refused[kind]++;
    const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    if (verdict.firstInWindow) {
      this.log.warn("rate limit: request refused", {
        requestId: req.requestId,
        kind,
        ...(kind === "address" ? { ip: key } : { tokenName: key }),
        path: pathOf(req),
        retryAfterSeconds: seconds,
      });
    }
    res.setHeader("Retry-After", String(seconds));
    refuse(res, `${what}; retry after ${seconds} second${seconds === 1 ? "" : "s"}`);
  }
}
