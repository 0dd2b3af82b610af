/**
 * One owner per app account, end to end over real HTTP against the HaloPSA simulator: the ways an
 * account could reach the wrong person, tried as an attacker or a careless IdP would, must each
 * end with the rightful owner untouched, the other user's job in a clear conflict, and nothing
 * written to HaloPSA for them (docs/provisioning.md, "Identity invariants").
 */
import { describe, expect, it } from "vitest";
import { startBridge } from "../support/bridge.js";
import { AGENTS, rigConfig, rigForTest, waitFor, type Rig } from "../support/provisioning.js";
import { startHaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";

/** Every job done or dead-lettered: a conflict ends its job as a dead letter that waits for a person. */
const settled = (rig: Rig) => waitFor(() => rig.jobs().every((j) => j.dead), 10_000, "every job done or dead");

describe("identity invariants", () => {
  it("refuses to link a second user whose email differs only in case to the first user's agent, and leaves that agent alone when the second leaves", async () => {
    const rig = await rigForTest();
    const ada = await rig.createUser("ada@example.com", { displayName: "Ada Lovelace" });
    const group = await rig.createGroup(AGENTS, [ada.id]);
    const agent = await rig.agentOnceReady("ada@example.com");
    await rig.idle();
    const postsBefore = rig.sim.requestCount("POST", "/api/Agent");

    const mallory = await rig.createUser("mallory@example.com", { displayName: "Mallory", emails: [{ primary: true, type: "work", value: "ADA@Example.com" }] });
    await rig.addMembers(group.id, [mallory.id]);
    await settled(rig);
    expect(rig.jobs()).toMatchObject([{ userId: mallory.id, dead: true, lastError: expect.stringContaining("belongs to another user") }]);

    expect(rig.people()).toHaveLength(1);
    expect(rig.sim.state.agents.get(agent.id)).toMatchObject({ name: "Ada Lovelace", isdisabled: false });
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBe(postsBefore);
    const access = await rig.admin("GET", `/users/${mallory.id}/access`);
    expect(access.body.apps[0].account).toMatchObject({ externalId: null, conflictWith: ada.id });
    expect(rig.audit("provision.create.conflict")).toMatchObject([{ resourceId: `${mallory.id}/halopsa`, after: { heldBy: ada.id } }]);

    const report = await rig.admin("POST", "/reconcile");
    expect(report.status, report.text).toBe(200);
    const drift = await rig.admin("GET", "/drift");
    const conflicts = drift.body.items.filter((i: { kind: string }) => i.kind === "conflict");
    expect(conflicts).toMatchObject([{ userId: mallory.id, detail: { userName: "mallory@example.com", heldBy: { userId: ada.id, userName: "ada@example.com" } } }]);

    // Mallory leaves: Ada's agent must stay enabled with its tickets.
    await rig.removeMember(group.id, mallory.id);
    await settled(rig);
    expect(rig.sim.state.agents.get(agent.id)).toMatchObject({ isdisabled: false });
    expect(rig.audit("provision.deactivate")).toEqual([]);
  });

  it("refuses a userName that differs from another only by a leading space when the agent's email is the login (ssoEmailMustMatch)", async () => {
    const rig = await rigForTest({ app: { ssoEmailMustMatch: true } });
    const ada = await rig.createUser("ada@example.com", { displayName: "Ada Lovelace" });
    const group = await rig.createGroup(AGENTS, [ada.id]);
    const agent = await rig.agentOnceReady("ada@example.com");
    await rig.idle();

    const spaced = await rig.createUser(" ada@example.com", { displayName: "Not Ada", emails: [{ primary: true, type: "work", value: "other@example.com" }] });
    await rig.addMembers(group.id, [spaced.id]);
    await settled(rig);

    expect(rig.sim.state.agents.get(agent.id)).toMatchObject({ name: "Ada Lovelace", email: "ada@example.com" });
    expect(rig.people()).toHaveLength(1);
    const access = await rig.admin("GET", `/users/${spaced.id}/access`);
    expect(access.body.apps[0].account).toMatchObject({ externalId: null, conflictWith: ada.id });
  });

  it("lets a user deleted and created again take their old agent back, and drift enforcement never disables it for the deleted one", async () => {
    const rig = await rigForTest({ app: { enforceDrift: true } });
    const first = await rig.createUser("grace@example.com", { displayName: "Grace Hopper" });
    const group = await rig.createGroup(AGENTS, [first.id]);
    const agent = await rig.agentOnceReady("grace@example.com");
    await rig.idle();

    expect((await rig.bridge.scim("DELETE", `/Users/${first.id}`)).status).toBe(204);
    await rig.agentOnceReady("grace@example.com", (a) => a.isdisabled);
    await rig.idle();
    const again = await rig.createUser("grace@example.com", { displayName: "Grace Hopper" });
    await rig.addMembers(group.id, [again.id]);
    await rig.agentOnceReady("grace@example.com", (a) => !a.isdisabled);
    await rig.idle();

    for (let pass = 0; pass < 2; pass++) {
      expect((await rig.admin("POST", "/reconcile")).status).toBe(200);
      await rig.idle();
      expect(rig.sim.state.agents.get(agent.id)).toMatchObject({ isdisabled: false });
    }
    expect(rig.people()).toHaveLength(1);
    const drift = await rig.admin("GET", "/drift");
    expect(drift.body.items.filter((i: { app: string }) => i.app === "halopsa")).toEqual([]);
    const access = await rig.admin("GET", `/users/${again.id}/access`);
    expect(access.body.apps[0].account).toMatchObject({ externalId: String(agent.id), state: "active", releasedAt: null });
  });

  it("never acts on links made against another HaloPSA instance, and says so at start", async () => {
    const rig = await rigForTest();
    const user = await rig.createUser("alan@example.com", { displayName: "Alan Turing" });
    await rig.createGroup(AGENTS, [user.id]);
    const agent = await rig.agentOnceReady("alan@example.com");
    await rig.idle();
    const dbFile = rig.bridge.dbFile;
    await rig.bridge.running.close();

    // Another HaloPSA whose agent with the same id is an unrelated former employee.
    const other = await startHaloPsaSimulator({ rateLimit: null });
    try {
      while (![...other.state.agents.keys()].includes(agent.id)) other.seedAgent({ name: "Former Employee", email: `former${other.state.agents.size}@elsewhere.example`, isdisabled: true });
      const bridge = await startBridge({ SCIM_BRIDGE_DB: dbFile }, { configFile: rigConfig(other) });
      try {
        expect(bridge.running.foreignLinks).toMatchObject([{ app: "halopsa" }]);
        expect(bridge.logLines.some((l) => l.includes("scim-bridge apps rebind halopsa"))).toBe(true);
        // A change for the user arrives: nothing is written to the other instance.
        const res = await bridge.scim("PATCH", `/Users/${user.id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "displayName", value: "Alan M. Turing" }] });
        expect(res.status, res.text).toBeLessThan(300);
        await waitFor(() => (bridge.running.db.prepare("SELECT count(*) FROM jobs").pluck().get() as number) === 0, 10_000, "an empty queue");
        expect(other.state.agents.get(agent.id)).toMatchObject({ name: "Former Employee", isdisabled: true });
        expect(other.requestCount("POST", "/api/Agent")).toBe(0);
      } finally {
        await bridge.close();
      }
    } finally {
      await other.close();
    }
  });
});

describe("a create whose answer never came", () => {
  it("makes one agent when HaloPSA carries the create out after the bridge gave up on it", async () => {
    const rig = await rigForTest({ timeoutSeconds: 0.3, createSettleSeconds: 2 });
    rig.sim.faults.hangNext(1, { commit: true, landAfterMs: 800, match: { method: "POST", path: "/api/Agent" } });
    const user = await rig.createUser("late@example.com");
    await rig.createGroup(AGENTS, [user.id]);
    await rig.idle(15_000);
    expect(rig.agentsWithEmail("late@example.com")).toHaveLength(1);
    expect(rig.jobs()).toEqual([]);
  });
});
