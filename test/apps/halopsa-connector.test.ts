/**
 * The HaloPSA connector against the simulator over real HTTP: a joiner becomes one agent (adopted
 * when the email already exists), a mover's changes reach HaloPSA field by field, a leaver's open
 * tickets are moved before the agent is disabled (never deleted), and a create repeated after a
 * timeout never makes a second agent.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HaloPsaClient } from "../../src/apps/halopsa/client.js";
import { HaloPsaConnector, type HaloPsaConnectorOptions } from "../../src/apps/halopsa/connector.js";
import { ConnectorError } from "../../src/domain/connector-error.js";
import { capabilitiesOf, type ApplyContext } from "../../src/domain/connector.js";
import { startHaloPsaSimulator, type HaloPsaSimulator, type SimAgent } from "../../src/dev/halopsa-simulator.js";
import { capturingLogger } from "../support/io.js";
import type { Action, Profile } from "../../src/domain/model.js";

const { log } = capturingLogger("warn");
/** Nobody else holds any account: the worker's read-only views, empty. */
const ctx: ApplyContext = { requestId: "req-1", ownerOf: () => undefined, keepersOf: () => [] };

const profile = (email: string, over: Partial<Profile> = {}): Profile => ({
  userName: email,
  email,
  givenName: "Ada",
  familyName: "Lovelace",
  displayName: "Ada Lovelace",
  ...over,
});

const createAction = (email: string, role = "agent", settings: Record<string, unknown> = { teams: ["1st Line", "Escalations"] }): Extract<Action, { kind: "create" }> => ({
  kind: "create",
  app: "halopsa",
  userId: `u-${email}`,
  role,
  settings,
  profile: profile(email),
});

describe("HaloPsaConnector", () => {
  let sim: HaloPsaSimulator;
  let client: HaloPsaClient;

  const byEmail = (email: string): SimAgent[] => [...sim.state.agents.values()].filter((a) => a.email.toLowerCase() === email.toLowerCase());
  const roleNames = (a: SimAgent): string[] => a.roles.map((r) => r.name);
  const apiCalls = (): number => [...sim.requestCounts].filter(([k]) => k.includes(" /api/")).reduce((n, [, v]) => n + v, 0);

  function connector(over: Partial<HaloPsaConnectorOptions> = {}): HaloPsaConnector {
    return new HaloPsaConnector({
      app: "halopsa",
      client,
      roles: { admin: { haloRoles: ["Administrator"] }, agent: { haloRoles: ["Agent"] }, auditor: { haloRoles: ["Read Only", "Agent"] } },
      reassignTicketsTo: { team: "Triage" },
      ssoEmailMustMatch: true,
      log,
      licenceTypes: { named: 1, concurrent: 2 },
      instance: "halopsa:test",
      ...over,
    });
  }

  beforeAll(async () => {
    sim = await startHaloPsaSimulator({ rateLimit: null });
  });
  beforeEach(() => {
    client = new HaloPsaClient({
      baseUrl: sim.url,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      log,
      rateLimit: null,
      timeoutMs: 1_000, // generous: a loaded machine must not turn an ordinary answer into a timeout
      backoff: { baseMs: 5, maxMs: 20 },
    });
  });
  afterEach(() => {
    sim.faults.reset();
  });
  afterAll(async () => {
    // Agents hold ticket and time history: the bridge must never delete one (docs/vendor-facts.md).
    expect(sim.requestCount("DELETE", "/api/Agent/:id")).toBe(0);
    await sim.close();
  });

  describe("create", () => {
    it("creates one agent with name, teams, default team, role GUIDs and licence", async () => {
      const c = connector();
      const result = await c.apply(createAction("new.joiner@example.com", "agent", { teams: ["1st Line", "Escalations"], licenceType: "named" }), ctx);
      const [agent] = byEmail("new.joiner@example.com");
      expect(agent).toMatchObject({ name: "Ada Lovelace", firstname: "Ada", surname: "Lovelace", team: "1st Line", isdisabled: false, licence_type: 1 });
      expect(agent!.teams.map((t) => t.team_name)).toEqual(["1st Line", "Escalations"]);
      expect(roleNames(agent!)).toEqual(["Agent"]);
      expect(result).toMatchObject({ externalId: String(agent!.id), state: "active", role: "agent", createdByBridge: true });
    });

    it("costs at most two HaloPSA calls per new agent once teams and roles are cached", async () => {
      const c = connector();
      await c.apply(createAction("warm.up@example.com"), ctx);
      sim.resetCounts();
      for (const email of ["cheap.one@example.com", "cheap.two@example.com", "cheap.three@example.com"]) await c.apply(createAction(email), ctx);
      expect(apiCalls()).toBe(6);
      expect(sim.requestCount("GET", "/api/Agent")).toBe(3);
      expect(sim.requestCount("POST", "/api/Agent")).toBe(3);
    });

    it("adopts an existing agent with the same email (any case), enabling it instead of making a duplicate", async () => {
      const existing = sim.seedAgent({ name: "Old Name", email: "Adopt.Me@Example.com", isdisabled: true, roles: ["Read Only"], licence_type: 2 });
      const result = await connector().apply(createAction("adopt.me@example.com", "admin", { teams: ["2nd Line"] }), ctx);
      expect(byEmail("adopt.me@example.com")).toHaveLength(1);
      const agent = sim.state.agents.get(existing.id)!;
      expect(agent).toMatchObject({ isdisabled: false, name: "Ada Lovelace", team: "2nd Line", licence_type: 2 });
      expect(roleNames(agent)).toEqual(["Administrator"]);
      expect(result).toMatchObject({ externalId: String(existing.id), createdByBridge: false, state: "active" });
      expect(result.events).toEqual([{ action: "halopsa.agent-adopted", detail: { agentId: existing.id, email: "adopt.me@example.com", wasDisabled: true } }]);
    });

    it("names an unknown team, role or licence in a non-retryable error before writing anything", async () => {
      const c = connector();
      sim.resetCounts();
      const badTeam = await c.apply(createAction("bad.team@example.com", "agent", { teams: ["Night Shift"] }), ctx).catch((e: unknown) => e);
      expect(badTeam).toBeInstanceOf(ConnectorError);
      expect((badTeam as Error).message).toContain('"Night Shift"');
      expect((badTeam as ConnectorError).retryable).toBe(false);
      const badRole = await c.apply(createAction("bad.role@example.com", "agent", { haloRoles: ["Wizard"] }), ctx).catch((e: unknown) => e);
      expect((badRole as Error).message).toContain('"Wizard"');
      const badLicence = await c.apply(createAction("bad.lic@example.com", "agent", { licenceType: "platinum" }), ctx).catch((e: unknown) => e);
      expect((badLicence as Error).message).toContain('"platinum"');
      expect(sim.requestCount("POST", "/api/Agent")).toBe(0);
    });

    it("finds a team created in HaloPSA after the catalogue was cached", async () => {
      const c = connector();
      await c.apply(createAction("before.team@example.com"), ctx);
      sim.state.addTeam("Night Shift");
      await c.apply(createAction("night.owl@example.com", "agent", { teams: ["Night Shift"] }), ctx);
      expect(byEmail("night.owl@example.com")[0]!.team).toBe("Night Shift");
    });

    it("uses the agent a timed-out create actually made, without a second POST", async () => {
      const c = connector();
      await c.apply(createAction("prewarm@example.com"), ctx);
      sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Agent" } });
      const result = await c.apply(createAction("timeout.once@example.com"), ctx);
      const agents = byEmail("timeout.once@example.com");
      expect(agents).toHaveLength(1);
      expect(result).toMatchObject({ externalId: String(agents[0]!.id), createdByBridge: true });
    });

    it("makes no duplicate when the worker repeats a create whose first attempt landed but failed", async () => {
      const c = connector();
      await c.apply(createAction("prewarm2@example.com"), ctx);
      // The POST lands but its answer is lost, and the follow-up lookup hangs too.
      sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Agent" } });
      sim.faults.hangNext(10, { match: { method: "GET", path: "/api/Agent" } });
      const first = await c.apply(createAction("retry.me@example.com"), ctx).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(ConnectorError);
      expect((first as ConnectorError).retryable).toBe(true);
      sim.faults.reset();
      const again = await c.apply(createAction("retry.me@example.com"), ctx);
      const agents = byEmail("retry.me@example.com");
      expect(agents).toHaveLength(1);
      expect(again.externalId).toBe(String(agents[0]!.id));
    });
  });

  describe("update and changeRole", () => {
    it("sends only the changed fields and flags an email change when SSO needs the exact email", async () => {
      const c = connector();
      const created = await c.apply(createAction("mover@example.com"), ctx);
      const id = Number(created.externalId);
      sim.state.agents.get(id)!.licence_type = 7; // set by an admin in HaloPSA; not the bridge's to touch
      const next = profile("mover.renamed@example.com", { displayName: "Ada King", familyName: "King" });
      const result = await c.apply(
        {
          kind: "update",
          app: "halopsa",
          userId: "u-mover",
          externalId: created.externalId!,
          role: "agent",
          settings: { teams: ["1st Line", "Escalations"] },
          profile: next,
          previous: { profile: created.profile, settings: created.settings },
        },
        ctx,
      );
      expect(sim.state.agents.get(id)).toMatchObject({ email: "mover.renamed@example.com", name: "Ada King", surname: "King", firstname: "Ada", licence_type: 7, team: "1st Line" });
      expect(result.events).toEqual([
        { action: "halopsa.sso-email-changed", detail: { agentId: id, oldEmail: "mover@example.com", newEmail: "mover.renamed@example.com" } },
      ]);
    });

    it("gives the agent the IdP login as email when SSO needs them equal, while the map keeps the directory profile", async () => {
      const c = connector({ ssoEmailMustMatch: true });
      const action = { ...createAction("grace@mail.example.com"), profile: profile("grace@mail.example.com", { userName: "grace.hopper@corp.example.com" }) };
      const result = await c.apply(action, ctx);
      expect(sim.state.agents.get(Number(result.externalId))).toMatchObject({ email: "grace.hopper@corp.example.com" });
      expect(result.profile).toEqual(action.profile);
      const plain = await connector({ ssoEmailMustMatch: false }).apply(
        { ...createAction("linus@mail.example.com"), profile: profile("linus@mail.example.com", { userName: "linus.t@corp.example.com" }) },
        ctx,
      );
      expect(sim.state.agents.get(Number(plain.externalId))).toMatchObject({ email: "linus@mail.example.com" });
    });

    it("moves teams when the settings change, and makes no call when nothing changed", async () => {
      const c = connector({ ssoEmailMustMatch: false });
      const created = await c.apply(createAction("teams@example.com"), ctx);
      const update = (settings: Record<string, unknown>, previous: Record<string, unknown>): Action => ({
        kind: "update",
        app: "halopsa",
        userId: "u-teams",
        externalId: created.externalId!,
        role: "agent",
        settings,
        profile: created.profile!,
        previous: { profile: created.profile, settings: previous },
      });
      await c.apply(update({ teams: ["Triage"] }, created.settings) as Extract<Action, { kind: "update" }>, ctx);
      expect(sim.state.agents.get(Number(created.externalId))).toMatchObject({ team: "Triage", teams: [expect.objectContaining({ team_name: "Triage" })] });
      sim.resetCounts();
      const same = await c.apply(update({ teams: ["Triage"] }, { teams: ["Triage"] }) as Extract<Action, { kind: "update" }>, ctx);
      expect(apiCalls()).toBe(0);
      expect(same).toMatchObject({ externalId: created.externalId, state: "active" });
    });

    it("replaces the agent's roles on changeRole", async () => {
      const c = connector();
      const created = await c.apply(createAction("promoted@example.com"), ctx);
      const result = await c.apply(
        { kind: "changeRole", app: "halopsa", userId: "u", externalId: created.externalId!, role: "admin", previousRole: "agent", settings: {}, profile: created.profile! },
        ctx,
      );
      expect(roleNames(sim.state.agents.get(Number(created.externalId))!)).toEqual(["Administrator"]);
      expect(result.role).toBe("admin");
    });
  });

  describe("deactivate and reactivate", () => {
    const deactivate = (externalId: string): Extract<Action, { kind: "deactivate" }> => ({
      kind: "deactivate",
      app: "halopsa",
      userId: "u-leaver",
      externalId,
      reason: "not-granted",
      profile: null,
    });

    it("moves every open ticket (over several pages) to the team queue, then disables the agent", async () => {
      const leaver = sim.seedAgent({ name: "Leaver", email: "leaver@example.com" });
      const open = sim.seedTickets(250, { agent_id: leaver.id });
      const closed = sim.seedTickets(5, { agent_id: leaver.id, status_id: 9 });
      const result = await connector().apply(deactivate(String(leaver.id)), ctx);
      expect(open.every((t) => sim.state.tickets.get(t.id)!.agent_id === 0 && sim.state.tickets.get(t.id)!.team === "Triage")).toBe(true);
      expect(closed.every((t) => sim.state.tickets.get(t.id)!.agent_id === leaver.id)).toBe(true);
      expect(sim.state.agents.get(leaver.id)!.isdisabled).toBe(true);
      expect(result).toMatchObject({ externalId: String(leaver.id), state: "disabled" });
      expect(result.events).toEqual([{ action: "halopsa.tickets-reassigned", detail: { agentId: leaver.id, count: 250, to: { team: "Triage" } } }]);
    });

    it("moves tickets to a named agent, and reports zero when there are none", async () => {
      const catcher = sim.seedAgent({ name: "Catcher" });
      const leaver = sim.seedAgent({ name: "Leaver Two" });
      const tickets = sim.seedTickets(3, { agent_id: leaver.id });
      const c = connector({ reassignTicketsTo: { agentId: catcher.id } });
      const result = await c.apply(deactivate(String(leaver.id)), ctx);
      expect(tickets.every((t) => sim.state.tickets.get(t.id)!.agent_id === catcher.id)).toBe(true);
      expect(result.events![0]!.detail).toEqual({ agentId: leaver.id, count: 3, to: { agentId: catcher.id } });
      const idle = sim.seedAgent({ name: "Idle" });
      expect((await c.apply(deactivate(String(idle.id)), ctx)).events![0]!.detail).toMatchObject({ count: 0 });
    });

    it("leaves tickets where they are when configured to, and says how many stay open", async () => {
      const leaver = sim.seedAgent({ name: "Leaver Three" });
      const tickets = sim.seedTickets(2, { agent_id: leaver.id });
      const result = await connector({ reassignTicketsTo: "leave" }).apply(deactivate(String(leaver.id)), ctx);
      expect(tickets.every((t) => sim.state.tickets.get(t.id)!.agent_id === leaver.id)).toBe(true);
      expect(result.events![0]!.detail).toEqual({ agentId: leaver.id, count: 0, to: "leave", leftOpen: 2 });
      expect(sim.state.agents.get(leaver.id)!.isdisabled).toBe(true);
    });

    it("is safe to repeat, and reports an agent deleted by hand as removed", async () => {
      const leaver = sim.seedAgent({ name: "Twice" });
      const c = connector();
      await c.apply(deactivate(String(leaver.id)), ctx);
      expect((await c.apply(deactivate(String(leaver.id)), ctx)).state).toBe("disabled");
      sim.state.agents.delete(leaver.id);
      const gone = await c.apply(deactivate(String(leaver.id)), ctx);
      expect(gone.state).toBe("removed");
      expect(gone.events!.map((e) => e.action)).toEqual(["halopsa.tickets-reassigned", "halopsa.agent-missing"]);
    });

    it("reactivates the same agent with its profile and roles, never a second one", async () => {
      const c = connector();
      const created = await c.apply(createAction("returner@example.com"), ctx);
      await c.apply(deactivate(created.externalId!), ctx);
      const result = await c.apply(
        { kind: "reactivate", app: "halopsa", userId: "u", externalId: created.externalId!, role: "admin", settings: { teams: ["2nd Line"] }, profile: profile("returner@example.com") },
        ctx,
      );
      const agents = byEmail("returner@example.com");
      expect(agents).toHaveLength(1);
      expect(agents[0]).toMatchObject({ id: Number(created.externalId), isdisabled: false, team: "2nd Line" });
      expect(roleNames(agents[0]!)).toEqual(["Administrator"]);
      expect(result).toMatchObject({ state: "active", role: "admin" });
      sim.state.agents.delete(agents[0]!.id);
      const missing = await c
        .apply({ kind: "reactivate", app: "halopsa", userId: "u", externalId: created.externalId!, role: "admin", settings: {}, profile: profile("returner@example.com") }, ctx)
        .catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(ConnectorError);
      expect(byEmail("returner@example.com")).toHaveLength(0);
    });
  });

  describe("readBack", () => {
    it("lists enabled and disabled agents with the bridge role their HaloPSA roles match and the last login", async () => {
      const fresh = await startHaloPsaSimulator({ rateLimit: null });
      try {
        const c = new HaloPsaConnector({
          app: "halopsa",
          client: new HaloPsaClient({ baseUrl: fresh.url, clientId: fresh.clientId, clientSecret: fresh.clientSecret, log, rateLimit: null }),
          roles: { admin: { haloRoles: ["Administrator"] }, auditor: { haloRoles: ["Read Only", "Agent"] } },
          reassignTicketsTo: "leave",
          ssoEmailMustMatch: false,
          log,
          instance: "halopsa:fresh",
        });
        const admin = fresh.seedAgent({ name: "Admin", email: "admin@example.com", roles: ["Administrator"], lastlogindate: "2025-02-01T08:30:00" });
        const auditor = fresh.seedAgent({ name: "Auditor", email: "aud@example.com", roles: ["Agent", "Read Only"], isdisabled: true });
        const other = fresh.seedAgent({ name: "Other", email: "other@example.com", roles: ["Agent"], lastlogindate: "1900-01-01T00:00:00" });
        const accounts = await c.readBack();
        expect(accounts).toEqual([
          { externalId: String(admin.id), email: "admin@example.com", name: "Admin", enabled: true, role: "admin", lastLoginAt: "2025-02-01T08:30:00.000Z" },
          { externalId: String(auditor.id), email: "aud@example.com", name: "Auditor", enabled: false, role: "auditor", lastLoginAt: null },
          { externalId: String(other.id), email: "other@example.com", name: "Other", enabled: true, role: null, lastLoginAt: null },
        ]);
        expect(fresh.requestCount("DELETE", "/api/Agent/:id")).toBe(0);
      } finally {
        await fresh.close();
      }
    });
  });

  it("can apply and read back, read off the methods it implements", () => {
    expect(capabilitiesOf(connector())).toEqual(["apply", "readBack"]);
  });
});
