/**
 * The HaloPSA client against the simulator over real HTTP on loopback: token caching and refresh,
 * the client-side rate limit, bounded backoff through 5xx bursts, timeouts and 429 storms, one
 * readable error for every HaloPSA error layout, and no secret in any error or log line.
 */
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HaloPsaClient, type HaloPsaClientOptions } from "../../src/apps/halopsa/client.js";
import { ConnectorError } from "../../src/domain/connector-error.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { capturingLogger } from "../support/io.js";

async function caught(p: Promise<unknown>): Promise<ConnectorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConnectorError);
  return e as ConnectorError;
}

describe("HaloPsaClient", () => {
  let sim: HaloPsaSimulator;
  let simNow = Date.now();
  const logs = capturingLogger();
  const clients: HaloPsaClient[] = [];

  function client(over: Partial<HaloPsaClientOptions> = {}): HaloPsaClient {
    const c = new HaloPsaClient({
      baseUrl: sim.url,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      log: logs.log,
      rateLimit: null,
      // Generous: a loaded machine must not turn an ordinary answer into a timeout.
      timeoutMs: 2_000,
      maxRetries: 4,
      backoff: { baseMs: 5, maxMs: 40 },
      ...over,
    });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    sim = await startHaloPsaSimulator({ rateLimit: null, tenant: "acme", clock: { now: () => new Date(simNow) } });
  });
  afterAll(async () => {
    await sim.close();
  });
  afterEach(() => {
    sim.faults.reset();
    sim.resetCounts();
  });

  describe("tokens", () => {
    it("fetches one token and reuses it, even for concurrent calls", async () => {
      const c = client();
      const before = sim.tokenRequests.length;
      await Promise.all([c.listTeams(), c.listRoles(), c.listAgents()]);
      await c.listTeams();
      expect(sim.tokenRequests.length - before).toBe(1);
      expect(c.stats()).toMatchObject({ calls: 4, tokenRequests: 1, retries: 0 });
    });

    it("fetches a new token once on a 401 and sends the call again", async () => {
      const c = client();
      await c.listTeams();
      sim.revokeTokens();
      expect(await c.listRoles()).toHaveLength(3);
      expect(c.stats().tokenRequests).toBe(2);
      expect(sim.requestCount("GET", "/api/Roles")).toBe(2);
    });

    it("renews the token shortly before it expires, without waiting for a 401", async () => {
      let now = Date.now();
      simNow = now;
      sim.setTokenTtl(60);
      try {
        const c = client({ now: () => now });
        await c.listTeams();
        now += 50_000; // 50 s: before the renewal point (60 s less a 10% margin)
        simNow = now;
        await c.listTeams();
        expect(c.stats().tokenRequests).toBe(1);
        now += 5_000; // 55 s: past the renewal point at 54 s
        simNow = now;
        await c.listTeams();
        expect(c.stats().tokenRequests).toBe(2);
        expect(sim.statusCounts.get(401) ?? 0).toBe(0);
      } finally {
        sim.setTokenTtl(3600);
        simNow = Date.now();
      }
    });

    it("asks the hosted auth server with ?tenant= and the given scope", async () => {
      const c = client({ authUrl: sim.authUrl, tenant: "acme", scope: "admin" });
      await c.listTeams();
      expect(sim.tokenRequests.at(-1)).toMatchObject({ tenant: "acme", scope: "admin", ok: true });
      const wrong = client({ authUrl: sim.authUrl, tenant: "other" });
      const e = await caught(wrong.listTeams());
      expect(e.status).toBe(400);
      expect(e.retryable).toBe(false);
    });

    it("turns invalid_client into a readable, non-retryable error that never shows the secret", async () => {
      const secret = "super-secret-value-9f8e7d6c5b4a";
      const c = client({ clientSecret: secret });
      const e = await caught(c.listAgents());
      expect(e.status).toBe(401);
      expect(e.retryable).toBe(false);
      expect(e.message).toContain("invalid_client");
      expect(e.message).toContain("POST /auth/token");
      expect(c.stats().tokenRequests).toBe(1); // a wrong secret is not retried
      for (const text of [e.message, String(e.stack), inspect(e, { depth: 10 }), JSON.stringify(e), logs.lines.join("\n")]) {
        expect(text).not.toContain(secret);
      }
    });

    it("keeps access tokens and the secret out of errors and log lines", async () => {
      const c = client();
      await c.listTeams();
      sim.faults.failNext(1, { status: 400, shape: "Message" });
      const e = await caught(c.listRoles());
      const texts = [e.message, String(e.stack), inspect(e, { depth: 10 }), JSON.stringify(e), logs.lines.join("\n")];
      expect(sim.issuedTokens.length).toBeGreaterThan(0);
      for (const t of [...sim.issuedTokens, sim.clientSecret]) for (const text of texts) expect(text).not.toContain(t);
    });
  });

  describe("retries", () => {
    it("backs off through a 5xx burst and succeeds", async () => {
      const c = client();
      sim.faults.failNext(3, { status: 503 });
      expect(await c.listTeams()).toHaveLength(4);
      expect(c.stats().retries).toBe(3);
    });

    it("retries through a burst of timeouts", async () => {
      const c = client({ timeoutMs: 500 });
      await c.listTeams();
      sim.faults.hangNext(2);
      const started = performance.now();
      expect(await c.listRoles()).toHaveLength(3);
      expect(performance.now() - started).toBeGreaterThanOrEqual(990);
      expect(sim.requestCount("GET", "/api/Roles")).toBe(3);
    });

    it("rides out a 429 storm", async () => {
      const c = client();
      await c.listTeams();
      sim.faults.rateLimitNext(4);
      expect(await c.listTeams()).toHaveLength(4);
      expect(sim.statusCounts.get(429)).toBe(4);
    });

    it("gives up after maxRetries with a retryable ConnectorError carrying the status", async () => {
      const c = client({ maxRetries: 2 });
      await c.listTeams();
      sim.resetCounts();
      sim.faults.failNext(10, { status: 502 });
      const e = await caught(c.listTeams());
      expect(e).toMatchObject({ status: 502, retryable: true, kind: "http" });
      expect(e.message).toContain("GET /api/Team");
      expect(sim.requestCount("GET", "/api/Team")).toBe(3);
    });

    it("does not retry a 4xx other than 401 and 429", async () => {
      const c = client();
      await c.listTeams();
      sim.resetCounts();
      sim.faults.failNext(1, { status: 400 });
      const e = await caught(c.listTeams());
      expect(e).toMatchObject({ status: 400, retryable: false });
      expect(sim.requestCount("GET", "/api/Team")).toBe(1);
    });

    it("never repeats a create after a timeout (it may have landed) and flags its effect as unknown", async () => {
      const c = client({ timeoutMs: 500 });
      await c.listTeams();
      sim.resetCounts();
      sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Agent" } });
      const e = await caught(c.saveAgents([{ name: "Maybe Created", email: "maybe@example.com" }]));
      expect(e).toMatchObject({ kind: "timeout", status: null, retryable: true, effectUnknown: true });
      expect(sim.requestCount("POST", "/api/Agent")).toBe(1);
      expect([...sim.state.agents.values()].filter((a) => a.email === "maybe@example.com")).toHaveLength(1);
    });

    it("retries an update after a timeout (sending it twice is harmless)", async () => {
      const c = client({ timeoutMs: 500 });
      const a = sim.seedAgent({ name: "Update Retry" });
      sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Agent" } });
      const [saved] = await c.saveAgents([{ id: a.id, surname: "Retried" }]);
      expect(saved!.surname).toBe("Retried");
      expect(sim.requestCount("POST", "/api/Agent")).toBe(2);
    });

    it("reads every HaloPSA error layout into one message", async () => {
      const c = client();
      await c.listTeams();
      const layouts = [
        ["error", "Injected failure (409)"],
        ["Message", "Injected failure (409)"],
        ["errorMessage", "Injected failure (409) (result code 409)"],
        ["ClassName", "Injected failure (409) (HaloValidationException)"],
        ["text", "Injected failure (409)"],
        ["empty", "HTTP 409"],
      ] as const;
      for (const [shape, expected] of layouts) {
        sim.faults.failNext(1, { status: 409, shape });
        const e = await caught(c.listTeams());
        expect(e.status).toBe(409);
        expect(e.message).toBe(`HaloPSA GET /api/Team failed (409): ${expected}`);
      }
    });
  });

  describe("rate limit", () => {
    it("keeps under N requests per rolling window by waiting instead of sending", async () => {
      // The simulator's window is 200 ms shorter than the client's to absorb the delay between send
      // and arrival on a loaded machine (CI runs test files in parallel). Without the client's
      // limiter, all 12 sends would land at once and most would get 429.
      sim.setRateLimit({ requests: 5, windowMs: 300 });
      try {
        const c = client({ rateLimit: { requests: 5, windowMs: 500 } });
        const started = performance.now();
        // 1 token request + 11 calls = 12 sends: three windows.
        const results = await Promise.all(Array.from({ length: 11 }, () => c.listTeams()));
        expect(results).toHaveLength(11);
        expect(sim.statusCounts.get(429) ?? 0).toBe(0);
        expect(performance.now() - started).toBeGreaterThanOrEqual(950);
        const s = c.stats();
        expect(s.rateLimitWaits).toBe(7);
        expect(s.rateLimitWaitedMs).toBeGreaterThan(0);
      } finally {
        sim.setRateLimit(null);
      }
    });
  });

  describe("resources", () => {
    it("finds agents by exact email, case-insensitively, enabled or disabled, with roles", async () => {
      const c = client();
      const ann = sim.seedAgent({ name: "Ann", email: "Ann@Example.com", isdisabled: true });
      sim.seedAgent({ name: "Joann", email: "joann@example.com" });
      const found = await c.findAgentsByEmail("ann@example.COM");
      expect(found.map((a) => a.id)).toEqual([ann.id]);
      expect(found[0]).toMatchObject({ isdisabled: true, roles: [expect.objectContaining({ name: "Agent" })] });
      expect(await c.findAgentsByEmail("nobody@example.com")).toEqual([]);
    });

    it("answers a one-element save and a multi-element save as arrays in input order", async () => {
      const c = client();
      const [one] = await c.saveAgents([{ name: "Solo Save" }]);
      expect(one!.name).toBe("Solo Save");
      const many = await c.saveAgents([{ name: "Multi A" }, { id: one!.id, surname: "Updated" }]);
      expect(many.map((a) => a.name)).toEqual(["Multi A", "Solo Save"]);
      expect(many[1]!.surname).toBe("Updated");
    });

    it("returns null for an unknown agent id", async () => {
      const c = client();
      expect(await c.getAgent(424242)).toBeNull();
      const a = sim.seedAgent({ name: "Known" });
      expect(await c.getAgent(a.id)).toMatchObject({ id: a.id, name: "Known" });
    });

    it("accepts teams and roles both as bare arrays and wrapped", async () => {
      const c = client();
      const bare = [await c.listTeams(), await c.listRoles()];
      sim.listShapes.teams = "wrapped";
      sim.listShapes.roles = "wrapped";
      try {
        expect([await c.listTeams(), await c.listRoles()]).toEqual(bare);
        expect(bare[1]!.map((r) => r.name)).toEqual(["Administrator", "Agent", "Read Only"]);
      } finally {
        sim.listShapes.teams = "bare";
        sim.listShapes.roles = "bare";
      }
    });

    it("follows ticket pages past 100 and reassigns in POSTs of 100", async () => {
      const c = client();
      const owner = sim.seedAgent({ name: "Busy Agent" });
      const other = sim.seedAgent({ name: "Catcher" });
      sim.seedTickets(250, { agent_id: owner.id });
      sim.seedTickets(3, { agent_id: owner.id, status_id: 9 });
      const open = await c.listOpenTickets(owner.id);
      expect(open).toHaveLength(250);
      expect(sim.requestCount("GET", "/api/Tickets")).toBe(3);
      expect(await c.reassignTickets(open.map((t) => t.id), { agentId: other.id })).toBe(250);
      expect(sim.requestCount("POST", "/api/Tickets")).toBe(3);
      expect(await c.listOpenTickets(owner.id)).toEqual([]);
      expect(await c.reassignTickets(open.slice(0, 1).map((t) => t.id), { team: "Triage" })).toBe(1);
      expect(sim.state.tickets.get(open[0]!.id)).toMatchObject({ agent_id: 0, team: "Triage" });
    });

    it("tolerates a base URL ending in /api", async () => {
      const c = client({ baseUrl: `${sim.url}/api/` });
      expect(await c.listRoles()).toHaveLength(3);
    });
  });
});
