/**
 * Fuzzing the HTTP envelope of every SCIM endpoint, discovery included: each method (GET, POST,
 * PUT, PATCH, DELETE, HEAD, OPTIONS) with random Authorization variants (missing, other schemes,
 * letter case, extra spaces, the admin token, 8 KB long), Content-Type (charsets, wrong types),
 * Accept, If-Match / If-None-Match (weak, strong, `*`, lists, garbage) and X-Request-Id garbage.
 * Authentication decides first (401, or 403 for the admin token); a body that is not UTF-8 JSON is
 * 415; the request id echoed is the client's only when it is safe to log.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { FuzzHarness, FUZZ_SEED, fuzzRuns, fuzzTimeout } from "../support/fuzz-harness.js";
import { CORE_GROUP, PATCH_OP, SEARCH_REQUEST, useBridge, userBody } from "../support/scim.js";

const RUNS = fuzzRuns(600);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

type Auth = { header: string | null; verdict: "ok" | "401" | "403" | "either" };
const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Auth>({ header: `Bearer ${SCIM_TOKEN}`, verdict: "ok" }) },
  fc.constantFrom<Auth>(
    { header: `bearer ${SCIM_TOKEN}`, verdict: "ok" },
    { header: `BEARER ${SCIM_TOKEN}`, verdict: "ok" },
    { header: `  Bearer ${SCIM_TOKEN}  `, verdict: "ok" },
    // RFC 6750 §2.1 allows 1*SP after the scheme; the bridge's bearer parser takes exactly one.
    { header: `Bearer  ${SCIM_TOKEN}`, verdict: "either" },
    { header: null, verdict: "401" },
    { header: "Bearer", verdict: "401" },
    { header: "Bearer ", verdict: "401" },
    { header: SCIM_TOKEN, verdict: "401" },
    { header: `Token ${SCIM_TOKEN}`, verdict: "401" },
    { header: `Basic ${Buffer.from(`okta:${SCIM_TOKEN}`).toString("base64")}`, verdict: "401" },
    { header: `Bearer ${SCIM_TOKEN}x`, verdict: "401" },
    { header: `Bearer ${SCIM_TOKEN.toUpperCase()}`, verdict: "401" },
    { header: `Bearer ${SCIM_TOKEN} ${SCIM_TOKEN}`, verdict: "401" },
    { header: `Bearer ${"A".repeat(8000)}`, verdict: "401" },
    { header: `Bearer ${ADMIN_TOKEN}`, verdict: "403" },
  ),
);

const JSON_TYPES = ["application/scim+json", "application/json", "application/scim+json; charset=utf-8", "application/json;charset=UTF-8", "APPLICATION/JSON", "application/json; foo=bar"];
const OTHER_TYPES = ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "json"];
const BAD_CHARSETS = ["application/json; charset=utf-16", "application/scim+json; charset=iso-8859-1", "application/json; charset=klingon"];
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...JSON_TYPES).map((t) => ({ header: t as string | null, verdict: "json" as const })) },
  fc.constantFrom(...OTHER_TYPES).map((t) => ({ header: t as string | null, verdict: "415" as const })),
  fc.constantFrom(...BAD_CHARSETS).map((t) => ({ header: t as string | null, verdict: "415" as const })),
  fc.constant({ header: null as string | null, verdict: "either" as const }),
);

const etag = fc.constantFrom('W/"1"', '"1"', 'W/"2"', "*", 'W/"999"', "garbage", '"a", W/"1"', "W/", 'w/"1"', '""', " , ");
// What fetch lets a client put in a header: visible ASCII, space, tab and obs-text (RFC 9110 §5.5), not empty.
const latin1 = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== "");
const requestId = fc.oneof(fc.constantFrom("req-1", "a.b:c_d-e", "x".repeat(128), "x".repeat(129), "../../etc/passwd", "id with spaces", "<script>", "ünïcode"), latin1);

const ENDPOINTS = ["/Users", "/Users/{user}", "/Users/.search", "/Groups", "/Groups/{group}", "/Groups/.search", "/.search", "/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/ResourceTypes/Widget", "/Schemas", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "/Bulk", "/Me", "/Users/{user}/groups", "/Widgets", "", "/Users?filter=userName%20eq%20%22x%22", "/Users/%E0%A4%A"];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

const headerCase = fc.record({
  endpoint: fc.constantFrom(...ENDPOINTS),
  method: fc.constantFrom(...METHODS),
  pick: fc.nat(),
  auth,
  contentType,
  withBody: fc.boolean(),
  accept: fc.option(fc.constantFrom("*/*", "application/scim+json", "application/json", "text/html", "application/xml", "garbage;;q=x"), { nil: undefined }),
  ifMatch: fc.option(etag, { nil: undefined }),
  ifNoneMatch: fc.option(etag, { nil: undefined }),
  requestId: fc.option(requestId, { nil: undefined }),
});

describe("fuzzing headers and methods", () => {
  const bridge = useBridge();
  let harness: FuzzHarness;
  let serial = 0;

  beforeAll(async () => {
    await FuzzHarness.quiesce(bridge);
    harness = new FuzzHarness(bridge);
    for (let i = 0; i < 20; i++) await harness.send({ method: "POST", path: "/Users", body: userBody(`seed${i}@example.com`) });
    await harness.send({ method: "POST", path: "/Groups", body: { schemas: [CORE_GROUP], displayName: "Seeded" } });
  });
  afterAll(() => harness.close());

  /** A body that fits the endpoint and method, so whatever is refused is refused for the headers. */
  function bodyFor(path: string, method: string): unknown {
    if (path.endsWith(".search")) return { schemas: [SEARCH_REQUEST], count: 2 };
    if (method === "PATCH") return { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: `Patched ${++serial}` }] };
    if (path.startsWith("/Groups")) return { schemas: [CORE_GROUP], displayName: `Group ${++serial}` };
    return userBody(`fuzz${FUZZ_SEED}.${++serial}@example.com`);
  }

  it(`answers every method and header combination with a SCIM answer (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(headerCase, async (c) => {
        const path = c.endpoint
          .replace("{user}", harness.existing("Users", c.pick) ?? "no-such-user")
          .replace("{group}", harness.existing("Groups", c.pick) ?? "no-such-group");
        const sendsBody = c.withBody && c.method !== "GET" && c.method !== "HEAD";
        const headers: Record<string, string | null> = { Authorization: c.auth.header, "Content-Type": sendsBody ? c.contentType.header : null };
        if (c.accept !== undefined) headers["Accept"] = c.accept;
        if (c.ifMatch !== undefined) headers["If-Match"] = c.ifMatch;
        if (c.ifNoneMatch !== undefined) headers["If-None-Match"] = c.ifNoneMatch;
        if (c.requestId !== undefined) headers["X-Request-Id"] = c.requestId;
        const res = await harness.send({ method: c.method, path, headers, ...(sendsBody ? { body: bodyFor(path, c.method) } : {}) });

        const echoed = res.headers.get("x-request-id") ?? "";
        // HTTP drops a field value's leading and trailing whitespace (RFC 9110 §5.5) before the bridge sees it.
        const given = c.requestId?.trim();
        if (given !== undefined && SAFE_REQUEST_ID.test(given)) expect(echoed).toBe(given);
        else expect(echoed).toMatch(UUID);
        if (c.auth.verdict === "401" || c.auth.verdict === "403") {
          expect(res.status, res.text).toBe(Number(c.auth.verdict));
        } else if (c.auth.verdict === "ok") {
          expect([401, 403]).not.toContain(res.status);
          if (sendsBody && c.contentType.verdict === "415") expect(res.status, res.text).toBe(415);
        }
      }),
      { seed: FUZZ_SEED, numRuns: RUNS },
    );
    console.info(`${expect.getState().currentTestName}: ${harness.summary()}`);
    for (const status of [200, 201, 304, 401, 403, 404, 405, 415, 501]) expect(harness.count((s) => s === status), `status ${status}`).toBeGreaterThan(0);
    harness.expectSound();
  }, fuzzTimeout(RUNS));
});
