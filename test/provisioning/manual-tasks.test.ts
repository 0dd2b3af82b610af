/**
 * Manual tasks end to end: Entra-style SCIM requests in, tasks out, people completing them.
 * Huntress (no API by default) and an invite-based portal, with the real bridge on loopback.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Task } from "../../src/domain/task.js";
import { startBridge, type TestBridge } from "../support/bridge.js";
import { create, patch, userBody } from "../support/scim.js";

const CONFIG = `
apps:
  - { name: huntress, type: manual, template: huntress, slaHours: 24 }
  - { name: portal, type: manual, template: invite-portal, portalUrl: "https://log360.example.com", slaHours: 0.0001 }
rules:
  - { group: Huntress Admins, app: huntress, role: admin }
  - { group: Huntress Users, app: huntress, role: standard }
  - { group: Portal Users, app: portal, role: user }
provisioning: { reconcileIntervalMinutes: 0 }
`;

const ACCESS = "urn:scim-bridge:schemas:extension:access:2.0:User";

describe("manual tasks", () => {
  let bridge: TestBridge;
  let groups: Record<string, string>;

  beforeEach(async () => {
    const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-manual-")), "bridge.yaml");
    writeFileSync(file, CONFIG);
    bridge = await startBridge({ SCIM_BRIDGE_CONFIG: file });
    groups = {};
    for (const name of ["Huntress Admins", "Huntress Users", "Portal Users"]) groups[name] = (await create(bridge, "Groups", { displayName: name })).id;
  });
  afterEach(async () => bridge.close());

  /** Lets the worker finish everything queued, as a person would see it a moment later. */
  const settle = () => bridge.running.worker.drain();
  const tasksOf = (userId: string, app = "huntress") => bridge.running.tasks.list({ userId, app });
  const open = (userId: string, app = "huntress"): Task | undefined => bridge.running.tasks.openFor(userId, app);
  const account = (userId: string, app = "huntress") => bridge.running.accounts.get(userId, app);

  async function newUser(name: string): Promise<string> {
    const [given, family] = name.split(" ") as [string, string];
    const email = `${given.toLowerCase()}@example.com`;
    return (await create(bridge, "Users", userBody(email, { name: { givenName: given, familyName: family }, displayName: name, emails: [{ type: "work", value: email, primary: true }] }))).id;
  }
  async function joinGroup(userId: string, group: string) {
    const r = await bridge.scim("PATCH", `/Groups/${groups[group]}`, patch({ op: "Add", path: "members", value: [{ value: userId }] }));
    expect(r.status, r.text).toBe(204);
    await settle();
  }
  async function leaveGroup(userId: string, group: string) {
    const r = await bridge.scim("PATCH", `/Groups/${groups[group]}`, patch({ op: "Remove", path: "members", value: [{ $ref: null, value: userId }] }));
    expect(r.status, r.text).toBe(204);
    await settle();
  }
  const done = (task: Task, note: string | null = null) => bridge.running.review.complete(task.id, "reviewer@msp.example", note);

  it("turns 'added to Huntress Admins' into exactly one invite task with the role and the steps", async () => {
    const ada = await newUser("Ada Lovelace");
    await joinGroup(ada, "Huntress Admins");
    await bridge.running.reconciler.run("test"); // re-planning must not raise a second task
    await settle();
    const tasks = tasksOf(ada);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ action: "invite", role: "admin", state: "open", title: "Invite Ada Lovelace to Huntress as Account Admin" });
    expect(tasks[0]!.steps).toEqual([
      "Sign in to https://huntress.io as an Account Admin (only Account Admins manage users).",
      "Open Settings › Users and choose Invite User.",
      "Email: ada@example.com",
      "Role: Account Admin",
      "Choose Send Invite, then mark this task done.",
    ]);
    expect(account(ada)).toMatchObject({ state: "pending", role: "admin", externalId: "ada@example.com" });
    // An admin reading the user through SCIM sees the truth.
    const user = await bridge.scim("GET", `/Users/${ada}`);
    expect(user.body.schemas).toContain(ACCESS);
    expect(user.body[ACCESS]).toEqual({ apps: [{ app: "huntress", role: "admin", state: "pending", pendingTask: "Invite Ada Lovelace to Huntress as Account Admin" }] });
  });

  it("cancels a pending invite when the user leaves the group before anyone acted", async () => {
    const bob = await newUser("Bob Byte");
    await joinGroup(bob, "Huntress Users");
    await leaveGroup(bob, "Huntress Users");
    const [task] = tasksOf(bob);
    expect(task).toMatchObject({ action: "invite", state: "cancelled" });
    expect(task!.reason).toMatch(/before anyone acted/);
    expect(tasksOf(bob)).toHaveLength(1);
    expect(account(bob)).toMatchObject({ state: "removed", externalId: null });
  });

  it("turns 'invite as Standard User, then promoted' into one invite as Account Admin, saying so on the old task", async () => {
    const cy = await newUser("Cy Cipher");
    await joinGroup(cy, "Huntress Users");
    await joinGroup(cy, "Huntress Admins");
    const [first, second] = [...tasksOf(cy)].sort((a, b) => a.id - b.id);
    expect(first).toMatchObject({ role: "standard", state: "cancelled", supersededBy: second!.id });
    expect(first!.reason).toBe("superseded by a newer plan: Invite Cy Cipher to Huntress as Account Admin");
    expect(second).toMatchObject({ action: "invite", role: "admin", state: "open" });
  });

  it("moves the identity map to invited when the invite is done, then to active when the acceptance is confirmed", async () => {
    const dee = await newUser("Dee Delta");
    await joinGroup(dee, "Huntress Users");
    const invite = open(dee)!;
    const completed = done(invite, "sent from the portal at 10:02");
    expect(completed).toMatchObject({ state: "done", completedBy: "reviewer@msp.example", note: "sent from the portal at 10:02" });
    expect(account(dee)).toMatchObject({ state: "invited", role: "standard" });
    const confirm = open(dee)!;
    expect(confirm).toMatchObject({ action: "confirm", title: "Confirm Dee Delta accepted the Huntress invitation" });
    done(confirm);
    await settle();
    expect(account(dee)).toMatchObject({ state: "active", role: "standard" });
    expect(open(dee)).toBeUndefined();
  });

  it("raises a role-change task on promotion and demotion of a confirmed user", async () => {
    const eve = await newUser("Eve Echo");
    const zed = await newUser("Zed Zero"); // a second admin, so demoting Eve leaves one
    for (const u of [eve, zed]) {
      await joinGroup(u, "Huntress Admins");
      done(open(u)!);
      done(open(u)!);
    }
    await settle();
    await joinGroup(eve, "Huntress Users");
    await leaveGroup(eve, "Huntress Admins");
    const change = open(eve)!;
    expect(change).toMatchObject({ action: "changeRole", role: "standard", title: "Change Eve Echo's Huntress role from Account Admin to Standard User" });
    expect(change.steps[0]).toMatch(
      /^Why: no rule grants Eve Echo Account Admin any more: not in 'Huntress Admins', the group the rule for Account Admin names; the rules now grant Standard User, since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(request [^)]+\)\.$/,
    );
    done(change);
    await settle();
    expect(account(eve)).toMatchObject({ state: "active", role: "standard" });
    expect(open(eve)).toBeUndefined();
  });

  it("never plans the removal of the last Account Admin: a blocked task explains why, and unblocks once another admin exists", async () => {
    const fay = await newUser("Fay Final");
    await joinGroup(fay, "Huntress Admins");
    done(open(fay)!);
    done(open(fay)!);
    await settle();
    await leaveGroup(fay, "Huntress Admins");
    const blocked = open(fay)!;
    expect(blocked).toMatchObject({ action: "remove", state: "blocked" });
    expect(blocked.reason).toMatch(/Fay Final is the last Account Admin of Huntress/);
    expect(account(fay)).toMatchObject({ state: "active", role: "admin" });

    const gus = await newUser("Gus Guard");
    await joinGroup(gus, "Huntress Admins");
    done(open(gus)!); // invited as admin: not yet someone to rely on
    await settle();
    expect(open(fay)).toMatchObject({ id: blocked.id, state: "blocked" });
    done(open(gus)!); // Gus accepted: a confirmed Account Admin remains
    await settle();
    const unblocked = open(fay)!;
    expect(unblocked).toMatchObject({ action: "remove", state: "open" });
    expect(bridge.running.tasks.get(blocked.id)).toMatchObject({ state: "cancelled", supersededBy: unblocked.id });
  });

  describe("keeping one Account Admin when several lose it at once", () => {
    /** Two confirmed Account Admins: invited, and the acceptance confirmed. */
    async function twoAdmins(): Promise<[string, string]> {
      const ids: string[] = [];
      for (const name of ["Ada Admin", "Bea Boss"]) {
        const id = await newUser(name);
        await joinGroup(id, "Huntress Admins");
        done(open(id)!);
        done(open(id)!);
        ids.push(id);
      }
      await settle();
      for (const id of ids) expect(account(id)).toMatchObject({ state: "active", role: "admin" });
      return ids as [string, string];
    }
    /** Of the two admins' tasks: exactly one removal to carry out, and one blocked saying why. */
    function oneActionableOneBlocked(ids: readonly string[]) {
      const tasks = ids.map((id) => open(id)!);
      expect(tasks.map((t) => t.action)).toEqual(["remove", "remove"]);
      expect(tasks.map((t) => t.state).sort()).toEqual(["blocked", "open"]);
      const blocked = tasks.find((t) => t.state === "blocked")!;
      expect(blocked.reason).toMatch(new RegExp(`^${blocked.profile.displayName} is the last Account Admin of Huntress: no other Account Admin who has accepted`));
      expect(blocked.reason).toMatch(/this task unblocks by itself/);
      // Nobody's access moved before a person acts: both are still admins in the portal.
      for (const id of ids) expect(account(id)).toMatchObject({ state: "active", role: "admin" });
      return { removal: tasks.find((t) => t.state === "open")!, blocked };
    }

    /** Two confirmed admins taken out of the admins group by one PATCH. */
    async function bothRemovedInOnePatch() {
      const ids = await twoAdmins();
      const r = await bridge.scim("PATCH", `/Groups/${groups["Huntress Admins"]}`, patch({ op: "Remove", path: "members", value: ids.map((value) => ({ $ref: null, value })) }));
      expect(r.status, r.text).toBe(204);
      await settle();
      return oneActionableOneBlocked(ids);
    }

    it("gives one actionable removal and one blocked task when one PATCH removes both admins", async () => {
      const { removal, blocked } = await bothRemovedInOnePatch();
      // The removal done leaves the other as the last admin: still blocked, on every pass.
      done(removal);
      await settle();
      await bridge.running.reconciler.run("test");
      await settle();
      expect(open(blocked.userId)).toMatchObject({ id: blocked.id, state: "blocked" });
      expect(() => done(blocked)).toThrow(/only open tasks can be completed/);

      // A new Account Admin, once confirmed, unblocks it.
      const cy = await newUser("Cy Cipher");
      await joinGroup(cy, "Huntress Admins");
      done(open(cy)!);
      done(open(cy)!);
      await settle();
      expect(open(blocked.userId)).toMatchObject({ action: "remove", state: "open" });
      expect(bridge.running.tasks.get(blocked.id)).toMatchObject({ state: "cancelled" });
    });

    it("lets the blocked removal go ahead once the other admin is added back and their removal withdrawn", async () => {
      const { removal, blocked } = await bothRemovedInOnePatch();
      await joinGroup(removal.userId, "Huntress Admins");
      expect(bridge.running.tasks.get(removal.id)).toMatchObject({ state: "cancelled", reason: "no longer wanted: the rule for 'Huntress Admins' grants Account Admin again" });
      await settle();
      expect(open(blocked.userId)).toMatchObject({ action: "remove", state: "open" });
      expect(bridge.running.tasks.get(blocked.id)).toMatchObject({ state: "cancelled", supersededBy: open(blocked.userId)!.id });
    });

    it("gives one actionable removal and one blocked task when two PATCHes remove them at the same time", async () => {
      const ids = await twoAdmins();
      const results = await Promise.all(
        ids.map((value) => bridge.scim("PATCH", `/Groups/${groups["Huntress Admins"]}`, patch({ op: "Remove", path: "members", value: [{ $ref: null, value }] }))),
      );
      for (const r of results) expect(r.status, r.text).toBe(204);
      await settle();
      oneActionableOneBlocked(ids);
    });

    it("blocks the downgrade of the last admin when the other is being removed in the same change", async () => {
      const [ada, bea] = await twoAdmins();
      // One PATCH moves Ada to Standard User and takes Bea out: only one of the two may go ahead.
      await bridge.scim("PATCH", `/Groups/${groups["Huntress Users"]}`, patch({ op: "Add", path: "members", value: [{ value: ada }] }));
      const r = await bridge.scim("PATCH", `/Groups/${groups["Huntress Admins"]}`, patch({ op: "Remove", path: "members", value: [ada, bea].map((value) => ({ $ref: null, value })) }));
      expect(r.status, r.text).toBe(204);
      await settle();
      const [change, removal] = [open(ada)!, open(bea)!];
      expect(change).toMatchObject({ action: "changeRole", role: "standard" });
      expect(removal).toMatchObject({ action: "remove" });
      expect([change.state, removal.state].sort()).toEqual(["blocked", "open"]);
    });
  });

  it("follows the invite-portal lifecycle: invite, disable when access goes, enable when it comes back", async () => {
    const hal = await newUser("Hal Host");
    await joinGroup(hal, "Portal Users");
    done(open(hal, "portal")!);
    done(open(hal, "portal")!);
    await settle();
    expect(account(hal, "portal")).toMatchObject({ state: "active" });
    await leaveGroup(hal, "Portal Users");
    const disable = open(hal, "portal")!;
    expect(disable).toMatchObject({ action: "disable", title: "Disable Hal Host in the portal" });
    done(disable);
    await settle();
    expect(account(hal, "portal")).toMatchObject({ state: "disabled" });
    await joinGroup(hal, "Portal Users");
    const enable = open(hal, "portal")!;
    expect(enable).toMatchObject({ action: "enable" });
    // Out again before anyone acted: the portal user stays disabled and nobody is asked to enable it.
    await leaveGroup(hal, "Portal Users");
    expect(bridge.running.tasks.get(enable.id)).toMatchObject({ state: "cancelled", reason: "no longer wanted: no rule grants the portal any more" });
    expect(open(hal, "portal")).toBeUndefined();
    expect(account(hal, "portal")).toMatchObject({ state: "disabled" });
  });

  it("deletes an unconfirmed portal user (invalidating the invitation) when the IdP deletes the user", async () => {
    const ivy = await newUser("Ivy Ink");
    await joinGroup(ivy, "Portal Users");
    done(open(ivy, "portal")!);
    await settle();
    expect((await bridge.scim("DELETE", `/Users/${ivy}`)).status).toBe(204);
    await settle();
    expect(open(ivy, "portal")).toMatchObject({ action: "delete", title: "Delete Ivy Ink from the portal" });
  });

  it("flags tasks past their due time as overdue, first in the queue", async () => {
    const jo = await newUser("Jo Jolt");
    await joinGroup(jo, "Portal Users"); // the portal's SLA is 0.36 s
    await joinGroup(jo, "Huntress Users");
    await new Promise((r) => setTimeout(r, 400));
    const overdue = bridge.running.tasks.list({ overdue: true });
    expect(overdue.map((t) => t.app)).toEqual(["portal"]);
    expect(bridge.running.tasks.list({ userId: jo })[0]!.app).toBe("portal");
    expect(bridge.running.tasks.counts()).toMatchObject({ portal: { open: 1, overdue: 1 }, huntress: { open: 1, overdue: 0 } });
  });

  it("refuses to complete a task twice, and needs a reason to fail one", async () => {
    const kit = await newUser("Kit Knot");
    await joinGroup(kit, "Huntress Users");
    const task = open(kit)!;
    expect(() => bridge.running.review.fail(task.id, "r", " ")).toThrow(/reason is required/);
    bridge.running.review.fail(task.id, "r", "the portal was down");
    expect(() => done(task)).toThrow(/only open tasks can be completed/);
    expect(account(kit)!.lastError).toMatch(/the portal was down/);
    // A failed task waits to be reopened; re-planning does not raise it again.
    await bridge.running.reconciler.run("test");
    await settle();
    expect(tasksOf(kit)).toHaveLength(1);
    bridge.running.review.reopen(task.id, "r");
    done(bridge.running.tasks.get(task.id)!);
    expect(account(kit)).toMatchObject({ state: "invited" });
  });
});
