/**
 * Huntress API mode end to end: Entra-style SCIM requests into a real bridge (real SQLite, a YAML
 * config file as an operator writes it), the memberships API answered by the Huntress simulator
 * over loopback. Invitations, role changes and removals go through the API; confirmation comes
 * from reading memberships back on the reconcile pass; the last-admin guard holds; and whatever
 * the API refuses or keeps failing becomes a manual task that says why.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { builtInTemplates } from "../../src/apps/manual/templates.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { banner } from "../../src/main.js";
import { ADMINS, confirmed, rig, USERS, type Rig } from "../support/huntress-rig.js";

const INVITE_STEPS = builtInTemplates["huntress"]!.actions.invite.steps;

describe("Huntress API mode", () => {
  it("invites through the API with Account Admin → Admin and Standard User → User, and raises no task", async () => {
    const r = await rig();
    const ada = await r.newUser("Ada Lovelace");
    const bob = await r.newUser("Bob Byte");
    await r.join(ada, ADMINS);
    await r.join(bob, USERS);
    expect(r.sim.invitations.map((i) => ({ email: i.email, firstName: i.firstName, lastName: i.lastName, permissions: i.permissions }))).toEqual([
      { email: "ada@example.com", firstName: "Ada", lastName: "Lovelace", permissions: "Admin" },
      { email: "bob@example.com", firstName: "Bob", lastName: "Byte", permissions: "User" },
    ]);
    // An invitation is not a membership: the bridge knows the account by email until it is accepted.
    expect(r.account(ada)).toMatchObject({ state: "invited", role: "admin", externalId: "ada@example.com", lastError: null });
    expect(r.account(bob)).toMatchObject({ state: "invited", role: "standard", externalId: "bob@example.com" });
    expect([...r.tasks(ada), ...r.tasks(bob)]).toEqual([]);
    expect(r.audit("huntress.api.invite").map((e) => e.after)).toEqual([
      { email: "ada@example.com", permissions: "Admin" },
      { email: "bob@example.com", permissions: "User" },
    ]);
    // Re-planning everyone sends nothing twice.
    r.sim.resetCounts();
    await r.reconcile();
    expect(r.sim.requestCount("POST", "/v1/memberships")).toBe(0);
  });

  it("confirms an accepted invitation on the reconcile pass: active, keyed by the membership id, with its audit event", async () => {
    const r = await rig();
    const ada = await r.newUser("Ada Lovelace");
    await r.join(ada, ADMINS);
    expect((await r.reconcile()).refreshed).toEqual({ huntress: { changed: 0 } }); // not accepted yet
    expect(r.account(ada)).toMatchObject({ state: "invited" });
    const [m] = r.sim.acceptInvitation("ada@example.com");
    expect((await r.reconcile()).refreshed).toEqual({ huntress: { changed: 1 } });
    expect(r.account(ada)).toMatchObject({ state: "active", role: "admin", externalId: String(m!.id) });
    const [event] = r.audit("huntress.api.confirmed");
    expect(event).toMatchObject({ actor: "reconciler", resourceId: `${ada}/huntress`, before: { state: "invited", externalId: "ada@example.com" } });
    expect(event!.after).toMatchObject({ state: "active", externalId: String(m!.id), permissions: "Admin" });
    // Nothing left to confirm: the pass reads the memberships once (drift and task verification), refresh not again.
    r.sim.resetCounts();
    expect((await r.reconcile()).refreshed).toEqual({ huntress: { changed: 0 } });
    expect(r.sim.requestCount("GET", "/v1/memberships")).toBe(1);
    // SCIM readers see the truth.
    const user = await r.bridge.scim("GET", `/Users/${ada}`);
    expect(user.body["urn:scim-bridge:schemas:extension:access:2.0:User"]).toEqual({ apps: [{ app: "huntress", role: "admin", state: "active" }] });
  });

  it("re-invites with the new permissions while the invitation is pending, and PATCHes the membership once confirmed", async () => {
    const r = await rig();
    await confirmed(r, "Zed Zero", ADMINS); // a second admin, so demoting Cy leaves one
    const cy = await r.newUser("Cy Cipher");
    await r.join(cy, USERS);
    await r.join(cy, ADMINS); // promoted before accepting
    expect(r.sim.invitations.filter((i) => i.email === "cy@example.com").map((i) => i.permissions)).toEqual(["Admin"]);
    expect(r.account(cy)).toMatchObject({ state: "invited", role: "admin" });
    const [m] = r.sim.acceptInvitation("cy@example.com");
    await r.reconcile();
    r.sim.resetCounts();
    await r.leave(cy, ADMINS); // demoted: still in Huntress Users
    expect(r.sim.requestCount("PATCH", "/v1/memberships/:id")).toBe(1);
    expect(r.sim.permissionsOf("cy@example.com")).toBe("User");
    expect(r.account(cy)).toMatchObject({ state: "active", role: "standard", externalId: String(m!.id) });
    expect(r.audit("huntress.api.permissions").at(-1)!.after).toEqual({ membershipId: m!.id, permissions: "User", previousRole: "admin" });
    expect(r.tasks(cy)).toEqual([]);
  });

  it("removes the membership with DELETE when the user loses access", async () => {
    const r = await rig();
    const { userId: dee, membershipId } = await confirmed(r, "Dee Delta", USERS);
    await r.leave(dee, USERS);
    expect(r.sim.membershipsOf("dee@example.com")).toEqual([]);
    expect(r.sim.requestCount("DELETE", "/v1/memberships/:id")).toBe(1);
    expect(r.account(dee)).toMatchObject({ state: "removed", externalId: null, role: null });
    expect(r.audit("huntress.api.delete")[0]!.after).toMatchObject({ membershipId, email: "dee@example.com", reason: "not-granted" });
    expect(r.tasks(dee)).toEqual([]);
  });

  it("records a membership removed in the portal by hand as removed, with no task (the DELETE answers 404)", async () => {
    const r = await rig();
    const { userId: eve, membershipId } = await confirmed(r, "Eve Echo", USERS);
    r.sim.state.memberships.delete(membershipId);
    await r.leave(eve, USERS);
    expect(r.sim.requestCount("DELETE", "/v1/memberships/:id")).toBe(1);
    expect(r.account(eve)).toMatchObject({ state: "removed", externalId: null, role: null });
    expect(r.audit("huntress.api.absent")[0]!.after).toEqual({ email: "eve@example.com" });
    expect(r.tasks(eve)).toEqual([]);
  });

  it("adopts a membership that already exists (the invite answers 422) and sets its permissions", async () => {
    const r = await rig();
    const existing = r.sim.seedMembership({ email: "ola@example.com", name: "Ola Orr", permissions: "User" });
    const ola = await r.newUser("Ola Orr");
    await r.join(ola, ADMINS);
    expect(r.account(ola)).toMatchObject({ state: "active", role: "admin", externalId: String(existing.id), createdByBridge: false });
    expect(r.sim.permissionsOf("ola@example.com")).toBe("Admin");
    expect(r.audit("huntress.api.adopt")[0]!.after).toMatchObject({ membershipId: existing.id, permissions: "Admin", previousPermissions: "User" });
    expect(r.tasks(ola)).toEqual([]);
  });

  it("raises a remove task for someone who never accepted: the API cannot withdraw a pending invitation", async () => {
    const r = await rig();
    const pat = await r.newUser("Pat Pending");
    await r.join(pat, USERS);
    r.sim.resetCounts();
    await r.leave(pat, USERS);
    expect(r.sim.requestCount("DELETE", "/v1/memberships/:id")).toBe(0);
    const task = r.open(pat)!;
    expect(task).toMatchObject({ action: "remove", title: "Remove Pat Pending from Huntress" });
    // First why the access goes, then why the API could not do it.
    expect(task.steps[0]).toMatch(/^Why: no rule grants Pat Pending Huntress any more: not in 'Huntress Users', the group the rule for Standard User names, since /);
    expect(task.steps[1]).toMatch(/^The Huntress API cannot withdraw a pending invitation/);
    expect(r.account(pat)).toMatchObject({ state: "invited" });
  });

  it("never calls the API to remove the last Account Admin: a blocked task explains why, and the API finishes once another admin exists", async () => {
    const r = await rig();
    const { userId: fay, membershipId } = await confirmed(r, "Fay Final", ADMINS);
    r.sim.resetCounts();
    await r.leave(fay, ADMINS);
    expect(r.sim.requestCount("DELETE", "/v1/memberships/:id") + r.sim.requestCount("PATCH", "/v1/memberships/:id")).toBe(0);
    expect(r.sim.membershipsOf("fay@example.com").map((m) => m.id)).toEqual([membershipId]);
    const blocked = r.open(fay)!;
    expect(blocked).toMatchObject({ action: "remove", state: "blocked" });
    expect(blocked.reason).toMatch(/Fay Final is the last Account Admin of Huntress/);
    expect(r.account(fay)).toMatchObject({ state: "active", role: "admin" });

    const gus = await r.newUser("Gus Guard");
    await r.join(gus, ADMINS); // invited as Account Admin through the API: not yet someone to rely on
    await r.reconcile();
    expect(r.sim.membershipsOf("fay@example.com").map((m) => m.id)).toEqual([membershipId]);
    expect(r.open(fay)).toMatchObject({ id: blocked.id, state: "blocked" });
    r.sim.acceptInvitation("gus@example.com");
    await r.reconcile(); // confirms Gus, then re-plans Fay
    expect(r.sim.membershipsOf("fay@example.com")).toEqual([]);
    expect(r.account(fay)).toMatchObject({ state: "removed" });
    expect(r.tasks(fay).find((t) => t.id === blocked.id)).toMatchObject({ state: "cancelled", reason: "no longer needed: removed through the Huntress API" });
  });

  describe("keeping one Account Admin when several lose it at once", () => {
    /** Two confirmed admins, then `remove` takes both away while every API call takes 150 ms. */
    async function bothRemoved(remove: (r: Rig, ids: readonly string[]) => Promise<void>) {
      const r = await rig();
      const admins = [await confirmed(r, "Ada Admin", ADMINS), await confirmed(r, "Bea Boss", ADMINS)];
      r.sim.resetCounts();
      // Slow answers keep the first DELETE in flight while the second user is planned (worker concurrency 4).
      r.sim.faults.latencyMs = 150;
      await remove(r, admins.map((a) => a.userId));
      r.sim.faults.latencyMs = 0;
      expect(r.sim.requestCount("DELETE", "/v1/memberships/:id")).toBe(1);
      const removed = admins.filter((a) => r.account(a.userId)?.state === "removed");
      const kept = admins.filter((a) => r.account(a.userId)?.state === "active");
      expect(removed).toHaveLength(1);
      expect(kept).toHaveLength(1);
      expect(r.sim.membershipsOf(kept[0]!.userId === admins[0]!.userId ? "ada@example.com" : "bea@example.com").map((m) => m.id)).toEqual([kept[0]!.membershipId]);
      const blocked = r.open(kept[0]!.userId)!;
      expect(blocked).toMatchObject({ action: "remove", state: "blocked" });
      expect(blocked.reason).toMatch(/is the last Account Admin of Huntress: no other Account Admin who has accepted/);
      expect(r.open(removed[0]!.userId)).toBeUndefined();
      return { r, blocked, keptId: kept[0]!.userId };
    }

    it("sends exactly one membership DELETE when one PATCH removes both admins; the other becomes a blocked task", async () => {
      const { r, blocked, keptId } = await bothRemoved((r, ids) => r.leaveAll(ids, ADMINS));
      // A new Account Admin, once accepted and confirmed, lets the API finish the blocked removal.
      const cy = await r.newUser("Cy Cipher");
      await r.join(cy, ADMINS);
      r.sim.acceptInvitation("cy@example.com");
      await r.reconcile();
      await r.reconcile();
      expect(r.account(keptId)).toMatchObject({ state: "removed" });
      expect(r.tasks(keptId).find((t) => t.id === blocked.id)).toMatchObject({ state: "cancelled" });
      expect(r.sim.requestCount("DELETE", "/v1/memberships/:id")).toBe(2);
    });

    it("sends exactly one membership DELETE when two PATCHes remove the admins at the same time", async () => {
      await bothRemoved((r, ids) => Promise.all(ids.map((id) => r.leave(id, ADMINS))).then(() => undefined));
    });
  });

  it("falls back to a manual task that says why when the key is refused (403), and the task works as usual", async () => {
    const r = await rig();
    r.sim.setMembershipsScope(false);
    const hal = await r.newUser("Hal Host");
    await r.join(hal, USERS);
    const task = r.open(hal)!;
    expect(task).toMatchObject({ action: "invite", role: "standard", state: "open", title: "Invite Hal Host to Huntress as Standard User" });
    expect(task.steps[0]).toBe("The Huntress API refused this key (403): do it by hand.");
    expect(task.steps.slice(1)).toEqual(INVITE_STEPS.map((s) => s.replace("{portalUrl}", "https://huntress.io").replace("{email}", "hal@example.com").replace("{role}", "Standard User")));
    expect(r.account(hal)).toMatchObject({ state: "pending", externalId: "hal@example.com" });
    expect(r.audit("huntress.api.fallback")[0]!.after).toMatchObject({ operation: "create", status: 403, reason: task.steps[0] });
    // The job succeeded (nothing to retry): the work now waits on a person.
    expect(r.bridge.running.db.prepare("SELECT count(*) FROM jobs").pluck().get()).toBe(0);
    r.bridge.running.review.complete(task.id, "reviewer@msp.example", "sent by hand");
    expect(r.account(hal)).toMatchObject({ state: "invited" });
    expect(r.open(hal)).toMatchObject({ action: "confirm" });
  });

  it("falls back to a manual task on 404 (an account id the key cannot reach)", async () => {
    const r = await rig({ env: { HUNTRESS_ACCOUNT_ID: "424242" } });
    const ivy = await r.newUser("Ivy Ink");
    await r.join(ivy, ADMINS);
    expect(r.sim.requestCount("POST", "/v1/accounts/:account_id/memberships")).toBe(1);
    const task = r.open(ivy)!;
    expect(task).toMatchObject({ action: "invite", role: "admin" });
    expect(task.steps[0]).toBe("The Huntress API could not find the account or the membership (404): do it by hand.");
  });

  it("rides out a short 5xx burst, and falls back to a manual task when the failure outlives the client's retries", async () => {
    const r = await rig();
    r.sim.faults.failNext(1, { status: 503, match: { method: "POST" } });
    const jo = await r.newUser("Jo Jolt");
    await r.join(jo, USERS);
    expect(r.account(jo)).toMatchObject({ state: "invited" });
    expect(r.tasks(jo)).toEqual([]);

    r.sim.faults.failNext(1000, { status: 503, match: { method: "POST" } });
    const kit = await r.newUser("Kit Knot");
    await r.join(kit, USERS);
    const task = r.open(kit)!;
    expect(task).toMatchObject({ action: "invite", role: "standard" });
    expect(task.steps[0]).toBe("The Huntress API kept failing (503, 2 attempts): do it by hand.");
    expect(r.account(kit)).toMatchObject({ state: "pending" });
  });

  it("falls back on a failed PATCH too: the role-change task says why and the map keeps the old role", async () => {
    const r = await rig();
    await confirmed(r, "Zed Zero", ADMINS);
    const { userId: lu } = await confirmed(r, "Lu Lane", USERS);
    r.sim.faults.failNext(1, { status: 404, match: { method: "PATCH" } });
    await r.join(lu, ADMINS);
    const task = r.open(lu)!;
    expect(task).toMatchObject({ action: "changeRole", role: "admin", title: "Change Lu Lane's Huntress role from Standard User to Account Admin" });
    expect(task.steps[0]).toMatch(/\(404\): do it by hand\.$/);
    expect(r.account(lu)).toMatchObject({ state: "active", role: "standard" });
  });

  it("never writes the API key or secret to the logs, tasks or audit log, even when Huntress refuses them (401)", async () => {
    const wrongSecret = "hs_live_WRONG_SECRET_5a4b3c2d1e";
    const r = await rig({ env: { HUNTRESS_API_SECRET: wrongSecret } });
    const mo = await r.newUser("Mo Moss");
    await r.join(mo, USERS);
    expect(r.open(mo)!.steps[0]).toBe("The Huntress API did not accept the API key and secret (401; check HUNTRESS_API_KEY and HUNTRESS_API_SECRET): do it by hand.");
    await r.reconcile();
    const everything = [
      ...r.bridge.logLines,
      JSON.stringify(r.tasks(mo)),
      JSON.stringify(r.audit()),
    ].join("\n");
    expect(r.bridge.logLines.some((l) => l.includes('"huntress request"'))).toBe(true); // debug lines were written
    const basic = (key: string, secret: string) => Buffer.from(`${key}:${secret}`).toString("base64");
    for (const secret of [r.sim.apiKey, wrongSecret, r.sim.apiSecret, basic(r.sim.apiKey, wrongSecret), basic(r.sim.apiKey, r.sim.apiSecret)]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("calls nothing for a manual app with the huntress template: manual tasks only, even with credentials configured", async () => {
    const r = await rig({ app: { type: "manual", template: "huntress" } });
    const nia = await r.newUser("Nia Node");
    await r.join(nia, ADMINS);
    await r.reconcile();
    expect([...r.sim.requestCounts.values()].reduce((a, b) => a + b, 0)).toBe(0);
    expect(r.open(nia)).toMatchObject({ action: "invite", role: "admin" });
    expect(r.open(nia)!.steps).toHaveLength(INVITE_STEPS.length);
  });

  it.each([
    ["type: huntress", { name: "huntress", type: "huntress" }],
    ["the deprecated type: manual, template: huntress, mode: api", { name: "huntress", type: "manual", template: "huntress", mode: "api" }],
  ])("refuses to start with %s without the key and secret, naming both", (_spelling, app) => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-huntress-config-"));
    try {
      const file = join(dir, "bridge.yaml");
      writeFileSync(file, stringify({ apps: [app] }));
      const attempt = () => loadConfig({ SCIM_BRIDGE_CONFIG: file });
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/huntress\.apiKey.*HUNTRESS_API_KEY \(huntress\.apiKey\) is required: app "huntress" has type "huntress"/);
      expect(attempt).toThrow(/HUNTRESS_API_SECRET/);
      expect(loadConfig({ SCIM_BRIDGE_CONFIG: file, HUNTRESS_API_KEY: "k", HUNTRESS_API_SECRET: "s" }).huntress).toMatchObject({ url: "https://api.huntress.io", apiKey: "k" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("still runs the deprecated spelling as the same huntress app: API connector, same instance and links, one warning in the banner and the log", async () => {
    const r = await rig({ app: { type: "manual", template: "huntress", mode: "api" } });
    const { running } = r.bridge;
    const ada = await r.newUser("Ada Lovelace");
    await r.join(ada, ADMINS);
    expect(r.sim.invitations.map((i) => i.email)).toEqual(["ada@example.com"]);
    expect(r.open(ada)).toBeUndefined();
    // The instance string compose.ts has always given API-mode apps: links need no rebind.
    const instance = `huntress:${r.sim.url.toLowerCase()}#account=own`;
    expect(r.account(ada)).toMatchObject({ state: "invited", instance });
    expect(running.foreignLinks).toEqual([]);
    const expected = 'app "huntress": "type: manual, template: huntress, mode: api" is deprecated; write "type: huntress" instead and drop "template" and "mode"';
    expect(running.deprecations).toHaveLength(1);
    expect(running.deprecations[0]).toContain(expected);
    expect(banner(running).split("\n").filter((l) => l.includes("WARNING"))).toEqual([`  WARNING ${running.deprecations[0]}`]);
    // Log lines are JSON: the message's quotes are escaped there.
    expect(r.bridge.logLines.filter((l) => l.includes(JSON.stringify(expected).slice(1, -1)))).toHaveLength(1);
  });
});
