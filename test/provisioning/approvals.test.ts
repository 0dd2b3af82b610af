/**
 * Destructive actions wait for a person when they could be a mistake (docs/provisioning.md,
 * "Approvals"), end to end over real HTTP against the HaloPSA simulator:
 * - a restart with a misspelled rule group disables nobody, holds the deactivations as one change
 *   set, and approving carries them out; rejecting keeps everyone; fixing the typo first voids it;
 * - an IdP that deactivates 25 technicians at once disables exactly 10 and holds 15 for approval.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { join } from "node:path";
import { runCli } from "../../src/cli.js";
import { banner } from "../../src/main.js";
import { ADMIN_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";
import { AGENTS, rigConfig, waitFor } from "../support/provisioning.js";
import { create, userBody } from "../support/scim.js";

const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

interface World {
  sim: HaloPsaSimulator;
  bridge: TestBridge;
  dir: string;
}

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await w.bridge.close().catch(() => undefined);
    await w.sim.close();
  }
});

/** A bridge whose only rule maps `group` to HaloPSA agents. */
function config(sim: HaloPsaSimulator, group: string, provisioning: Record<string, unknown> = {}) {
  const c = rigConfig(sim, { provisioning }) as { rules: unknown[] };
  return { ...c, rules: [{ group, app: "halopsa", role: "agent" }] };
}

async function admin(bridge: TestBridge, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${bridge.running.url}/admin/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

const queueEmpty = (bridge: TestBridge) => waitFor(() => (bridge.running.db.prepare("SELECT count(*) FROM jobs WHERE dead = 0").pluck().get() as number) === 0, 15_000, "an empty queue");
const enabledAgents = (sim: HaloPsaSimulator) => [...sim.state.agents.values()].filter((a) => !a.isapiagent && !a.isdisabled).map((a) => a.email).sort();

/** Two agents provisioned through the rule for `HaloPSA Agents`; then the bridge restarts with `group` as the rule. */
async function restartedWithRule(group: string): Promise<World & { ids: string[] }> {
  const sim = await startHaloPsaSimulator({ rateLimit: null });
  let bridge = await startBridge({}, { configFile: config(sim, AGENTS) });
  const world: World = { sim, bridge, dir: bridge.dir };
  worlds.push(world);
  const alan = await create(bridge, "Users", userBody("alan@example.com"));
  const grace = await create(bridge, "Users", userBody("grace@example.com"));
  await create(bridge, "Groups", { displayName: AGENTS, members: [{ value: alan.id }, { value: grace.id }] });
  await waitFor(() => enabledAgents(sim).length === 2, 10_000, "two agents");
  await queueEmpty(bridge);
  await bridge.running.close();
  bridge = await startBridge({ SCIM_BRIDGE_DB: world.bridge.dbFile }, { configFile: config(sim, group), dir: world.dir });
  world.bridge = bridge;
  await queueEmpty(bridge);
  return { ...world, ids: [alan.id, grace.id] };
}

describe("a change of rules that would remove access", () => {
  it("disables nobody after a restart with a misspelled group, holds both deactivations as one change set, and approving carries them out", async () => {
    const w = await restartedWithRule("HaloPSA Agent");
    expect(enabledAgents(w.sim)).toEqual(["alan@example.com", "grace@example.com"]);
    expect(w.bridge.running.pendingApprovals).toMatchObject([{ kind: "rules-change", waiting: 2 }]);
    expect(banner(w.bridge.running)).toMatch(/WARNING change set \d+ \(a change of apps or rules\): 2 destructive action\(s\) wait for approval/);

    const list = await admin(w.bridge, "GET", "/approvals");
    expect(list.status).toBe(200);
    const [set] = list.body.changeSets;
    const shown = await admin(w.bridge, "GET", `/approvals/${set.id}`);
    expect(shown.body.changeSet).toMatchObject({
      kind: "rules-change",
      state: "pending",
      summary: { diff: { rulesRemoved: [{ group: { displayName: AGENTS } }], rulesAdded: [{ group: { displayName: "HaloPSA Agent" } }] } },
    });
    expect(shown.body.holds.map((h: { userName: string; action: string; state: string }) => [h.userName, h.action, h.state]).sort()).toEqual([
      ["alan@example.com", "deactivate", "held"],
      ["grace@example.com", "deactivate", "held"],
    ]);
    // The user's access says why nothing happens yet.
    const access = await admin(w.bridge, "GET", `/users/${w.ids[0]}/access`);
    expect(access.body.apps[0].held).toMatchObject({ changeSet: set.id, state: "pending", action: "deactivate" });

    const approved = await admin(w.bridge, "POST", `/approvals/${set.id}/approve`, { note: "the Agents group is retired" });
    expect(approved.status).toBe(200);
    expect(approved.body.changeSet).toMatchObject({ state: "approved", note: "the Agents group is retired", decidedBy: expect.any(String) });
    await waitFor(() => enabledAgents(w.sim).length === 0, 10_000, "both agents disabled");
    await queueEmpty(w.bridge);
    const after = await admin(w.bridge, "GET", `/approvals/${set.id}`);
    expect(after.body.holds.map((h: { state: string }) => h.state)).toEqual(["done", "done"]);
    const again = await admin(w.bridge, "POST", `/approvals/${set.id}/reject`);
    expect(again.status).toBe(412);
  });

  it("keeps everyone when the change set is rejected, also through later passes, and records who decided", async () => {
    const w = await restartedWithRule("HaloPSA Agent");
    const [set] = (await admin(w.bridge, "GET", "/approvals")).body.changeSets;
    const rejected = await admin(w.bridge, "POST", `/approvals/${set.id}/reject`, { note: "typo in the config" });
    expect(rejected.body.changeSet).toMatchObject({ state: "rejected", decidedBy: expect.any(String) });
    expect((await admin(w.bridge, "POST", "/reconcile")).status).toBe(200);
    await queueEmpty(w.bridge);
    expect(enabledAgents(w.sim)).toEqual(["alan@example.com", "grace@example.com"]);
    const audit = w.bridge.running.db.prepare("SELECT actor, action FROM audit_events WHERE action LIKE 'approval.%' ORDER BY seq").all();
    expect(audit).toEqual([
      { actor: "system", action: "approval.opened" },
      { actor: rejected.body.changeSet.decidedBy, action: "approval.reject" },
    ]);
  });

  it("can be read and decided from the command line, as actor cli", async () => {
    const w = await restartedWithRule("HaloPSA Agent");
    const env = { SCIM_BRIDGE_CONFIG: join(w.bridge.dir, "config.json"), SCIM_BRIDGE_DB: w.bridge.dbFile };
    const cli = (...args: string[]) => {
      const lines: string[] = [];
      const code = runCli(args, (l) => lines.push(l), env);
      return { code, out: lines.join("\n") };
    };
    const list = cli("approvals", "list");
    expect(list.code).toBe(0);
    const id = /change set (\d+)/.exec(list.out)![1]!;
    expect(list.out).toContain(`change set ${id} (a change of apps or rules): 2 destructive action(s) wait for approval`);
    const show = cli("approvals", "show", id);
    expect(show.out).toContain(`alan@example.com [${w.ids[0]}] halopsa: deactivate halopsa account`);
    expect(show.out).toContain("grace@example.com");
    expect(cli("approvals", "reject", id, "--note", "typo").code).toBe(0);
    expect(cli("approvals", "approve", id)).toMatchObject({ code: 1, out: expect.stringContaining("is rejected") });
    expect(cli("approvals", "show", "999").code).toBe(1);
    expect(cli("approvals", "approve").code).toBe(2);
    expect((await admin(w.bridge, "GET", `/approvals/${id}`)).body.changeSet).toMatchObject({ state: "rejected", decidedBy: "cli", note: "typo" });
    expect(cli("approvals", "list").out).toBe("Nothing waits for approval.");
  });

  it("voids the held change when the typo is fixed before anyone decides", async () => {
    const w = await restartedWithRule("HaloPSA Agent");
    const [set] = (await admin(w.bridge, "GET", "/approvals")).body.changeSets;
    await w.bridge.running.close();
    w.bridge = await startBridge({ SCIM_BRIDGE_DB: w.bridge.dbFile }, { configFile: config(w.sim, AGENTS), dir: w.dir });
    await queueEmpty(w.bridge);
    expect(w.bridge.running.pendingApprovals).toEqual([]);
    expect((await admin(w.bridge, "GET", `/approvals/${set.id}`)).body.changeSet.state).toBe("superseded");
    expect(enabledAgents(w.sim)).toEqual(["alan@example.com", "grace@example.com"]);
  });

  it("lets it all run at once with approveRuleChanges: false", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    const world: World = { sim, bridge: await startBridge({}, { configFile: config(sim, AGENTS, { approveRuleChanges: false }) }), dir: "" };
    worlds.push(world);
    const alan = await create(world.bridge, "Users", userBody("alan@example.com"));
    await create(world.bridge, "Groups", { displayName: AGENTS, members: [{ value: alan.id }] });
    await waitFor(() => enabledAgents(sim).length === 1, 10_000, "an agent");
    await world.bridge.running.close();
    world.bridge = await startBridge({ SCIM_BRIDGE_DB: world.bridge.dbFile }, { configFile: config(sim, "HaloPSA Agent", { approveRuleChanges: false }), dir: world.bridge.dir });
    await waitFor(() => enabledAgents(sim).length === 0, 10_000, "the agent disabled");
    expect(world.bridge.running.pendingApprovals).toEqual([]);
  });
});

describe("the deprovisioning circuit breaker", () => {
  it("disables exactly 10 of 25 technicians the IdP deactivates within a minute, holds 15 for approval, and approving runs the rest except a user the IdP restored", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    const bridge = await startBridge({}, { configFile: config(sim, AGENTS) });
    worlds.push({ sim, bridge, dir: bridge.dir });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await create(bridge, "Users", userBody(`tech${i}@example.com`))).id);
    await create(bridge, "Groups", { displayName: AGENTS, members: ids.map((value) => ({ value })) });
    await waitFor(() => enabledAgents(sim).length === 25, 20_000, "25 agents");
    await queueEmpty(bridge);

    for (const id of ids) {
      const res = await bridge.scim("PATCH", `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: false }] });
      expect(res.status, res.text).toBe(200);
    }
    await queueEmpty(bridge);
    expect(enabledAgents(sim)).toHaveLength(15);
    const { changeSets } = (await admin(bridge, "GET", "/approvals")).body;
    expect(changeSets).toMatchObject([{ kind: "deprovision-limit", app: "halopsa", state: "pending", waiting: 15, summary: { limit: 10, windowMinutes: 60 } }]);
    const metrics = await fetch(`${bridge.running.url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    expect(metrics).toMatch(/scim_bridge_held_deprovisions\{app="halopsa"\} 15/);

    // The IdP restores one held technician before anyone decides.
    const held = (await admin(bridge, "GET", `/approvals/${changeSets[0].id}`)).body.holds.map((h: { userId: string }) => h.userId);
    const restored = held[0];
    await bridge.scim("PATCH", `/Users/${restored}`, { schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: true }] });
    await queueEmpty(bridge);
    const approved = await admin(bridge, "POST", `/approvals/${changeSets[0].id}/approve`);
    expect(approved.status).toBe(200);
    await queueEmpty(bridge);
    const restoredEmail = (await bridge.scim("GET", `/Users/${restored}`)).body.userName;
    expect(enabledAgents(sim)).toEqual([restoredEmail]);
    expect(approved.body.holds.find((h: { userId: string }) => h.userId === restored).state).toBe("void");
  });
});
