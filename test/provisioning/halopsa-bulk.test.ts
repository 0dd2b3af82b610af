/**
 * Bulk HaloPSA (issue 13, section 1) over real HTTP with the simulator: many users ready at once
 * are read from HaloPSA once and written in `POST /api/Agent` arrays, under the tenant's rolling
 * window with nothing refused; creates are confirmed by the next list read, whatever order
 * HaloPSA answers in; a lone change still costs at most two calls.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { ADMIN_TOKEN, SCIM_TOKEN, startBridge } from "../support/bridge.js";
import { kill9, onDisk, startBridgeProcess } from "../support/child-bridge.js";
import { AGENTS, rigConfig, rigForTest, waitFor, type Rig } from "../support/provisioning.js";
import { CORE_USER } from "../support/scim.js";

/** Every API request the simulator received (token requests excluded). */
const apiCalls = (sim: HaloPsaSimulator): number => [...sim.requestCounts].filter(([k]) => k.includes(" /api/")).reduce((n, [, v]) => n + v, 0);

async function usersNamed(rig: Rig, emails: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const email of emails) ids.push((await rig.createUser(email)).id as string);
  return ids;
}

describe("bulk HaloPSA", () => {
  it("provisions forty users joining a mapped group at once in a handful of calls, under the rate limit, confirming creates by email whatever the answer order", async () => {
    // A tight window (12 requests per 3 s, half of it the bridge's) makes the client wait; HaloPSA must refuse nothing.
    const rig = await rigForTest({
      simulator: { rateLimit: { requests: 12, windowMs: 3000 }, listShapes: { agentSaveOrder: "reversed" } },
      halopsa: { rateLimit: { requests: 12, windowSeconds: 3 }, rateBudgetShare: 0.5, batchSize: 8 },
    });
    const emails = Array.from({ length: 40 }, (_, i) => `bulk.${i}@example.com`);
    // Half are agents already (typed in by hand, one in another case): adopted, never duplicated.
    for (const email of emails.slice(0, 20)) rig.sim.seedAgent({ email: email === "bulk.3@example.com" ? "Bulk.3@Example.com" : email, name: email });
    const ids = await usersNamed(rig, emails);
    await rig.idle();
    rig.sim.resetCounts();

    await rig.createGroup(AGENTS, ids);
    await waitFor(() => rig.people().filter((a) => !a.isdisabled).length === 40 && rig.jobs().length === 0, 30_000);

    expect(rig.people()).toHaveLength(40);
    for (const email of emails) expect(rig.agentsWithEmail(email), email).toHaveLength(1);
    // One list, 20 adoptions in 3 POSTs of 8, 20 creates in 3 POSTs, one confirming list: 8, plus the catalogue.
    expect(rig.sim.requestCount("GET", "/api/Agent")).toBeLessThanOrEqual(2);
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBeLessThanOrEqual(6);
    expect(apiCalls(rig.sim)).toBeLessThanOrEqual(10);
    expect(rig.sim.statusCounts.get(429) ?? 0).toBe(0);
    // Each user is linked to the agent with their own email, though HaloPSA answered in reverse.
    for (const [i, id] of ids.entries()) {
      const access = await rig.admin("GET", `/users/${id}/access`);
      const agent = rig.agentsWithEmail(emails[i]!)[0]!;
      expect(access.body.apps[0].account, emails[i]).toMatchObject({ externalId: String(agent.id), state: "active", createdByBridge: i >= 20 });
    }
    expect(rig.audit("halopsa.agent-adopted")).toHaveLength(20);
  });

  it("moves the open tickets of many leavers with one ticket read and one ticket POST, and disables each agent", async () => {
    const rig = await rigForTest();
    const emails = Array.from({ length: 6 }, (_, i) => `leaver.${i}@example.com`);
    const ids = await usersNamed(rig, emails);
    const group = await rig.createGroup(AGENTS, ids);
    await waitFor(() => rig.people().length === 6 && rig.jobs().length === 0, 20_000);
    const agents = emails.map((e) => rig.agentsWithEmail(e)[0]!);
    const tickets = agents.flatMap((a) => rig.sim.seedTickets(2, { agent_id: a.id, team: "1st Line" }));
    const [stranger] = rig.sim.seedTickets(1, { agent_id: 0, team: "Escalations" });
    rig.sim.resetCounts();

    const res = await rig.bridge.scim("DELETE", `/Groups/${group.id as string}`);
    expect(res.status, res.text).toBe(204);
    await waitFor(() => rig.people().every((a) => a.isdisabled) && rig.jobs().length === 0, 20_000);

    for (const t of tickets) expect(rig.sim.state.tickets.get(t.id)).toMatchObject({ agent_id: 0, team: "Triage" });
    expect(rig.sim.state.tickets.get(stranger!.id)).toMatchObject({ agent_id: 0, team: "Escalations" });
    expect(rig.sim.requestCount("GET", "/api/Tickets")).toBe(1);
    expect(rig.sim.requestCount("POST", "/api/Tickets")).toBe(1);
    const moved = rig.audit("halopsa.tickets-reassigned");
    expect(moved.map((e) => e.after.count)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it("spends at most two calls on one user added to a mapped group, without waiting for a batch", async () => {
    const rig = await rigForTest();
    const [first, id] = await usersNamed(rig, ["first@example.com", "lone@example.com"]);
    // The first agent warms the team and role catalogue, which lives as long as the bridge.
    const group = await rig.createGroup(AGENTS, [first!]);
    await rig.agentOnceReady("first@example.com");
    await rig.idle();
    rig.sim.resetCounts();
    const started = Date.now();
    await rig.addMembers(group.id as string, [id!]);
    await rig.agentOnceReady("lone@example.com");
    expect(Date.now() - started).toBeLessThan(2000);
    await rig.idle();
    expect(apiCalls(rig.sim)).toBeLessThanOrEqual(2);
  });

  it("gathers a burst that arrives while a single pass is still running into one batch", async () => {
    const rig = await rigForTest();
    const lone = await usersNamed(rig, ["lone.first@example.com"]);
    const emails = Array.from({ length: 30 }, (_, i) => `burst.${i}@example.com`);
    const ids = await usersNamed(rig, emails);
    await rig.idle();
    const group = await rig.createGroup(AGENTS, []);
    await rig.idle();
    rig.sim.resetCounts();
    // HaloPSA answers slowly: the lone user's pass is still waiting on it when the burst arrives.
    rig.sim.faults.latencyMs = 400;
    await rig.addMembers(group.id as string, lone);
    await waitFor(() => rig.sim.requestCounts.size > 0, 5_000);
    await rig.addMembers(group.id as string, ids);
    await waitFor(() => rig.people().length === 31 && rig.jobs().length === 0, 30_000);
    rig.sim.faults.latencyMs = 0;

    for (const email of emails) expect(rig.agentsWithEmail(email), email).toHaveLength(1);
    // One by one, thirty users would take thirty creates; as one batch, a POST per 50 agents.
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBeLessThanOrEqual(3);
    expect(apiCalls(rig.sim)).toBeLessThanOrEqual(12);
  });

  it("keeps the rolling window across a restart: a new bridge on the same database waits instead of being refused", async () => {
    // HaloPSA here allows 10 requests per 5 s and the bridge takes half: the first agent (token,
    // look-up, teams, roles, create) spends its whole share. The rest is the app checks' (a token
    // and a roles read per start, outside the budget) and other integrations'.
    const sim = await startHaloPsaSimulator({ rateLimit: { requests: 10, windowMs: 5000 } });
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-window-"));
    onTestFinished(async () => {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const configFile = rigConfig(sim, { halopsa: { rateLimit: { requests: 10, windowSeconds: 5 }, rateBudgetShare: 0.5 } });
    const first = await startBridge({}, { configFile, dir });
    const a = (await first.scim("POST", "/Users", { schemas: [CORE_USER], userName: "before@example.com", emails: [{ primary: true, value: "before@example.com" }] })).body.id as string;
    const spentFrom = Date.now();
    const group = await first.scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: AGENTS, members: [{ value: a }] });
    await waitFor(() => [...sim.state.agents.values()].some((x) => x.email === "before@example.com"), 10_000);
    await first.close();

    const second = await startBridge({}, { configFile, dir });
    onTestFinished(() => second.close());
    const b = (await second.scim("POST", "/Users", { schemas: [CORE_USER], userName: "after@example.com", emails: [{ primary: true, value: "after@example.com" }] })).body.id as string;
    await second.scim("PATCH", `/Groups/${group.body.id as string}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: b }] }] });
    await waitFor(() => [...sim.state.agents.values()].some((x) => x.email === "after@example.com"), 15_000);

    // A lower bound only: the second bridge could not have sent before the first one's window passed.
    expect(Date.now() - spentFrom).toBeGreaterThanOrEqual(5000);
    expect(sim.statusCounts.get(429) ?? 0).toBe(0);
  });

  it("makes no second agent when the bridge dies between a batch POST and the list read that confirms it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-bulk-crash-"));
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    onTestFinished(async () => {
      sim.faults.reset();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const configFile = join(dir, "config.json");
    // Leases of 5 s: the restarted bridge takes the dead one's jobs over soon after.
    writeFileSync(configFile, JSON.stringify(rigConfig(sim, { timeoutSeconds: 5, createSettleSeconds: 0.3 })));
    const env = { SCIM_BRIDGE_DB: join(dir, "bridge.db"), SCIM_BRIDGE_CONFIG: configFile, SCIM_BRIDGE_SCIM_TOKEN: SCIM_TOKEN, SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: "warn" };
    const first = await startBridgeProcess({ cwd: dir, env });
    const emails = Array.from({ length: 8 }, (_, i) => `crash.${i}@example.com`);
    const ids: string[] = [];
    for (const email of emails) {
      const res = await first.scim("POST", "/Users", { schemas: [CORE_USER], userName: email, active: true, emails: [{ primary: true, value: email }] });
      ids.push(res.body.id as string);
    }
    // The batch POST of creates lands in HaloPSA but its answer never comes; the bridge dies waiting.
    sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Agent" } });
    const group = await first.scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: AGENTS, members: ids.map((value) => ({ value })) });
    expect(group.status, group.text).toBe(201);
    await waitFor(() => [...sim.state.agents.values()].filter((a) => !a.isapiagent).length === 8, 20_000);
    await kill9(first.child);

    await startBridgeProcess({ cwd: dir, env });
    const linked = () => onDisk(env.SCIM_BRIDGE_DB, (db) => db.prepare("SELECT count(*) FROM app_accounts WHERE state = 'active' AND external_id IS NOT NULL").pluck().get() as number);
    await waitFor(() => linked() === 8, 30_000);
    const people = () => [...sim.state.agents.values()].filter((a) => !a.isapiagent);
    expect(people()).toHaveLength(8);
    for (const email of emails) expect(people().filter((a) => a.email === email), email).toHaveLength(1);
  });
});
