/**
 * Inbound rate limits: the GCRA budget on a controlled clock, bounded memory under a flood of
 * addresses, IPv6 keyed by /64, and over real HTTP each API's 429 with Retry-After, the address
 * budget before authentication, tokens that do not share a budget, and probes that are never refused.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../src/auth/tokens.js";
import { systemClock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { TokenStore } from "../../src/db/tokens.js";
import { addressKey, KeyedLimiter, NO_LIMIT, RequestLimits } from "../../src/http/rate-limit.js";
import { ADMIN_TOKEN, SCIM_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";
import { capturingLogger, exchange } from "../support/io.js";
import { ERROR } from "../support/scim.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("the GCRA budget", () => {
  it("allows a burst at once, then one request per interval, and says how long to wait", () => {
    const c = clock();
    const limiter = new KeyedLimiter({ perSecond: 10, burst: 5 }, c.now);
    for (let i = 0; i < 5; i++) expect(limiter.take("k").allowed, `request ${i}`).toBe(true);
    const refused = limiter.take("k");
    expect(refused).toMatchObject({ allowed: false });
    expect(refused.allowed ? 0 : refused.retryAfterMs).toBeCloseTo(100, 6);
    c.advance(99);
    expect(limiter.take("k").allowed).toBe(false);
    c.advance(1);
    expect(limiter.take("k").allowed).toBe(true);
    expect(limiter.take("k").allowed).toBe(false);
  });

  it("lets through exactly the sustained rate over a long run, plus the burst", () => {
    const c = clock();
    const limiter = new KeyedLimiter({ perSecond: 25, burst: 10 }, c.now);
    let allowed = 0;
    // 100 requests a second for 60 s from one key.
    for (let i = 0; i < 6000; i++) {
      if (limiter.take("entra").allowed) allowed++;
      c.advance(10);
    }
    expect(allowed).toBeGreaterThanOrEqual(25 * 60 + 10 - 1);
    expect(allowed).toBeLessThanOrEqual(25 * 60 + 10);
  });

  it("never refuses a client that keeps to the rate, such as Entra at 25 requests/s under the default 200/s", () => {
    const c = clock();
    const limiter = new KeyedLimiter({ perSecond: 200, burst: 2000 }, c.now);
    let refused = 0;
    for (let i = 0; i < 25 * 600; i++) {
      if (!limiter.take("entra").allowed) refused++;
      c.advance(40);
    }
    expect(refused).toBe(0);
  });

  it("keeps each key's budget separate", () => {
    const c = clock();
    const limiter = new KeyedLimiter({ perSecond: 1, burst: 2 }, c.now);
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")].map((v) => v.allowed)).toEqual([true, true, false]);
    expect(limiter.take("b").allowed).toBe(true);
  });

  it("asks for a log line on the first refusal of a key, then at most once a minute", () => {
    const c = clock();
    const limiter = new KeyedLimiter({ perSecond: 1, burst: 1 }, c.now);
    limiter.take("k");
    const firsts: boolean[] = [];
    for (let i = 0; i < 150; i++) {
      // 10 requests a second for 15 s, 65 s later another 15 s.
      if (i === 75) c.advance(65_000);
      const v = limiter.take("k");
      if (!v.allowed) firsts.push(v.firstInWindow);
      c.advance(100);
    }
    expect(firsts.filter(Boolean)).toHaveLength(2);
    expect(firsts[0]).toBe(true);
  });

  it("holds a bounded number of keys under a flood of distinct addresses", () => {
    const c = clock();
    const limiter = new KeyedLimiter({ perSecond: 100, burst: 400 }, c.now);
    let most = 0;
    // 200,000 addresses, 5,000 new ones a second, each sending one request.
    for (let i = 0; i < 200_000; i++) {
      limiter.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      most = Math.max(most, limiter.size());
      c.advance(0.2);
    }
    // A one-off key is idle 10 ms later and swept within a second: about one second of arrivals.
    expect(most).toBeLessThanOrEqual(5_100);
    c.advance(2_000);
    limiter.take("late");
    expect(limiter.size()).toBe(1);
  });

  it("holds at most maxKeys even when every key is still busy, without refusing a new one", () => {
    const c = clock();
    const limiter = new KeyedLimiter({ perSecond: 1, burst: 1 }, c.now, 1000);
    let refused = 0;
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      if (!limiter.take(`k${i}`).allowed) refused++;
      most = Math.max(most, limiter.size());
    }
    expect(refused).toBe(0);
    expect(most).toBe(1000);
  });

  it("refuses a limiter that could never allow a request", () => {
    expect(() => new KeyedLimiter({ perSecond: 0, burst: 1 }, Date.now)).toThrow(RangeError);
    expect(() => new KeyedLimiter({ perSecond: 1, burst: 0 }, Date.now)).toThrow(RangeError);
  });
});

describe("the key of a source address", () => {
  it("is the IPv4 address itself, also when IPv4-mapped", () => {
    expect(addressKey("192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
  });

  it("is the /64 for IPv6, however the address is written", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002:ffff:1:2:3")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  });

  it("is a placeholder when the socket is gone", () => {
    expect(addressKey(undefined)).toBe("unknown");
  });
});

describe("a limit set to 0", () => {
  it("lets every request through", () => {
    const { log } = capturingLogger();
    const limits = new RequestLimits({ perToken: NO_LIMIT, perAddress: NO_LIMIT, log });
    const handler = limits.byAddress(
      () => "192.0.2.1",
      () => expect.unreachable(),
    );
    let passed = 0;
    for (let i = 0; i < 10_000; i++) handler({} as IncomingMessage, {} as ServerResponse, () => passed++);
    expect(passed).toBe(10_000);
    expect(limits.refusals()).toEqual([
      { kind: "address", count: 0 },
      { kind: "token", count: 0 },
    ]);
  });
});

describe("rate limit and timeout configuration", () => {
  it("defaults to budgets no IdP reaches and to timeouts under the IdPs' 60 s", () => {
    const c = loadConfig({});
    expect(c.rateLimit).toEqual({ perToken: 200, perTokenBurst: 2000, perAddress: 400, perAddressBurst: 4000 });
    expect([c.requestTimeoutSeconds, c.headersTimeoutSeconds, c.keepAliveTimeoutSeconds]).toEqual([60, 30, 65]);
  });

  it("reads the environment variables, fractions and 0 included", () => {
    const c = loadConfig({
      SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: "0.5",
      SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN_BURST: "7",
      SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: "0",
      SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS_BURST: "9",
      SCIM_BRIDGE_REQUEST_TIMEOUT_SECONDS: "20",
      SCIM_BRIDGE_HEADERS_TIMEOUT_SECONDS: "5",
      SCIM_BRIDGE_KEEP_ALIVE_TIMEOUT_SECONDS: "75",
    });
    expect(c.rateLimit).toEqual({ perToken: 0.5, perTokenBurst: 7, perAddress: 0, perAddressBurst: 9 });
    expect([c.requestTimeoutSeconds, c.headersTimeoutSeconds, c.keepAliveTimeoutSeconds]).toEqual([20, 5, 75]);
  });

  it("reads the config file keys, and the environment wins", () => {
    const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-config-")), "bridge.json");
    writeFileSync(file, JSON.stringify({ rateLimit: { perToken: 0, perAddressBurst: 1000 }, requestTimeoutSeconds: 45 }));
    const c = loadConfig({ SCIM_BRIDGE_CONFIG: file, SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: "30" });
    expect(c.rateLimit).toEqual({ perToken: 0, perTokenBurst: 2000, perAddress: 30, perAddressBurst: 1000 });
    expect(c.requestTimeoutSeconds).toBe(45);
  });

  it("refuses nonsense and names the variable", () => {
    expect(() => loadConfig({ SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: "-1" })).toThrow(/SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN:/);
    expect(() => loadConfig({ SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS_BURST: "0" })).toThrow(/SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS_BURST:/);
    expect(() => loadConfig({ SCIM_BRIDGE_REQUEST_TIMEOUT_SECONDS: "0" })).toThrow(/SCIM_BRIDGE_REQUEST_TIMEOUT_SECONDS:/);
    expect(() => loadConfig({ SCIM_BRIDGE_REQUEST_TIMEOUT_SECONDS: "10", SCIM_BRIDGE_HEADERS_TIMEOUT_SECONDS: "20" })).toThrow(
      /SCIM_BRIDGE_HEADERS_TIMEOUT_SECONDS: must not be longer than requestTimeoutSeconds/,
    );
  });
});

describe("default limits over HTTP", () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    // The shipped defaults, not the test harness's "off": read from a config with nothing set.
    const defaults = loadConfig({}).rateLimit;
    bridge = await startBridge({
      SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: String(defaults.perToken),
      SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN_BURST: String(defaults.perTokenBurst),
      SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: String(defaults.perAddress),
      SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS_BURST: String(defaults.perAddressBurst),
    });
  });
  afterAll(() => bridge.close());

  it("refuses none of a conformance run's 400 back-to-back requests (one token, one address)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 400; i++) {
      const r = i % 2 === 0 ? await bridge.scim("GET", "/Users?count=1") : await bridge.scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "nobody${i}"`)}`);
      statuses.push(r.status);
    }
    expect(statuses.filter((s) => s === 429)).toHaveLength(0);
    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});

const retryAfterOf = (headers: Headers): number => {
  const value = headers.get("retry-after") ?? "";
  expect(value).toMatch(/^\d+$/);
  return Number(value);
};

describe("per-token limits over HTTP", () => {
  // One request every 10 s after a burst of 3: a test never waits long enough for a refill.
  let bridge: TestBridge;
  let secondToken: string;
  beforeAll(async () => {
    bridge = await startBridge({ SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: "0.1", SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN_BURST: "3", SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: "0" });
    secondToken = issueToken(new TokenStore(bridge.running.db, systemClock), "okta-second", "scim").token;
  });
  afterAll(() => bridge.close());

  it("answers a SCIM request over the token's budget with a SCIM 429 and Retry-After, and leaves another token alone", async () => {
    for (let i = 0; i < 3; i++) expect((await bridge.scim("GET", "/Users")).status, `request ${i}`).toBe(200);
    const refused = await bridge.scim("GET", "/Users");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("application/scim+json; charset=utf-8");
    // RFC 7644 §3.12 has no scimType for 429.
    expect(refused.body).toEqual({ schemas: [ERROR], status: "429", detail: expect.stringMatching(/^Too many requests for token "env:SCIM_BRIDGE_SCIM_TOKEN"; retry after \d+ seconds?$/) });
    const wait = retryAfterOf(refused.headers);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(10);

    const other = await bridge.scim("GET", "/Users", undefined, { Authorization: `Bearer ${secondToken}` });
    expect(other.status).toBe(200);
    // A refused request did no work: no write, no audit row.
    const post = await bridge.scim("POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "late@example.com" });
    expect(post.status).toBe(429);
    expect(bridge.running.db.prepare("SELECT count(*) FROM users").pluck().get()).toBe(0);
  });

  it("answers an admin API request over the token's budget with problem+json 429 and Retry-After", async () => {
    const admin = (path: string) => exchange(`${bridge.running.url}/admin/api${path}`, "GET", { Authorization: `Bearer ${ADMIN_TOKEN}` }, undefined, "application/json");
    for (let i = 0; i < 3; i++) expect((await admin("/jobs")).status, `request ${i}`).toBe(200);
    const refused = await admin("/jobs");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(refused.body).toEqual({ type: "about:blank", title: "Too Many Requests", status: 429, detail: expect.stringContaining('token "env:SCIM_BRIDGE_ADMIN_TOKEN"') });
    expect(retryAfterOf(refused.headers)).toBeGreaterThanOrEqual(1);
  });

  it("logs the refusal once per token, by name, never the token", () => {
    const refusals = bridge.logLines.filter((l) => l.includes("rate limit: request refused")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(refusals.map((r) => [r["level"], r["kind"], r["tokenName"]])).toEqual([
      ["warn", "token", "env:SCIM_BRIDGE_SCIM_TOKEN"],
      ["warn", "token", "env:SCIM_BRIDGE_ADMIN_TOKEN"],
    ]);
    const all = bridge.logLines.join("\n");
    for (const secret of [SCIM_TOKEN, ADMIN_TOKEN, secondToken]) expect(all).not.toContain(secret);
    expect(bridge.running.limits.refusals()).toEqual([
      { kind: "address", count: 0 },
      { kind: "token", count: 3 },
    ]);
  });
});

describe("per-address limits over HTTP", () => {
  let bridge: TestBridge | undefined;
  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
  });
  const env = (more: Record<string, string> = {}) => ({
    SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: "0.1",
    SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS_BURST: "3",
    SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: "0",
    ...more,
  });

  it("refuses an address before authentication, whatever token it then shows, but never the health probes", async () => {
    bridge = await startBridge(env());
    const b = bridge;
    for (let i = 0; i < 3; i++) expect((await b.scim("GET", "/Users", undefined, { Authorization: `Bearer scimbridge_guess${i}` })).status).toBe(401);
    const guess = await b.scim("GET", "/Users", undefined, { Authorization: "Bearer scimbridge_guess3" });
    expect(guess.status).toBe(429);
    expect(guess.body).toMatchObject({ schemas: [ERROR], status: "429", detail: expect.stringMatching(/^Too many requests from 127\.0\.0\.1; retry after/) });
    // The valid token shares the address's budget: the limit is not a side door around authentication.
    expect((await b.scim("GET", "/Users")).status).toBe(429);
    const admin = await exchange(`${b.running.url}/admin/api/jobs`, "GET", { Authorization: `Bearer ${ADMIN_TOKEN}` }, undefined, "application/json");
    expect(admin.status).toBe(429);
    expect(admin.body).toMatchObject({ title: "Too Many Requests", status: 429 });
    const page = await fetch(`${b.running.url}/admin/sign-in`);
    expect(page.status).toBe(429);
    expect(page.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(retryAfterOf(page.headers)).toBeGreaterThanOrEqual(1);
    expect(await page.text()).toMatch(/^Too many requests from 127\.0\.0\.1; retry after \d+ seconds?\n$/);

    for (let i = 0; i < 20; i++) {
      expect((await fetch(`${b.running.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${b.running.url}/readyz`)).status).toBe(200);
    }
    const refusals = b.logLines.filter((l) => l.includes("rate limit: request refused")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: "warn", kind: "address", ip: "127.0.0.1", path: "/scim/v2/Users" });
    expect(b.logLines.join("\n")).not.toContain("scimbridge_guess");
    expect(b.running.limits.refusals()).toEqual([
      { kind: "address", count: 4 },
      { kind: "token", count: 0 },
    ]);
  });

  it("ignores X-Forwarded-For unless the proxy is trusted, so a client cannot pick a fresh address per request", async () => {
    bridge = await startBridge(env());
    const b = bridge;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await b.scim("GET", "/Users", undefined, { "X-Forwarded-For": `198.51.100.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it("keys by the client address the trusted proxy forwards", async () => {
    bridge = await startBridge(env({ SCIM_BRIDGE_TRUST_PROXY: "loopback" }));
    const b = bridge;
    const from = (ip: string) => b.scim("GET", "/Users", undefined, { "X-Forwarded-For": ip });
    for (let i = 0; i < 3; i++) expect((await from("198.51.100.1")).status).toBe(200);
    expect((await from("198.51.100.1")).status).toBe(429);
    expect((await from("198.51.100.2")).status).toBe(200);
    // Another address in the same IPv6 /64 shares its budget.
    for (let i = 0; i < 3; i++) expect((await from(`2001:db8:1:2::${i + 1}`)).status).toBe(200);
    expect((await from("2001:db8:1:2:ffff::9")).status).toBe(429);
    expect((await from("2001:db8:1:3::1")).status).toBe(200);
  });
});
