/**
 * The Huntress client against the simulator over real HTTP on loopback: the reference's
 * envelopes and paging, the client-side sliding window, bounded backoff through 5xx bursts,
 * timeouts and 429 storms, one ConnectorError with status and `retryable`, and no key or secret
 * in any error, log line or object a caller could print.
 */
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HuntressClient, type HuntressClientOptions } from "../../src/apps/huntress/client.js";
import { ConnectorError } from "../../src/domain/connector-error.js";
import { startHuntressSimulator, type HuntressSimulator } from "../../src/dev/huntress-simulator.js";
import { capturingLogger } from "../support/io.js";

async function caught(p: Promise<unknown>): Promise<ConnectorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConnectorError);
  return e as ConnectorError;
}

describe("HuntressClient", () => {
  let sim: HuntressSimulator;
  const logs = capturingLogger();

  function client(over: Partial<HuntressClientOptions> = {}): HuntressClient {
    return new HuntressClient({
      baseUrl: sim.url,
      apiKey: sim.apiKey,
      apiSecret: sim.apiSecret,
      log: logs.log,
      rateLimit: null,
      timeoutMs: 2000,
      maxRetries: 3,
      backoff: { baseMs: 5, maxMs: 40 },
      ...over,
    });
  }

  beforeAll(async () => {
    sim = await startHuntressSimulator({ rateLimit: null });
  });
  afterAll(async () => {
    await sim.close();
  });
  afterEach(() => {
    sim.faults.reset();
    sim.resetCounts();
    sim.setRateLimit(null);
    sim.setMembershipsScope(true);
  });

  describe("memberships", () => {
    it("invites with the reference's creation parameters and reads the member_invitation back", async () => {
      const invitation = await client().invite("ada@example.com", "Ada", "Lovelace", "Admin");
      expect(invitation).toEqual({ email: "ada@example.com", name: "Ada Lovelace", permissions: "Admin", scope: { kind: "account", id: 1234, name: "Exemplary Accounting, LLC" } });
      expect(sim.invitations.find((i) => i.email === "ada@example.com")).toMatchObject({ firstName: "Ada", lastName: "Lovelace", permissions: "Admin" });
      const org = sim.state.addOrganization("Org");
      expect((await client().invite("org@example.com", "O", "P", "Read-only", org.id)).scope).toEqual({ kind: "organization", id: org.id, name: "Org" });
    });

    it("lists every membership, following next_page_token across pages of 500", async () => {
      for (let i = 0; i < 1100; i++) sim.seedMembership({ email: `bulk${i}@example.com` });
      sim.resetCounts();
      const all = await client().listMemberships();
      expect(all.length).toBeGreaterThanOrEqual(1101);
      expect(new Set(all.map((m) => m.id)).size).toBe(all.length);
      expect(sim.requestCount("GET", "/v1/memberships")).toBe(3);
      const one = all.find((m) => m.user.email === "bulk7@example.com")!;
      expect(one).toMatchObject({ permissions: "User", scope: { kind: "account", id: 1234 }, user: { email: "bulk7@example.com" } });
      expect(typeof one.createdAt).toBe("string");
      expect((await client().listMemberships({ permissions: "Admin" })).map((m) => m.user.email)).toContain("owner@huntress-customer.example");
    });

    it("changes permissions with PATCH and removes with DELETE", async () => {
      const [m] = [sim.seedMembership({ email: "cy@example.com", permissions: "User" })];
      const updated = await client().updatePermissions(m!.id, "Admin");
      expect(updated).toMatchObject({ id: m!.id, permissions: "Admin" });
      expect(sim.permissionsOf("cy@example.com")).toBe("Admin");
      await client().deleteMembership(m!.id);
      expect(sim.membershipsOf("cy@example.com")).toEqual([]);
      const gone = await caught(client().deleteMembership(m!.id));
      expect(gone).toMatchObject({ status: 404, retryable: false, kind: "http", request: "DELETE /v1/memberships/{id}" });
    });

    it("acts on a managed account under /v1/accounts/{account_id}/memberships when given an accountId", async () => {
      const managed = sim.state.addManagedAccount("Managed");
      const c = client({ accountId: managed.id });
      await c.invite("managed@example.com", "M", "N", "User");
      const [m] = sim.acceptInvitation("managed@example.com");
      expect((await c.listMemberships()).map((x) => x.id)).toEqual([m!.id]);
      await c.updatePermissions(m!.id, "Admin");
      expect(sim.requestCount("POST", "/v1/accounts/:account_id/memberships")).toBe(1);
      expect(sim.requestCount("PATCH", "/v1/accounts/:account_id/memberships/:id")).toBe(1);
      const unknown = await caught(client({ accountId: 999_999 }).listMemberships());
      expect(unknown).toMatchObject({ status: 404, retryable: false });
    });

    it("tolerates a trailing /v1 on the base URL", async () => {
      await expect(client({ baseUrl: `${sim.url}/v1/` }).listMemberships({ permissions: "Admin" })).resolves.not.toHaveLength(0);
    });
  });

  describe("errors and retries", () => {
    it("does not retry 401, 403, 404, 400 or 422, and says which", async () => {
      const denied = await caught(client({ apiSecret: "wrong-secret-value" }).listMemberships());
      expect(denied).toMatchObject({ status: 401, retryable: false, attempts: 1 });
      sim.setMembershipsScope(false);
      const forbidden = await caught(client().invite("x@example.com", "X", "Y", "User"));
      expect(forbidden).toMatchObject({ status: 403, retryable: false, request: "POST /v1/memberships" });
      expect(forbidden.message).toBe("Huntress POST /v1/memberships failed (403): There was an issue with your API credential or permissions.");
      sim.setMembershipsScope(true);
      const invalid = await caught(client().invite("not-an-email", "X", "Y", "User"));
      expect(invalid).toMatchObject({ status: 422, retryable: false });
      expect(sim.requestCount("POST", "/v1/memberships")).toBe(2);
    });

    it("rides out a 5xx burst and a 429 storm with backoff", async () => {
      sim.faults.failNext(2, { status: 503 });
      sim.faults.rateLimitNext(1);
      const c = client();
      await c.invite("burst@example.com", "B", "U", "User");
      expect(c.stats()).toMatchObject({ calls: 4, retries: 3 });
      expect(sim.invitations.some((i) => i.email === "burst@example.com")).toBe(true);
    });

    it("gives up after maxRetries on a persistent 5xx with a retryable error that counts the attempts", async () => {
      sim.faults.failNext(100, { status: 500 });
      const e = await caught(client({ maxRetries: 2 }).updatePermissions(1, "User"));
      expect(e).toMatchObject({ status: 500, retryable: true, attempts: 3, kind: "http" });
      expect(e.message).toMatch(/failed \(500\) after 3 attempts/);
      expect(sim.requestCount("PATCH", "/v1/memberships/:id")).toBe(3);
    });

    it("times out a hung request, and counts a DELETE whose reply was lost but whose retry finds it gone as done", async () => {
      sim.faults.hangNext(5, { match: { method: "GET" } });
      const timeout = await caught(client({ maxRetries: 1, timeoutMs: 200 }).listMemberships());
      expect(timeout).toMatchObject({ kind: "timeout", status: null, retryable: true, attempts: 2 });
      sim.faults.reset();
      const m = sim.seedMembership({ email: "lost-reply@example.com" });
      sim.faults.hangNext(1, { commit: true, match: { method: "DELETE" } });
      await client({ timeoutMs: 200 }).deleteMembership(m.id);
      expect(sim.membershipsOf("lost-reply@example.com")).toEqual([]);
      expect(sim.requestCount("DELETE", "/v1/memberships/:id")).toBe(2);
    });

    it("reports a 2xx it cannot read as a non-retryable response error", async () => {
      const fake: typeof fetch = async () => new Response(JSON.stringify({ memberships: "nope" }), { status: 200, headers: { "Content-Type": "application/json" } });
      const e = await caught(client({ fetch: fake }).listMemberships());
      expect(e).toMatchObject({ kind: "response", retryable: false });
      expect(e.detail).toMatch(/memberships/);
    });

    it("keeps under the account's sliding window itself, so Huntress never has to answer 429", async () => {
      // The simulator's window is shorter to absorb loopback jitter between send and arrival, which
      // reaches a few hundred ms on a loaded CI machine (in production the bridge keeps 54 of
      // Huntress's 60 a minute for the same reason).
      sim.setRateLimit({ requests: 4, windowMs: 250 });
      const c = client({ rateLimit: { requests: 4, windowMs: 600 } });
      await Promise.all(Array.from({ length: 12 }, () => c.listMemberships({ permissions: "Admin" })));
      expect(sim.statusCounts.get(429) ?? 0).toBe(0);
      expect(c.stats().rateLimitWaits).toBeGreaterThan(0);
      expect(c.stats().calls).toBe(12);
    });
  });

  describe("secrets", () => {
    it("never puts the key, the secret or the Basic token in an error, a log line, or the client object", async () => {
      const apiKey = "hk_live_PUBLIC_KEY_4f3c2a";
      const apiSecret = "hs_live_PRIVATE_SECRET_9e8d7c6b";
      const token = Buffer.from(`${apiKey}:${apiSecret}`).toString("base64");
      const local = await startHuntressSimulator({ apiKey, apiSecret, rateLimit: null });
      const captured = capturingLogger();
      try {
        // An error body echoing the credentials back must be scrubbed too.
        local.faults.failNext(1, { status: 400, message: `bad key ${apiKey} with secret ${apiSecret} (Basic ${token})` });
        const good = new HuntressClient({ baseUrl: local.url, apiKey, apiSecret, log: captured.log, rateLimit: null, maxRetries: 1, backoff: { baseMs: 1, maxMs: 2 }, timeoutMs: 2000 });
        const errors = [await caught(good.listMemberships())];
        errors.push(await caught(new HuntressClient({ baseUrl: local.url, apiKey, apiSecret: `${apiSecret}-old`, log: captured.log, rateLimit: null }).listMemberships()));
        local.faults.failNext(2, { status: 502 });
        errors.push(await caught(good.invite("s@example.com", "S", "T", "User")));
        // Connection refused: nothing listens on port 9.
        errors.push(await caught(new HuntressClient({ baseUrl: "http://127.0.0.1:9", apiKey, apiSecret, log: captured.log, rateLimit: null, maxRetries: 0 }).listMemberships()));
        await good.listMemberships();
        const everything = [
          ...errors.flatMap((e) => [e.message, e.detail, inspect(e, { depth: 10 }), JSON.stringify(e), String(e.stack)]),
          ...captured.lines,
          inspect(good, { depth: 10, showHidden: true }),
        ].join("\n");
        expect(errors.map((e) => e.status)).toEqual([400, 401, 502, null]);
        expect(errors[0]!.detail).toContain("[redacted]");
        expect(captured.lines.length).toBeGreaterThan(0);
        for (const secret of [apiKey, apiSecret, token, `${apiSecret}-old`]) expect(everything).not.toContain(secret);
      } finally {
        await local.close();
      }
    });
  });
});
