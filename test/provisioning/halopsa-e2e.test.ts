/**
 * Provisioning end to end over real HTTP: IdP requests go into a real bridge (SQLite file, HTTP
 * on loopback), HaloPSA requests come out into the simulator. Each test asserts what an admin
 * would see: agents in HaloPSA, the audit log, the admin API. Joiner, mover and leaver as issue 3
 * and docs/vendor-facts.md (HaloPSA) describe them: one agent per person, never deleted, tickets moved.
 */
import { describe, expect, it } from "vitest";
import { CLOSED_STATUS_ID } from "../../src/dev/halopsa-simulator.js";
import { patch } from "../support/scim.js";
import { ADMINS, AGENTS, rigForTest, waitFor, type Rig } from "../support/provisioning.js";

const roleNames = (a: { roles: { name: string }[] }): string[] => a.roles.map((r) => r.name);
const teamNames = (a: { teams: { team_name: string }[] }): string[] => a.teams.map((t) => t.team_name);

/** A user who is an agent in HaloPSA: created over SCIM, added to "HaloPSA Agents", agent ready. */
async function joiner(rig: Rig, email: string, extra: Record<string, unknown> = {}) {
  const user = await rig.createUser(email, extra);
  const group = await rig.createGroup(AGENTS, [user.id]);
  const agent = await rig.agentOnceReady(email);
  await rig.idle();
  return { user, group, agent };
}

describe("HaloPSA provisioning end to end", () => {
  it("turns a user added to a mapped group into exactly one agent with the rule's role, team and the user's name", async () => {
    const rig = await rigForTest();
    const user = await rig.createUser("ada@example.com", { name: { givenName: "Ada", familyName: "Lovelace" }, displayName: "Ada Lovelace" });
    const group = await rig.createGroup(AGENTS);
    await rig.addMembers(group.id, [user.id]);

    const agent = await rig.agentOnceReady("ada@example.com");
    await rig.idle();
    expect(agent).toMatchObject({ name: "Ada Lovelace", firstname: "Ada", surname: "Lovelace", email: "ada@example.com", isdisabled: false, team: "1st Line" });
    expect(roleNames(agent)).toEqual(["Agent"]);
    expect(teamNames(agent)).toEqual(["1st Line"]);
    expect(rig.people()).toHaveLength(1);
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBe(1);
    const access = await rig.admin("GET", `/users/${user.id}/access`);
    expect(access.body.apps[0].account).toMatchObject({ externalId: String(agent.id), state: "active", role: "agent", createdByBridge: true });
  });

  it("deactivates a leaver removed from the group, moves their open tickets to the configured team, records the count, and never deletes", async () => {
    const rig = await rigForTest();
    const { user, group, agent } = await joiner(rig, "leaver@example.com");
    const open = rig.sim.seedTickets(3, { agent_id: agent.id, team: "1st Line" });
    const [closed] = rig.sim.seedTickets(1, { agent_id: agent.id, team: "1st Line", status_id: CLOSED_STATUS_ID });
    const [someoneElses] = rig.sim.seedTickets(1, { agent_id: 0, team: "Escalations" });

    await rig.removeMember(group.id, user.id);
    await rig.agentOnceReady("leaver@example.com", (a) => a.isdisabled);
    await rig.idle();

    for (const t of open) expect(rig.sim.state.tickets.get(t.id)).toMatchObject({ agent_id: 0, team: "Triage" });
    expect(rig.sim.state.tickets.get(closed!.id)).toMatchObject({ agent_id: agent.id, team: "1st Line" });
    expect(rig.sim.state.tickets.get(someoneElses!.id)).toMatchObject({ agent_id: 0, team: "Escalations" });
    const [moved, ...more] = rig.audit("halopsa.tickets-reassigned");
    expect(more).toEqual([]);
    expect(moved).toMatchObject({ actor: "worker", resourceId: `${user.id}/halopsa`, after: { agentId: agent.id, count: 3, to: { team: "Triage" } } });
    expect(rig.audit("provision.deactivate")).toHaveLength(1);
    expect(rig.sim.requestCount("DELETE", "/api/Agent/:id")).toBe(0);
    expect(rig.sim.state.agents.has(agent.id)).toBe(true);
  });

  it("reactivates the same agent when a leaver is added back, never a second one", async () => {
    const rig = await rigForTest();
    const { user, group, agent } = await joiner(rig, "boomerang@example.com");
    await rig.removeMember(group.id, user.id);
    await rig.agentOnceReady("boomerang@example.com", (a) => a.isdisabled);
    await rig.idle();

    await rig.addMembers(group.id, [user.id]);
    const back = await rig.agentOnceReady("boomerang@example.com", (a) => !a.isdisabled);
    await rig.idle();
    expect(back.id).toBe(agent.id);
    expect(roleNames(back)).toEqual(["Agent"]);
    expect(rig.people()).toHaveLength(1);
    expect(rig.audit("provision.reactivate")).toHaveLength(1);
  });

  it("deactivates the agent when Entra sends PATCH active \"False\" (a string) and keeps the user readable", async () => {
    const rig = await rigForTest();
    const { user, agent } = await joiner(rig, "entra.soft.delete@example.com");
    const res = await rig.bridge.scim("PATCH", `/Users/${user.id}`, patch({ op: "Replace", path: "active", value: "False" }));
    expect(res.status, res.text).toBe(200);

    const off = await rig.agentOnceReady("entra.soft.delete@example.com", (a) => a.isdisabled);
    expect(off.id).toBe(agent.id);
    expect((await rig.bridge.scim("GET", `/Users/${user.id}`)).body.active).toBe(false);
    expect(rig.sim.requestCount("DELETE", "/api/Agent/:id")).toBe(0);
  });

  it("deactivates the agent when Okta PUTs the user with active false, and reactivates the same agent on active true", async () => {
    const rig = await rigForTest();
    const { user, agent } = await joiner(rig, "okta.put@example.com");
    const full = (active: boolean) => ({ ...user, active, password: "placeholder-1!", groups: [] });
    let res = await rig.bridge.scim("PUT", `/Users/${user.id}`, full(false));
    expect(res.status, res.text).toBe(200);
    await rig.agentOnceReady("okta.put@example.com", (a) => a.isdisabled);
    await rig.idle();

    res = await rig.bridge.scim("PUT", `/Users/${user.id}`, full(true));
    expect(res.status, res.text).toBe(200);
    const back = await rig.agentOnceReady("okta.put@example.com", (a) => !a.isdisabled);
    expect(back.id).toBe(agent.id);
    expect(rig.people()).toHaveLength(1);
  });

  it("updates the agent's name when the user is renamed", async () => {
    const rig = await rigForTest();
    const { user, agent } = await joiner(rig, "rename@example.com", { name: { givenName: "Ada", familyName: "Lovelace" }, displayName: "Ada Lovelace" });
    const posts = rig.sim.requestCount("POST", "/api/Agent");
    const res = await rig.bridge.scim(
      "PATCH",
      `/Users/${user.id}`,
      patch({ op: "replace", path: "name.familyName", value: "King" }, { op: "replace", path: "displayName", value: "Ada King" }),
    );
    expect(res.status, res.text).toBe(200);

    const renamed = await rig.agentOnceReady("rename@example.com", (a) => a.name === "Ada King");
    await rig.idle();
    expect(renamed).toMatchObject({ id: agent.id, firstname: "Ada", surname: "King", isdisabled: false, team: "1st Line" });
    expect(roleNames(renamed)).toEqual(["Agent"]);
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBe(posts + 1);
    expect(rig.audit("provision.update")).toHaveLength(1);
  });

  it("adopts an agent made by hand with the same email instead of creating a duplicate", async () => {
    const rig = await rigForTest();
    const existing = rig.sim.seedAgent({ name: "Grace Hopper", firstname: "Grace", surname: "Hopper", email: "Grace.Hopper@Example.com", roles: ["Read Only"], team: "Escalations" });
    const user = await rig.createUser("grace.hopper@example.com", { name: { givenName: "Grace", familyName: "Hopper" }, displayName: "Grace Hopper" });
    await rig.createGroup(AGENTS, [user.id]);

    const adopted = await rig.agentOnceReady("grace.hopper@example.com", (a) => roleNames(a).includes("Agent"));
    await rig.idle();
    expect(adopted.id).toBe(existing.id);
    expect(roleNames(adopted)).toEqual(["Agent"]);
    expect(adopted.team).toBe("1st Line");
    expect(rig.people()).toHaveLength(1);
    expect(rig.audit("halopsa.agent-adopted")[0]?.after).toMatchObject({ agentId: existing.id });
    const access = await rig.admin("GET", `/users/${user.id}/access`);
    expect(access.body.apps[0].account).toMatchObject({ externalId: String(existing.id), state: "active", createdByBridge: false });
  });

  it("gives the admin role (and its team) to a member of both the admin and the agent group, and the agent role once they leave the admin group", async () => {
    const rig = await rigForTest();
    const user = await rig.createUser("both@example.com");
    await rig.createGroup(AGENTS, [user.id]);
    const admins = await rig.createGroup(ADMINS, [user.id]);

    const admin = await rig.agentOnceReady("both@example.com", (a) => roleNames(a).includes("Administrator"));
    await rig.idle();
    expect(roleNames(admin)).toEqual(["Administrator"]);
    expect(admin.team).toBe("2nd Line");

    await rig.removeMember(admins.id, user.id);
    const demoted = await rig.agentOnceReady("both@example.com", (a) => roleNames(a).includes("Agent"));
    await rig.idle();
    expect(demoted).toMatchObject({ id: admin.id, team: "1st Line", isdisabled: false });
    expect(roleNames(demoted)).toEqual(["Agent"]);
    expect(rig.people()).toHaveLength(1);
  });

  it("deactivates the agent of a user the IdP deletes (DELETE /Users)", async () => {
    const rig = await rigForTest();
    const { user, agent } = await joiner(rig, "hard.delete@example.com");
    const res = await rig.bridge.scim("DELETE", `/Users/${user.id}`);
    expect(res.status, res.text).toBe(204);

    const off = await rig.agentOnceReady("hard.delete@example.com", (a) => a.isdisabled);
    await rig.idle();
    expect(off.id).toBe(agent.id);
    expect(rig.sim.requestCount("DELETE", "/api/Agent/:id")).toBe(0);
    expect(rig.audit("provision.deactivate")[0]?.after).toMatchObject({ state: "disabled" });
  });

  it("provisions the members of a group renamed to match a rule, and deactivates them when it is renamed away", async () => {
    const rig = await rigForTest();
    const user = await rig.createUser("renamed.group@example.com");
    const group = await rig.createGroup("Service Desk", [user.id]);
    await rig.idle();
    expect(rig.people()).toEqual([]);

    // Entra's default dialect.
    let res = await rig.bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "Replace", path: "displayName", value: AGENTS }));
    expect(res.status, res.text).toBe(204);
    const agent = await rig.agentOnceReady("renamed.group@example.com");
    await rig.idle();

    // Okta's push: a replace of {id, displayName}.
    res = await rig.bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "replace", value: { id: group.id, displayName: "Former Service Desk" } }));
    expect(res.status, res.text).toBe(204);
    const off = await rig.agentOnceReady("renamed.group@example.com", (a) => a.isdisabled);
    expect(off.id).toBe(agent.id);
  });

  it("answers SCIM writes without waiting for HaloPSA, even when HaloPSA takes 2 s per call", async () => {
    const rig = await rigForTest({ timeoutSeconds: 5 });
    rig.sim.faults.latencyMs = 2000;
    const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const out = await fn();
      expect(performance.now() - started).toBeLessThan(1000);
      return out;
    };
    const user = await timed(() => rig.createUser("slow.halo@example.com"));
    const group = await timed(() => rig.createGroup(AGENTS));
    await timed(() => rig.addMembers(group.id, [user.id]));
    const other = await timed(() => rig.createUser("slow.halo.2@example.com"));
    await timed(() => rig.createGroup(AGENTS, [other.id]));
    // The answers came back while HaloPSA had not yet seen a single agent.
    expect(rig.people()).toEqual([]);

    rig.sim.faults.latencyMs = 0;
    await rig.agentOnceReady("slow.halo@example.com");
    await rig.agentOnceReady("slow.halo.2@example.com");
  });

  it("links the IdP's X-Request-Id to the provisioning events it caused in the audit log", async () => {
    const rig = await rigForTest();
    const user = await rig.createUser("traced@example.com");
    const group = await rig.createGroup("Unmapped");
    await rig.idle();
    const res = await rig.addMembers(group.id, [user.id]);
    await rig.idle();
    const patched = await rig.bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "replace", path: "displayName", value: AGENTS }), { "X-Request-Id": "okta-req-7f3c9a" });
    expect(patched.status, patched.text).toBe(204);
    expect(patched.headers.get("x-request-id")).toBe("okta-req-7f3c9a");
    expect(res.headers.get("x-request-id")).not.toBe("okta-req-7f3c9a");

    await rig.agentOnceReady("traced@example.com");
    await rig.idle();
    const traced = rig.audit().filter((e) => e.requestId === "okta-req-7f3c9a");
    expect(traced.map((e) => [e.action, e.actor])).toEqual([
      ["group.patch", "env:SCIM_BRIDGE_SCIM_TOKEN"],
      ["provision.create", "worker"],
    ]);
    expect(traced[1]!.resourceId).toBe(`${user.id}/halopsa`);
  });

  it("records planned actions as provision.dry-run audit events and writes nothing to HaloPSA for a dry-run app", async () => {
    const rig = await rigForTest({ app: { mode: "dry-run" } });
    const user = await rig.createUser("dry.run@example.com");
    await rig.createGroup(AGENTS, [user.id]);

    const [event] = await waitFor(() => {
      const events = rig.audit("provision.dry-run");
      return events.length > 0 && events;
    }, 10_000, "a provision.dry-run audit event");
    await rig.idle();
    expect(event).toMatchObject({ resourceId: `${user.id}/halopsa`, after: { action: { kind: "create", role: "agent" } } });
    expect(event!.after.summary).toMatch(/^create in halopsa as agent/);
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBe(0);
    expect(rig.sim.requestCount("POST", "/api/Tickets")).toBe(0);
    expect(rig.people()).toEqual([]);
    const access = await rig.admin("GET", `/users/${user.id}/access`);
    expect(access.body.apps[0]).toMatchObject({ account: null, pendingAction: expect.stringMatching(/^create in halopsa as agent/) });
  });
});

describe("admin API", () => {
  it("explains a user's access: the winning rule, the lesser grants and the account in HaloPSA", async () => {
    const rig = await rigForTest();
    const user = await rig.createUser("explained@example.com");
    await rig.createGroup(AGENTS, [user.id]);
    await rig.createGroup(ADMINS, [user.id]);
    const agent = await rig.agentOnceReady("explained@example.com", (a) => roleNames(a).includes("Administrator"));
    await rig.idle();

    const res = await rig.admin("GET", `/users/${user.id}/access`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ userId: user.id, userName: "explained@example.com" });
    expect(res.body.apps).toEqual([
      {
        app: "halopsa",
        wanted: {
          role: "admin",
          because: `admin because member of '${ADMINS}' (rules[0]); also agent via '${AGENTS}' (rules[1])`,
          reasons: [
            { rule: 0, group: ADMINS, role: "admin" },
            { rule: 1, group: AGENTS, role: "agent" },
          ],
        },
        account: expect.objectContaining({ externalId: String(agent.id), role: "admin", state: "active", lastError: null }),
        pendingAction: null,
      },
    ]);
    expect((await rig.admin("GET", "/users/no-such-user/access")).status).toBe(404);
  });

  it("lists dead letters with their attempts and error, and runs one again on POST /jobs/{id}/retry", async () => {
    const rig = await rigForTest({ provisioning: { maxAttempts: 2 } });
    rig.sim.faults.failNext(1000, { match: { method: "POST", path: "/api/Agent" } });
    const user = await rig.createUser("dead.letter@example.com");
    await rig.createGroup(AGENTS, [user.id]);

    const dead = await waitFor(async () => (await rig.admin("GET", "/jobs?state=dead")).body.jobs[0], 10_000, "a dead letter");
    expect(dead).toMatchObject({ userId: user.id, state: "dead", attempts: 2, maxAttempts: 2 });
    expect(dead.lastError).toContain("POST /api/Agent failed (500)");
    const all = await rig.admin("GET", "/jobs");
    expect(all.body.jobs.map((j: { id: number }) => j.id)).toEqual([dead.id]);
    expect(all.body.stats).toMatchObject({ queued: 0, dead: 1 });
    expect((await rig.admin("GET", "/jobs?state=queued")).body.jobs).toEqual([]);
    expect((await rig.admin("GET", "/jobs?state=sideways")).status).toBe(400);

    rig.sim.faults.reset();
    const retried = await rig.admin("POST", `/jobs/${dead.id}/retry`);
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({ id: dead.id, attempts: 0 });
    expect(retried.body.state).not.toBe("dead");
    await rig.agentOnceReady("dead.letter@example.com");
    await rig.idle();
    expect((await rig.admin("GET", "/jobs")).body).toMatchObject({ jobs: [], stats: { queued: 0, dead: 0 } });
    expect((await rig.admin("POST", "/jobs/999999/retry")).status).toBe(404);
  });

  it("reports an orphan agent and an agent disabled by hand after POST /reconcile, without changing them", async () => {
    const rig = await rigForTest();
    const { user, agent } = await joiner(rig, "kept@example.com");
    const orphan = rig.sim.seedAgent({ name: "Old Contractor", email: "contractor@example.com" });
    rig.sim.state.agents.get(agent.id)!.isdisabled = true;

    const res = await rig.admin("POST", "/reconcile");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ usersQueued: 1, drift: { halopsa: { items: 2, enforced: 0 } } });
    const drift = await rig.admin("GET", "/drift");
    expect(drift.status, drift.text).toBe(200);
    expect(drift.body.counts).toEqual({ halopsa: { orphan: 1, "disabled-outside": 1 } });
    const byKind = Object.fromEntries(drift.body.items.map((i: { kind: string }) => [i.kind, i]));
    expect(byKind["orphan"]).toMatchObject({ app: "halopsa", externalId: String(orphan.id), email: "contractor@example.com", userId: null });
    expect(byKind["disabled-outside"]).toMatchObject({ app: "halopsa", externalId: String(agent.id), userId: user.id });

    await rig.idle();
    expect(rig.sim.state.agents.get(orphan.id)!.isdisabled).toBe(false);
    expect(rig.sim.state.agents.get(agent.id)!.isdisabled).toBe(true);
  });

  it("deactivates an orphan agent and re-enables an agent disabled by hand when the app enforces drift", async () => {
    const rig = await rigForTest({ app: { enforceDrift: true } });
    const { agent } = await joiner(rig, "enforced@example.com");
    const orphan = rig.sim.seedAgent({ name: "Old Contractor", email: "contractor@example.com" });
    rig.sim.state.agents.get(agent.id)!.isdisabled = true;

    const res = await rig.admin("POST", "/reconcile");
    expect(res.status, res.text).toBe(200);
    expect(res.body.drift.halopsa).toEqual({ items: 2, enforced: 2 });
    expect(rig.sim.state.agents.get(orphan.id)!.isdisabled).toBe(true);
    await rig.agentOnceReady("enforced@example.com", (a) => !a.isdisabled);
    await rig.idle();
    expect(rig.audit("drift.deactivate")[0]?.after).toMatchObject({ kind: "orphan", externalId: String(orphan.id) });
    expect(rig.sim.requestCount("DELETE", "/api/Agent/:id")).toBe(0);
    expect(rig.people()).toHaveLength(2);
  });

  it("enforces drift within the deprovision limit only: past it, orphans stay enabled and reported until the window has room", async () => {
    const rig = await rigForTest({ app: { enforceDrift: true }, provisioning: { deprovisionLimit: { count: 3, windowMinutes: 60 } } });
    const orphans = Array.from({ length: 5 }, (_, i) => rig.sim.seedAgent({ name: `Old Contractor ${i}`, email: `contractor${i}@example.com` }));
    const res = await rig.admin("POST", "/reconcile");
    expect(res.status, res.text).toBe(200);
    expect(res.body.drift.halopsa).toEqual({ items: 5, enforced: 3 });
    expect(orphans.filter((o) => rig.sim.state.agents.get(o.id)!.isdisabled)).toHaveLength(3);
    expect(rig.bridge.logLines.filter((l) => l.includes("drift enforcement leaves this account enabled"))).toHaveLength(2);
    // The next pass in the same window disables nothing more.
    expect((await rig.admin("POST", "/reconcile")).body.drift.halopsa).toEqual({ items: 2, enforced: 0 });
  });

  it("counts active agents the bridge created and lists those not logged in for staleLoginDays", async () => {
    const rig = await rigForTest({ app: { staleLoginDays: 30 } });
    const seen = await joiner(rig, "seen@example.com");
    const unseen = await joiner(rig, "unseen@example.com");
    rig.sim.recordLogin(seen.agent.id);
    const byHand = rig.sim.seedAgent({ name: "By Hand", email: "by.hand@example.com", lastlogindate: "2020-01-01T00:00:00" });
    rig.sim.seedAgent({ name: "Gone", email: "gone@example.com", isdisabled: true });

    const res = await rig.admin("GET", "/apps/halopsa/seats");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ app: "halopsa", activeAgents: 3, activeCreatedByBridge: 2, staleLoginDays: 30 });
    // A fresh agent with no login yet is not a stale seat...
    expect(res.body.stale).toEqual([{ externalId: String(byHand.id), email: "by.hand@example.com", name: "By Hand", lastLoginAt: "2020-01-01T00:00:00.000Z", createdByBridge: false }]);
    // ...one the bridge made longer ago than staleLoginDays, never logged in, is.
    rig.bridge.running.db.prepare("UPDATE audit_events SET at = '2020-01-01T00:00:00.000Z' WHERE action = 'provision.create' AND resource_id = ?").run(`${unseen.user.id}/halopsa`);
    const later = await rig.admin("GET", "/apps/halopsa/seats");
    const stale = [...(later.body.stale as { email: string }[])].sort((a, b) => a.email.localeCompare(b.email));
    expect(stale).toEqual([
      { externalId: String(byHand.id), email: "by.hand@example.com", name: "By Hand", lastLoginAt: "2020-01-01T00:00:00.000Z", createdByBridge: false },
      { externalId: String(unseen.agent.id), email: "unseen@example.com", name: "Given Family", lastLoginAt: null, createdByBridge: true },
    ]);
    expect((await rig.admin("GET", "/apps/nothing/seats")).status).toBe(404);
  });
});
