/**
 * HaloPSA misbehaving, end to end: 500 bursts, requests that never answer (with and without the
 * write landing), 429 storms, a HaloPSA that keeps failing (dead letter, then retry), a rule that
 * cannot be carried out (dead at once), and a crowd joining at once. Whatever happens, every
 * person ends up as exactly one agent (issue 3, "Faults").
 */
import { describe, expect, it } from "vitest";
import { AGENTS, rigForTest, waitFor, type Rig } from "../support/provisioning.js";

/** `n` users who join "HaloPSA Agents" in one group push; returns their emails. */
async function crowdJoins(rig: Rig, n: number, prefix: string): Promise<string[]> {
  const emails = Array.from({ length: n }, (_, i) => `${prefix}.${i}@example.com`);
  const users: { id: string }[] = [];
  // Okta creates users one request at a time, a few in parallel.
  for (let i = 0; i < emails.length; i += 10) users.push(...(await Promise.all(emails.slice(i, i + 10).map((e) => rig.createUser(e)))));
  await rig.createGroup(AGENTS, users.map((u) => u.id));
  return emails;
}

/** Every email has exactly one agent, enabled, and there is no other agent. */
async function convergesToOneAgentEach(rig: Rig, emails: readonly string[], timeoutMs = 20_000): Promise<void> {
  await waitFor(() => emails.every((e) => rig.agentsWithEmail(e).length >= 1), timeoutMs, `agents for ${emails.length} users`);
  await rig.idle(timeoutMs);
  const people = rig.people();
  expect(people.map((a) => a.email).sort()).toEqual([...emails].sort());
  expect(people.every((a) => !a.isdisabled)).toBe(true);
}

describe("HaloPSA faults", () => {
  it("converges with no duplicate agents after a burst of 500s on every HaloPSA call", async () => {
    const rig = await rigForTest();
    // The API, not the auth server (hosted Halo's is a separate host): a burst across reads and writes.
    rig.sim.faults.failNext(6, { match: { path: "/api/" } });
    const emails = await crowdJoins(rig, 5, "burst500");
    await convergesToOneAgentEach(rig, emails);
    expect(rig.sim.statusCounts.get(500)).toBe(6);
  });

  it("shows the attempts and the last error in /admin/api/jobs while HaloPSA keeps failing, then converges once it recovers", async () => {
    const rig = await rigForTest({ provisioning: { maxAttempts: 50 } });
    rig.sim.faults.failNext(10_000, { status: 503, match: { method: "POST", path: "/api/Agent" } });
    const emails = await crowdJoins(rig, 3, "failing");

    const failing = await waitFor(
      async () => {
        const { body } = await rig.admin("GET", "/jobs?state=queued");
        const jobs = body.jobs as { attempts: number; lastError: string | null }[];
        return jobs.length === 3 && jobs.every((j) => j.attempts >= 2 && j.lastError !== null) && jobs;
      },
      10_000,
      "three jobs retried at least twice",
    );
    for (const job of failing) expect(job.lastError).toContain("POST /api/Agent failed (503)");
    expect(rig.people()).toEqual([]);

    rig.sim.faults.reset();
    await convergesToOneAgentEach(rig, emails);
    expect((await rig.admin("GET", "/jobs")).body.stats).toMatchObject({ queued: 0, dead: 0 });
  });

  it("converges with no duplicate agents after HaloPSA stops answering for a while, including creates that landed without an answer", async () => {
    // The per-user path (batching off): each create on its own, looked up by email after a lost answer.
    // The batch path's crash case is in halopsa-bulk.test.ts.
    const rig = await rigForTest({ timeoutSeconds: 1, provisioning: { batch: { maxJobs: 0 } } });
    // Two creates land in HaloPSA but their answers are lost; then every call hangs a few times.
    rig.sim.faults.hangNext(2, { commit: true, match: { method: "POST", path: "/api/Agent" } });
    rig.sim.faults.hangNext(4, { match: { method: "GET" } });
    const emails = await crowdJoins(rig, 4, "timeout");
    await convergesToOneAgentEach(rig, emails);
    // Each agent was created once: the creates whose answers were lost were found by email, not repeated.
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBe(4);
    expect(rig.bridge.logLines.filter((l) => l.includes("HaloPSA create failed without an answer but the agent exists"))).toHaveLength(2);
  });

  it("converges with no duplicate agents after a 429 storm", async () => {
    const rig = await rigForTest();
    rig.sim.faults.rateLimitNext(6, { match: { path: "/api/" } });
    const emails = await crowdJoins(rig, 5, "storm429");
    await convergesToOneAgentEach(rig, emails);
    expect(rig.sim.statusCounts.get(429)).toBe(6);
  });

  it("dead-letters a job HaloPSA keeps refusing, reports it under state=dead, and runs it again on retry once HaloPSA recovers", async () => {
    const rig = await rigForTest({ provisioning: { maxAttempts: 3 } });
    rig.sim.faults.failNext(10_000, { match: { method: "POST", path: "/api/Agent" } });
    const [email] = await crowdJoins(rig, 1, "permanent");

    const dead = await waitFor(async () => (await rig.admin("GET", "/jobs?state=dead")).body.jobs[0], 10_000, "a dead letter");
    expect(dead).toMatchObject({ state: "dead", attempts: 3, maxAttempts: 3 });
    expect(dead.lastError).toMatch(/^halopsa: HaloPSA POST \/api\/Agent failed \(500\): Injected failure \(500\)/);
    expect(rig.jobs()).toMatchObject([{ id: dead.id, dead: true, attempts: 3 }]);
    const access = await rig.admin("GET", `/users/${dead.userId}/access`);
    expect(access.body.apps[0].account).toMatchObject({ externalId: null, state: "error", lastError: expect.stringContaining("failed (500)") });
    expect(rig.people()).toEqual([]);

    rig.sim.faults.reset();
    const retried = await rig.admin("POST", `/jobs/${dead.id}/retry`);
    expect(retried.status, retried.text).toBe(200);
    await convergesToOneAgentEach(rig, [email!]);
  });

  it("dead-letters at once, with a readable error, a rule whose settings name a team HaloPSA does not have", async () => {
    const rig = await rigForTest({
      provisioning: { maxAttempts: 8 },
      extraRules: [{ group: "Night Shift", app: "halopsa", role: "agent", settings: { teams: ["Night Shift Team"] } }],
    });
    const user = await rig.createUser("night.owl@example.com");
    await rig.createGroup("Night Shift", [user.id]);

    const dead = await waitFor(async () => (await rig.admin("GET", "/jobs?state=dead")).body.jobs[0], 10_000, "a dead letter");
    expect(dead).toMatchObject({ userId: user.id, attempts: 1 });
    expect(dead.lastError).toBe('halopsa: HaloPSA has no team named "Night Shift Team" (HaloPSA teams: 1st Line, 2nd Line, Escalations, Triage)');
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBe(0);
    expect(rig.people()).toEqual([]);
  });

  it("makes exactly 50 agents when 50 users join a mapped group at once", async () => {
    const rig = await rigForTest();
    const emails = await crowdJoins(rig, 50, "crowd");
    await convergesToOneAgentEach(rig, emails);
    // One pass over all of them: the creates go out as arrays of 50 (halopsa.batchSize), not one POST each.
    expect(rig.sim.requestCount("POST", "/api/Agent")).toBeLessThanOrEqual(2);
  });
});
