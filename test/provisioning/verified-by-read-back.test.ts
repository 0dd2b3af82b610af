/**
 * Verified by read-back, end to end: Entra-style SCIM requests into a real bridge (real SQLite, a
 * YAML config file), the Huntress memberships API answered by the simulator over loopback, tasks
 * marked done over the admin API as a reviewer would. A done task is checked against what Huntress
 * shows: verified, or reopened with what Huntress shows; work found done in Huntress first
 * completes the open task; a read that fails changes nothing; an app that cannot be read keeps
 * trusting the reviewer; and Huntress accounts nobody granted or changed outside reach the drift report.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { runCliAsync } from "../../src/cli.js";
import { appsAndRules, loadConfig } from "../../src/config.js";
import { readsAccounts } from "../../src/apps/app-types.js";
import { connect } from "../../src/compose.js";
import type { TransportObserver } from "../../src/apps/http/observer.js";
import { startHuntressSimulator } from "../../src/dev/huntress-simulator.js";
import { stateLabel, type Task } from "../../src/domain/task.js";
import { formatTask } from "../../src/cli/task-text.js";
import { createLogger } from "../../src/log.js";
import { SESSION_COOKIE } from "../../src/admin/web/session.js";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { signInOverHttp } from "../support/web-session.js";
import { ADMINS, rig, USERS, type Rig } from "../support/huntress-rig.js";
import { waitFor } from "../support/provisioning.js";

/** A key without write permission (the simulator refuses its writes), and an app told so. */
async function readOnlyRig(): Promise<Rig> {
  const r = await rig({ app: { writes: false } });
  r.sim.setWritePermission(false);
  return r;
}

/** Carol, granted Account Admin, with the open invitation task that raises. */
async function carolInvited(r: Rig): Promise<{ carol: string; invite: Task }> {
  const carol = await r.newUser("Carol Chen");
  await r.join(carol, ADMINS);
  return { carol, invite: r.open(carol)! };
}

/** POST /admin/api/tasks/{id}/{verb} with the admin token, as the review page's API does. */
async function adminPost(r: Rig, id: number, verb: "complete" | "fail", body: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${r.bridge.running.url}/admin/api/tasks/${id}/${verb}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Marks the task done over the admin API; the answer comes before any read-back (it happens in the user's job). */
async function markDone(r: Rig, task: Task, note = "done in the portal"): Promise<Task> {
  const res = await adminPost(r, task.id, "complete", { note });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Task;
}

/** Waits until the user's job has read Huntress back after a task was done. */
const settled = (r: Rig, id: number) => waitFor(() => r.bridge.running.tasks.get(id)!.verification !== "pending" || r.bridge.running.tasks.get(id)!.state !== "done", 10_000, `task ${id} read back`);

const UNOBSERVED: TransportObserver = { exchanged: () => undefined, rateLimitWaited: () => undefined };

/** The HTML of a review page, signed in as the admin, as a browser gets it. */
async function reviewPage(r: Rig, path: string): Promise<string> {
  const origin = r.bridge.running.url;
  const session = await signInOverHttp(origin, ADMIN_TOKEN);
  const res = await fetch(`${origin}${path}`, { headers: { Cookie: `${SESSION_COOKIE}=${session}` } });
  expect(res.status).toBe(200);
  return res.text();
}

const task = (r: Rig, id: number) => r.bridge.running.tasks.get(id)!;

/** A read-only-key member found by read-back: invited and accepted in the portal, both tasks completed by the reconcile pass. */
async function memberFound(r: Rig, name: string, group: string, permissions: "Admin" | "User"): Promise<{ userId: string; membershipId: number }> {
  const userId = await r.newUser(name);
  await r.join(userId, group);
  const email = `${name.split(" ")[0]!.toLowerCase()}@example.com`;
  const m = r.sim.seedMembership({ email, name, permissions });
  await r.reconcile();
  expect(r.account(userId)).toMatchObject({ state: "active", externalId: String(m.id) });
  return { userId, membershipId: m.id };
}

describe("verified by read-back (Huntress with a read-only key: writes: false)", () => {
  it("sends no write to the API: every change is a manual task, and the key only reads", async () => {
    const r = await readOnlyRig();
    const ada = await r.newUser("Ada Lovelace");
    await r.join(ada, ADMINS);
    expect(r.open(ada)).toMatchObject({ action: "invite", role: "admin", state: "open" });
    expect(r.sim.invitations).toEqual([]);
    await r.reconcile();
    for (const method of ["POST", "PATCH", "DELETE"]) expect(r.sim.requestCount(method, "/v1/memberships")).toBe(0);
    expect(r.sim.requestCount("GET", "/v1/memberships")).toBeGreaterThan(0);
  });

  it("completes an open invitation found done in Huntress as verified, found by read-back, and its confirmation too", async () => {
    const r = await readOnlyRig();
    const { carol, invite } = await carolInvited(r);
    // A technician invites Carol in the portal and she accepts, before anyone marks the task.
    const m = r.sim.seedMembership({ email: "carol@example.com", name: "Carol Chen", permissions: "Admin" });
    const report = await r.reconcile();
    expect(report.verified).toEqual({ huntress: { verified: 0, reopened: 0, found: 2 } });
    expect(task(r, invite.id)).toMatchObject({ state: "done", completedBy: "read-back", verification: "verified", verifiedHow: "found by read-back" });
    expect(task(r, invite.id).note).toBe(`Huntress shows carol@example.com as Account Admin (account ${m.id})`);
    // The follow-up the invitation raises (confirm it was accepted) was raised and found done the same way.
    const [confirm] = r.tasks(carol).filter((t) => t.action === "confirm");
    expect(confirm).toMatchObject({ state: "done", completedBy: "read-back", verification: "verified", verifiedHow: "found by read-back" });
    expect(r.account(carol)).toMatchObject({ state: "active", role: "admin", externalId: String(m.id) });
    expect(r.audit("task.done").map((e) => [e.actor, e.after.verifiedHow])).toEqual([
      ["read-back", "found by read-back"],
      ["read-back", "found by read-back"],
    ]);
    expect(stateLabel(task(r, invite.id))).toBe("verified");
  });

  it("reopens a role change marked done that Huntress does not show, saying what it shows, then verifies it once done", async () => {
    const r = await readOnlyRig();
    await memberFound(r, "Zed Zero", ADMINS, "Admin"); // another admin
    const { userId: carol, membershipId } = await memberFound(r, "Carol Chen", USERS, "User");
    await r.join(carol, ADMINS);
    const change = r.open(carol)!;
    expect(change).toMatchObject({ action: "changeRole", role: "admin" });

    // Marked done, but nobody changed it in Huntress: the answer says it is being checked...
    const answered = await markDone(r, change);
    expect(answered).toMatchObject({ state: "done", verification: "pending", verifiedAt: null, verifiedHow: null });
    expect(stateLabel(answered)).toBe("done, checking…");
    // ...and the user's job reads Huntress and reopens it with what Huntress shows.
    await settled(r, change.id);
    expect(task(r, change.id)).toMatchObject({
      state: "open",
      verification: null,
      completedBy: null,
      reason: "Huntress has carol@example.com as Standard User, expected Account Admin",
    });
    const [reopened] = r.audit("task.reopened-by-read-back");
    expect(reopened).toMatchObject({ actor: "read-back", resourceId: String(change.id), after: { state: "open", account: { state: "active", role: "standard", externalId: String(membershipId) } } });
    // The identity map says what Huntress shows, not what the reviewer claimed.
    expect(r.account(carol)).toMatchObject({ state: "active", role: "standard", externalId: String(membershipId) });
    // The review queue shows why it is back.
    expect(await reviewPage(r, "/admin")).toContain("<strong>Reopened:</strong> Huntress has carol@example.com as Standard User, expected Account Admin");

    // Done for real this time: verified by read-back.
    r.sim.state.update(r.sim.state.account, membershipId, "Admin");
    await markDone(r, task(r, change.id));
    await settled(r, change.id);
    expect(task(r, change.id)).toMatchObject({ state: "done", verification: "verified", verifiedHow: "read-back" });
    expect(task(r, change.id).verifiedAt).not.toBeNull();
    expect(r.account(carol)).toMatchObject({ role: "admin" });
    expect(await reviewPage(r, `/admin/users/${carol}`)).toContain(`<span class="badge state">verified</span>`);
    expect(formatTask(task(r, change.id), new Date()).join("\n")).toMatch(/state: {3}verified[\s\S]*verified: read-back at /);
  });

  it("keeps a done task pending, never reopened, while Huntress cannot be read, and verifies it once it can", async () => {
    const r = await readOnlyRig();
    await memberFound(r, "Zed Zero", ADMINS, "Admin");
    const { userId: carol, membershipId } = await memberFound(r, "Carol Chen", USERS, "User");
    await r.join(carol, ADMINS);
    const change = r.open(carol)!;
    r.sim.state.update(r.sim.state.account, membershipId, "Admin");
    // Every read fails (the client's retries included): a mistake in the read must not reopen the work.
    r.sim.faults.failNext(1000, { status: 503, match: { method: "GET" } });
    await markDone(r, change);
    await waitFor(() => r.bridge.logLines.some((l) => l.includes("read-back to verify tasks failed")), 10_000, "a failed read-back");
    expect(task(r, change.id)).toMatchObject({ state: "done", verification: "pending" });
    expect(r.audit("task.reopened-by-read-back")).toEqual([]);
    // The user's job is given back to read again 30 s later, not failed (the plan did not fail).
    const later = () => r.bridge.running.db.prepare("SELECT run_at, dead, locked_by FROM jobs WHERE user_id = ?").get(carol) as { run_at: string; dead: number; locked_by: string | null } | undefined;
    const job = await waitFor(() => {
      const j = later();
      return j && j.locked_by === null && Date.parse(j.run_at) > Date.now() + 20_000 && j;
    }, 5000, "the job given back for 30 s");
    expect(job.dead).toBe(0);
    // The reconcile pass cannot read either: still pending, and the drift report says why.
    const failing = await r.bridge.running.reconciler.run("test-reconcile");
    expect(failing.drift["huntress"]?.error).toMatch(/503/);
    expect(task(r, change.id)).toMatchObject({ state: "done", verification: "pending" });
    // Huntress answers again: the next pass verifies it.
    r.sim.faults.reset();
    const report = await r.reconcile();
    expect(report.verified).toEqual({ huntress: { verified: 1, reopened: 0, found: 0 } });
    expect(task(r, change.id)).toMatchObject({ state: "done", verification: "verified", verifiedHow: "read-back" });
  });

  it("reports Huntress drift: a membership nobody granted, a role changed outside and a membership removed outside", async () => {
    const r = await readOnlyRig();
    const { userId: zed, membershipId: zedId } = await memberFound(r, "Zed Zero", ADMINS, "Admin");
    const { userId: carol, membershipId: carolId } = await memberFound(r, "Carol Chen", USERS, "User");
    const { userId: dee, membershipId: deeId } = await memberFound(r, "Dee Delta", USERS, "User");
    const stranger = r.sim.seedMembership({ email: "mallory@example.com", name: "Mallory Moe", permissions: "Admin" });
    r.sim.state.update(r.sim.state.account, carolId, "Admin");
    r.sim.state.remove(r.sim.state.account, deeId);
    const report = await r.reconcile();
    expect(report.drift["huntress"]).toMatchObject({ enforced: 0 });
    const res = await fetch(`${r.bridge.running.url}/admin/api/drift?app=huntress`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { items } = (await res.json()) as { items: { kind: string; externalId: string | null; userId: string | null; detail: unknown }[] };
    const byKind = (kind: string) => items.filter((i) => i.kind === kind).map((i) => ({ externalId: i.externalId, userId: i.userId, detail: i.detail }));
    expect(byKind("orphan").map((i) => i.externalId)).toEqual(expect.arrayContaining([String(stranger.id)]));
    expect(byKind("changed-outside")).toEqual([{ externalId: String(carolId), userId: carol, detail: { role: { expected: "standard", actual: "admin" } } }]);
    expect(byKind("missing")).toEqual([{ externalId: String(deeId), userId: dee, detail: { mapState: "active" } }]);
    expect(items.some((i) => i.userId === zed || i.externalId === String(zedId))).toBe(false);
  });
});

describe("verified by read-back (Huntress API mode's manual fallback)", () => {
  it("reopens a removal marked done while Huntress still has the membership", async () => {
    const r = await rig();
    const zed = await r.newUser("Zed Zero");
    await r.join(zed, ADMINS);
    r.sim.acceptInvitation("zed@example.com");
    const dee = await r.newUser("Dee Delta");
    await r.join(dee, USERS);
    const [m] = r.sim.acceptInvitation("dee@example.com");
    await r.reconcile();
    // The key loses its write permission: the removal falls back to a manual task.
    r.sim.setWritePermission(false);
    await r.leave(dee, USERS);
    const removal = r.open(dee)!;
    expect(removal).toMatchObject({ action: "remove", state: "open" });
    expect(removal.steps.join("\n")).toMatch(/refused this key \(403\)/);
    await markDone(r, removal, "removed it");
    await settled(r, removal.id);
    expect(task(r, removal.id)).toMatchObject({ state: "open", reason: "Huntress still has dee@example.com as Standard User" });
    expect(r.account(dee)).toMatchObject({ state: "active", role: "standard", externalId: String(m!.id) });
    // Removed in the portal for real, then done again: verified.
    r.sim.state.remove(r.sim.state.account, m!.id);
    await markDone(r, task(r, removal.id), "removed it, really");
    await settled(r, removal.id);
    expect(task(r, removal.id)).toMatchObject({ state: "done", verification: "verified", verifiedHow: "read-back" });
    expect(r.account(dee)).toMatchObject({ state: "removed" });
  });
});

describe("apps that cannot be read", () => {
  it("trust the reviewer: a done task of a plain manual Huntress app is done (unverified), never read back", async () => {
    const r = await rig({ app: { type: "manual", template: "huntress" } });
    const ada = await r.newUser("Ada Lovelace");
    await r.join(ada, ADMINS);
    const invite = r.open(ada)!;
    const done = await markDone(r, invite);
    expect(done).toMatchObject({ state: "done", verification: "unverifiable", verifiedHow: null });
    expect(stateLabel(done)).toBe("done (unverified)");
    expect(await reviewPage(r, `/admin/users/${ada}`)).toContain(`<span class="badge state">done (unverified)</span>`);
    await r.reconcile();
    expect(task(r, invite.id)).toMatchObject({ state: "done", verification: "unverifiable" });
    expect(r.sim.requestCount("GET", "/v1/memberships")).toBe(0);
  });
});

describe("TaskReview.reopenDone", () => {
  it("reopens a done task that is not verified, supersedes its follow-up, and refuses a verified or open task", async () => {
    const r = await rig({ app: { type: "manual", template: "huntress" } });
    const { review } = r.bridge.running;
    const ada = await r.newUser("Ada Lovelace");
    await r.join(ada, ADMINS);
    const invite = r.open(ada)!;
    expect(() => review.reopenDone(invite.id, "ticket:42", "the ticket was reopened")).toThrow(/only a done task that is not verified can be reopened/);
    await markDone(r, invite);
    const confirm = r.open(ada)!;
    expect(confirm.action).toBe("confirm");
    expect(() => review.reopenDone(invite.id, "ticket:42", " ")).toThrow(/a reason is required/);
    const reopened = review.reopenDone(invite.id, "ticket:42", "the ticket was reopened in HaloPSA");
    expect(reopened).toMatchObject({ state: "open", verification: null, reason: "the ticket was reopened in HaloPSA" });
    expect(task(r, confirm.id)).toMatchObject({ state: "cancelled", supersededBy: invite.id });
    expect(r.audit("task.reopen")).toMatchObject([{ actor: "ticket:42", resourceId: String(invite.id), after: { state: "open", supersededTask: confirm.id } }]);
  });

  it("refuses to reopen a task the app showed done", async () => {
    const r = await readOnlyRig();
    const { invite } = await carolInvited(r);
    r.sim.seedMembership({ email: "carol@example.com", name: "Carol Chen", permissions: "Admin" });
    await r.reconcile();
    expect(() => r.bridge.running.review.reopenDone(invite.id, "ticket:7", "reopened")).toThrow(/done and verified/);
    expect(task(r, invite.id)).toMatchObject({ state: "done", verification: "verified" });
  });
});

describe("apps rebind for Huntress (now that it reads back)", () => {
  it("matches each link by email among the new account's memberships and drops the rest", async () => {
    const r = await readOnlyRig();
    const { userId: carol } = await memberFound(r, "Carol Chen", USERS, "User");
    await memberFound(r, "Zed Zero", ADMINS, "Admin"); // no membership in the new account: dropped
    await r.bridge.running.close();
    const other = await startHuntressSimulator();
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-rebind-huntress-"));
    try {
      const there = other.seedMembership({ email: "Carol@Example.com", name: "Carol Chen", permissions: "User" });
      const file = join(dir, "bridge.json");
      writeFileSync(file, JSON.stringify({ apps: [{ name: "huntress", type: "huntress", writes: false }], rules: [{ group: USERS, app: "huntress", role: "standard" }] }));
      const lines: string[] = [];
      const env = { SCIM_BRIDGE_CONFIG: file, SCIM_BRIDGE_DB: r.bridge.dbFile, HUNTRESS_URL: other.url, HUNTRESS_API_KEY: other.apiKey, HUNTRESS_API_SECRET: other.apiSecret };
      const code = await runCliAsync(["apps", "rebind", "huntress"], (l) => lines.push(l), env);
      expect(code, lines.join("\n")).toBe(0);
      expect(lines.join("\n")).toContain("huntress: 1 link(s) matched");
      const db = new Database(r.bridge.dbFile, { fileMustExist: true });
      try {
        const rows = db.prepare("SELECT user_id, instance, external_id, role, state FROM app_accounts WHERE app = 'huntress' ORDER BY user_id").all();
        expect(rows).toEqual([{ user_id: carol, instance: `huntress:${other.url.toLowerCase()}#account=own`, external_id: String(there.id), role: "standard", state: "active" }]);
      } finally {
        db.close();
      }
      for (const method of ["POST", "PATCH", "DELETE"]) expect(other.requestCount(method, "/v1/memberships")).toBe(0);
    } finally {
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("which apps can be read", () => {
  it("is told from the config exactly as the connector built for it can read back", async () => {
    const sim = await startHuntressSimulator();
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-readable-"));
    try {
      const file = join(dir, "bridge.json");
      writeFileSync(
        file,
        JSON.stringify({
          apps: [
            { name: "halopsa", type: "halopsa", roles: [{ name: "agent", teams: ["1st Line"] }] },
            { name: "huntress", type: "huntress" },
            { name: "huntress-ro", type: "huntress", writes: false },
            { name: "portal", type: "manual", template: "invite-portal" },
          ],
        }),
      );
      const config = loadConfig({ SCIM_BRIDGE_CONFIG: file, HUNTRESS_URL: sim.url, HUNTRESS_API_KEY: sim.apiKey, HUNTRESS_API_SECRET: sim.apiSecret });
      const { connectors, haloPsaSimulator } = await connect(config, createLogger("error"), UNOBSERVED);
      try {
        const apps = appsAndRules(config).apps;
        expect(apps.map((a) => [a.name, readsAccounts(a)])).toEqual(apps.map((a) => [a.name, connectors.get(a.name)!.readBack !== undefined]));
        expect(apps.filter(readsAccounts).map((a) => a.name)).toEqual(["halopsa", "huntress", "huntress-ro"]);
      } finally {
        await haloPsaSimulator?.close();
      }
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
