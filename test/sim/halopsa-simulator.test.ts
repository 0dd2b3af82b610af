/**
 * The HaloPSA simulator answers like HaloPSA (docs/vendor-facts.md, HaloPSA):
 * form-encoded client-credentials auth, bare agent arrays, array POSTs, paged tickets, the
 * rolling-window 429, and the faults tests switch on at runtime. Plain fetch, no client.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RATE_LIMIT_TEXT, startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { waitFor } from "../support/provisioning.js";

interface Res {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

async function call(url: string, init: RequestInit = {}): Promise<Res> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined; // plain text, e.g. the 429 answer
  }
  return { status: res.status, headers: res.headers, body, text };
}

async function token(sim: HaloPsaSimulator, query = ""): Promise<Res> {
  return call(`${sim.url}/auth/token${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: sim.clientId, client_secret: sim.clientSecret, scope: "all" }).toString(),
  });
}

describe("HaloPSA simulator", () => {
  let sim: HaloPsaSimulator;
  let now = Date.parse("2025-03-01T10:00:00Z");
  let bearer: string;
  const api = (path: string, init: RequestInit = {}): Promise<Res> =>
    call(`${sim.url}${path}`, { ...init, headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json", ...init.headers } });
  const post = (path: string, body: unknown): Promise<Res> => api(path, { method: "POST", body: JSON.stringify(body) });
  /** POST /api/Agent with a client that gives up after `timeoutMs`: the abort error, or the response if one came. */
  const createGivingUp = (agent: Record<string, unknown>, timeoutMs: number): Promise<unknown> =>
    fetch(`${sim.url}/api/Agent`, {
      method: "POST",
      headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
      body: JSON.stringify([agent]),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((e: unknown) => e);

  beforeAll(async () => {
    sim = await startHaloPsaSimulator({ clock: { now: () => new Date(now) }, tenant: "acme", tokenTtlSeconds: 600, rateLimit: null });
    bearer = (await token(sim)).body.access_token;
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.faults.reset();
  });

  describe("auth", () => {
    it("issues a bearer token for form-encoded client credentials, self-hosted and hosted (?tenant=)", async () => {
      const self = await token(sim);
      expect(self.status).toBe(200);
      expect(self.body).toMatchObject({ token_type: "Bearer", expires_in: 600 });
      expect(typeof self.body.access_token).toBe("string");
      const hosted = await token(sim, "?tenant=acme");
      expect(hosted.status).toBe(200);
      expect(sim.tokenRequests.at(-1)).toMatchObject({ tenant: "acme", scope: "all", ok: true });
      expect((await token(sim, "?tenant=other")).status).toBe(400);
    });

    it('answers 401 {"error":"invalid_client"} to a wrong secret and 400 to a JSON body or another grant', async () => {
      const bad = await call(`${sim.url}/auth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: `grant_type=client_credentials&client_id=${sim.clientId}&client_secret=wrong&scope=all`,
      });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual({ error: "invalid_client" });
      const asJson = await call(`${sim.url}/auth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ grant_type: "client_credentials", client_id: sim.clientId, client_secret: sim.clientSecret }),
      });
      expect(asJson.status).toBe(400);
      const password = await call(`${sim.url}/auth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: `grant_type=password&client_id=${sim.clientId}&client_secret=${sim.clientSecret}`,
      });
      expect(password.body).toEqual({ error: "unsupported_grant_type" });
    });

    it("refuses a missing, unknown or expired bearer with a bodiless 401 challenge", async () => {
      expect((await call(`${sim.url}/api/Agent`)).status).toBe(401);
      const unknown = await call(`${sim.url}/api/Agent`, { headers: { Authorization: "Bearer nope" } });
      expect(unknown.status).toBe(401);
      expect(unknown.headers.get("www-authenticate")).toContain("invalid_token");
      const shortLived = await token(sim);
      const t = shortLived.body.access_token as string;
      now += 601_000;
      expect((await call(`${sim.url}/api/Agent`, { headers: { Authorization: `Bearer ${t}` } })).status).toBe(401);
      bearer = (await token(sim)).body.access_token;
      expect((await api("/api/Agent")).status).toBe(200);
    });

    it("tells where to authenticate on GET /api/authinfo, without a token", async () => {
      const info = await call(`${sim.url}/api/authinfo`);
      expect(info.body).toEqual({ auth_url: `${sim.url}/auth`, tenant_id: "acme" });
    });
  });

  describe("agents", () => {
    it("creates with an array POST, answering one element with the object and several with the array", async () => {
      const teams = sim.state.teams;
      const agentRole = sim.state.roles.find((r) => r.name === "Agent")!;
      const one = await post("/api/Agent", [
        { name: "Ada Lovelace", firstname: "Ada", surname: "Lovelace", email: "ada@example.com", team: "1st Line", teams: [{ team_id: teams[0]!.id }], roles: [{ id: agentRole.id }], licence_type: 1 },
      ]);
      expect(one.status).toBe(200);
      expect(Array.isArray(one.body)).toBe(false);
      expect(one.body).toMatchObject({ name: "Ada Lovelace", email: "ada@example.com", isdisabled: false, team: "1st Line", licence_type: 1, isapiagent: false, lastlogindate: null });
      expect(one.body.teams).toEqual([expect.objectContaining({ team_id: teams[0]!.id, team_name: "1st Line" })]);
      expect(one.body.roles).toEqual([{ id: agentRole.id, name: "Agent" }]);
      expect(agentRole.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
      const two = await post("/api/Agent", [{ name: "B One" }, { name: "B Two" }]);
      expect(two.body).toHaveLength(2);
    });

    it("answers a multi-element POST in reverse when told to, since HaloPSA documents no order", async () => {
      sim.listShapes.agentSaveOrder = "reversed";
      try {
        const saved = await post("/api/Agent", [{ name: "First", email: "first@example.com" }, { name: "Second", email: "second@example.com" }]);
        expect(saved.body.map((a: { email: string }) => a.email)).toEqual(["second@example.com", "first@example.com"]);
      } finally {
        sim.listShapes.agentSaveOrder = "input";
      }
    });

    it("updates only the fields sent when the element carries an id", async () => {
      const a = sim.seedAgent({ name: "Grace Hopper", firstname: "Grace", surname: "Hopper", email: "grace@example.com", licence_type: 2 });
      const res = await post("/api/Agent", [{ id: a.id, isdisabled: true }]);
      expect(res.body).toMatchObject({ id: a.id, name: "Grace Hopper", email: "grace@example.com", isdisabled: true, licence_type: 2 });
      expect(sim.state.agents.get(a.id)!.isdisabled).toBe(true);
      expect((await post("/api/Agent", [{ id: 999_999, isdisabled: true }])).status).toBe(404);
    });

    it("refuses a bare object, an unknown team or role, a nameless create and a non-JSON body", async () => {
      expect((await post("/api/Agent", { name: "x" })).status).toBe(400);
      const badTeam = await post("/api/Agent", [{ name: "x", team: "No Such Team" }]);
      expect(badTeam.status).toBe(400);
      expect(badTeam.body.Message).toContain("No Such Team");
      expect((await post("/api/Agent", [{ name: "x", roles: [{ id: "00000000-0000-0000-0000-000000000000" }] }])).status).toBe(400);
      expect((await post("/api/Agent", [{ email: "x@example.com" }])).status).toBe(400);
      expect((await api("/api/Agent", { method: "POST", body: "name=x", headers: { "Content-Type": "application/x-www-form-urlencoded" } })).status).toBe(415);
    });

    it("lists a bare array filtered by includeenabled, includedisabled, search (name or email) and team; roles only with includeroles", async () => {
      const on = sim.seedAgent({ name: "Filter On", email: "Filter.On@Example.com", team: "Escalations" });
      const off = sim.seedAgent({ name: "Filter Off", email: "filter.off@example.com", isdisabled: true });
      const ids = (r: Res): number[] => (r.body as { id: number }[]).map((a) => a.id);
      const enabledOnly = await api("/api/Agent?search=filter");
      expect(Array.isArray(enabledOnly.body)).toBe(true);
      expect(ids(enabledOnly)).toEqual([on.id]);
      expect(enabledOnly.body[0].roles).toBeUndefined();
      expect(ids(await api("/api/Agent?search=FILTER.ON@example.com&includedisabled=true"))).toEqual([on.id]);
      expect(ids(await api("/api/Agent?search=filter&includeenabled=false&includedisabled=true"))).toEqual([off.id]);
      expect(ids(await api("/api/Agent?search=filter&team=escalations"))).toEqual([on.id]);
      expect((await api("/api/Agent?search=filter&includeroles=true")).body[0].roles).toEqual([expect.objectContaining({ name: "Agent" })]);
      // The API agent the application signs in as is not listed unless asked for.
      expect((await api("/api/Agent?includeapiagents=true")).body.some((a: any) => a.isapiagent)).toBe(true);
      expect((await api("/api/Agent")).body.some((a: any) => a.isapiagent)).toBe(false);
    });

    it("reads one agent with roles, 404 when unknown, and counts DELETE calls", async () => {
      const a = sim.seedAgent({ name: "One Agent" });
      expect((await api(`/api/Agent/${a.id}`)).body).toMatchObject({ id: a.id, roles: [expect.objectContaining({ name: "Agent" })] });
      expect((await api("/api/Agent/987654")).status).toBe(404);
      const before = sim.requestCount("DELETE", "/api/Agent/:id");
      expect((await api(`/api/Agent/${a.id}`, { method: "DELETE" })).status).toBe(200);
      expect(sim.requestCount("DELETE", "/api/Agent/:id")).toBe(before + 1);
      expect(sim.state.agents.has(a.id)).toBe(false);
    });

    it("moves lastlogindate only when the agent signs in, stamped from the injected clock without an offset", async () => {
      const a = sim.seedAgent({ name: "Login Agent" });
      expect((await api(`/api/Agent/${a.id}`)).body.lastlogindate).toBeNull();
      sim.recordLogin(a.id);
      expect((await api(`/api/Agent/${a.id}`)).body.lastlogindate).toBe(new Date(now).toISOString().replace("Z", ""));
    });
  });

  describe("tickets, teams and roles", () => {
    it("lists the open tickets of several agents at once by the agent array filter", async () => {
      const [x, y, z] = [sim.seedAgent(), sim.seedAgent(), sim.seedAgent()];
      const [tx] = sim.seedTickets(1, { agent_id: x.id });
      const [ty] = sim.seedTickets(1, { agent_id: y.id });
      sim.seedTickets(1, { agent_id: z.id });
      const res = await api(`/api/Tickets?agent=${x.id},${y.id}&open_only=true&pageinate=true&page_no=1&page_size=100`);
      expect(res.body.tickets.map((t: { id: number }) => t.id).sort()).toEqual([tx!.id, ty!.id].sort());
      expect((await api("/api/Tickets?agent=1,x")).status).toBe(400);
    });

    it("pages open tickets of an agent with record_count and reassigns with an array POST", async () => {
      const a = sim.seedAgent({ name: "Ticket Owner" });
      sim.seedTickets(230, { agent_id: a.id });
      sim.seedTickets(4, { agent_id: a.id, status_id: 9 });
      const page = (n: number): Promise<Res> => api(`/api/Tickets?agent_id=${a.id}&open_only=true&pageinate=true&page_no=${n}&page_size=100`);
      const p1 = await page(1);
      expect(p1.body.record_count).toBe(230);
      expect(p1.body.tickets).toHaveLength(100);
      expect((await page(3)).body.tickets).toHaveLength(30);
      expect((await page(4)).body.tickets).toHaveLength(0);
      const [first, second] = p1.body.tickets as { id: number }[];
      const moved = await post("/api/Tickets", [{ id: first!.id, agent_id: 0, team: "Triage" }]);
      expect(moved.body).toMatchObject({ id: first!.id, agent_id: 0, team: "Triage" });
      const both = await post("/api/Tickets", [
        { id: second!.id, agent_id: 0, team: "Triage" },
        { id: first!.id, agent_id: a.id },
      ]);
      expect(both.body).toHaveLength(2);
      expect((await page(1)).body.record_count).toBe(229);
      expect((await post("/api/Tickets", [{ id: first!.id, team: "Nowhere" }])).status).toBe(400);
    });

    it("serves teams and roles as bare arrays by default and wrapped when switched", async () => {
      expect((await api("/api/Team")).body.map((t: any) => t.name)).toEqual(["1st Line", "2nd Line", "Escalations", "Triage"]);
      expect((await api("/api/Roles")).body.map((r: any) => r.name)).toEqual(["Administrator", "Agent", "Read Only"]);
      sim.listShapes.teams = "wrapped";
      sim.listShapes.roles = "wrapped";
      try {
        expect((await api("/api/Team")).body.teams).toHaveLength(4);
        expect((await api("/api/Roles")).body.roles).toHaveLength(3);
      } finally {
        sim.listShapes.teams = "bare";
        sim.listShapes.roles = "bare";
      }
    });
  });

  describe("faults", () => {
    it("answers injected 5xx in each error body layout, then recovers", async () => {
      const shapes = [
        ["error", (b: Res) => b.body.error],
        ["Message", (b: Res) => b.body.Message],
        ["errorMessage", (b: Res) => b.body.errorMessage],
        ["ClassName", (b: Res) => `${b.body.ClassName}: ${b.body.Message}`],
        ["text", (b: Res) => b.text],
      ] as const;
      for (const [shape, read] of shapes) {
        sim.faults.failNext(1, { status: 503, shape });
        const r = await api("/api/Team");
        expect(r.status).toBe(503);
        expect(read(r)).toContain("Injected failure (503)");
      }
      expect((await api("/api/Team")).status).toBe(200);
    });

    it("hangs the next request until the client gives up; with commit the write still lands", async () => {
      sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Agent" } });
      expect(await createGivingUp({ name: "Hung Create", email: "hung@example.com" }, 150)).toBeInstanceOf(Error);
      expect([...sim.state.agents.values()].filter((a) => a.email === "hung@example.com")).toHaveLength(1);
      sim.faults.hangNext(1);
      const plain = await fetch(`${sim.url}/api/Team`, { headers: { Authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
      expect(plain).toBeInstanceOf(Error);
      expect((await api("/api/Team")).status).toBe(200);
    });

    it("lands a hung write late when asked: after the client gave up, with no reply ever sent", async () => {
      sim.faults.hangNext(1, { commit: true, landAfterMs: 300, match: { method: "POST", path: "/api/Agent" } });
      const late = () => [...sim.state.agents.values()].filter((a) => a.email === "late@example.com");
      expect(await createGivingUp({ name: "Late Create", email: "late@example.com" }, 100)).toBeInstanceOf(Error);
      // The client has given up and the write has not landed: a look-up now finds nothing.
      expect(late()).toHaveLength(0);
      expect(sim.faults.landingsPending).toBe(1);
      await waitFor(() => sim.faults.landingsPending === 0, 5_000, "the late write");
      expect(late()).toHaveLength(1);
    });

    it("records every DELETE /api/Agent/{id}, found or not", async () => {
      const agent = sim.seedAgent({ email: "deleted@example.com" });
      const before = sim.agentDeletes.length;
      expect((await api(`/api/Agent/${agent.id}`, { method: "DELETE" })).status).toBe(200);
      expect((await api(`/api/Agent/${agent.id}`, { method: "DELETE" })).status).toBe(404);
      expect(sim.agentDeletes.slice(before)).toEqual([
        { id: String(agent.id), existed: true },
        { id: String(agent.id), existed: false },
      ]);
    });

    it("storms 429 with HaloPSA's text and no Retry-After, and adds latency", async () => {
      sim.faults.rateLimitNext(2);
      for (let i = 0; i < 2; i++) {
        const r = await api("/api/Team");
        expect(r.status).toBe(429);
        expect(r.text).toBe(RATE_LIMIT_TEXT);
        expect(r.headers.get("retry-after")).toBeNull();
      }
      sim.faults.latencyMs = 60;
      const started = performance.now();
      expect((await api("/api/Team")).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    });
  });
  describe("tickets for manual work", () => {
    it("creates a ticket from a POST with no id, finds it by ids and by summary, and refuses an unknown ticket type", async () => {
      const made = await post("/api/Tickets", [{ summary: "Invite Ada (scim-bridge task 7)", details_html: "<p>x</p>", tickettype_id: 3, team: "1st Line", third_party_id_string: "tag-7" }]);
      expect(made.status).toBe(200);
      expect(made.body).toMatchObject({ summary: "Invite Ada (scim-bridge task 7)", tickettype_id: 3, third_party_id_string: "tag-7", status_id: 1 });
      const byIds = await api(`/api/Tickets?ticketids=${made.body.id},999999&pageinate=true&page_no=1&page_size=100`);
      expect(byIds.body).toMatchObject({ record_count: 1, tickets: [{ id: made.body.id }] });
      const bySummary = await api(`/api/Tickets?search_summary=${encodeURIComponent("(scim-bridge task 7)")}`);
      expect(bySummary.body.tickets.map((t: any) => t.id)).toEqual([made.body.id]);
      expect((await post("/api/Tickets", [{ summary: "x", tickettype_id: 424242 }])).status).toBe(400);
    });

    it("lists the closed statuses by what excludeclosed leaves out, and closes a ticket through an action's new_status", async () => {
      const all = (await api("/api/Status")).body as { id: number }[];
      const open = (await api("/api/Status?excludeclosed=true")).body as { id: number }[];
      expect(all.filter((s) => !open.some((o) => o.id === s.id)).map((s) => s.id)).toEqual([9, 21]);
      const ticket = (await post("/api/Tickets", [{ summary: "to close", tickettype_id: 3 }])).body;
      const note = await post("/api/Actions", [{ ticket_id: ticket.id, note: "done", outcome: "Note", new_status: 21 }]);
      expect(note.body).toMatchObject({ ticket_id: ticket.id, note: "done", new_status: 21 });
      expect(sim.state.tickets.get(ticket.id)).toMatchObject({ status_id: 21, hasbeenclosed: true });
      expect((await api(`/api/Actions?ticket_id=${ticket.id}`)).body).toMatchObject({ record_count: 1, actions: [{ note: "done" }] });
      expect((await post("/api/Actions", [{ ticket_id: 999999, note: "nowhere" }])).status).toBe(404);
      expect((await post("/api/Actions", [{ ticket_id: ticket.id, new_status: 777 }])).status).toBe(400);
    });
  });
});

describe("HaloPSA simulator rate limit", () => {
  it("admits N requests per rolling window, refuses the rest with 429, and admits again once the window rolls", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: { requests: 3, windowMs: 300 } });
    try {
      const t = await token(sim);
      const get = (): Promise<Res> => call(`${sim.url}/api/Team`, { headers: { Authorization: `Bearer ${t.body.access_token}` } });
      // The token request used one of the three slots.
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200);
      const refused = await get();
      expect(refused.status).toBe(429);
      expect(refused.text).toBe("Rate Limit Reached - 300 Requests per rolling 5 minute window");
      await new Promise((r) => setTimeout(r, 320));
      expect((await get()).status).toBe(200);
      expect(sim.statusCounts.get(429)).toBe(1);
    } finally {
      await sim.close();
    }
  });

  it("defaults to HaloPSA's 300 requests per 5 minutes", async () => {
    const sim = await startHaloPsaSimulator();
    try {
      const t = await token(sim);
      const results = await Promise.all(
        Array.from({ length: 305 }, () => call(`${sim.url}/api/Roles`, { headers: { Authorization: `Bearer ${t.body.access_token}` } })),
      );
      // 299 API slots after the token request.
      expect(results.filter((r) => r.status === 200)).toHaveLength(299);
      expect(results.filter((r) => r.status === 429)).toHaveLength(6);
    } finally {
      await sim.close();
    }
  });

});
