/**
 * The plan and the task queue never disagree: a removal task the plan no longer wants (the user is
 * back in the group, a misspelt rule group is fixed and the bridge restarted) is cancelled on the
 * user's next pass with the reason in words, the user page never shows it as awaited next to the
 * access it contradicts, and completing it is refused. Removal tasks say on their first line why
 * the grant went. A real bridge on loopback, SCIM and the admin API over HTTP, a real SQLite file
 * kept across restarts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Task } from "../../src/domain/task.js";
import { ADMIN_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";
import { exchange } from "../support/io.js";
import { waitFor } from "../support/provisioning.js";
import { create, patch, userBody } from "../support/scim.js";

// Approvals of rule changes are off: this is the second line of defence, for a removal that was
// raised anyway (approvals.test.ts proves the first, that the typo's removals are held).
const config = (adminsGroup: string) => `
apps:
  - { name: huntress, type: manual, template: huntress, slaHours: 24 }
rules:
  - { group: "${adminsGroup}", app: huntress, role: admin }
  - { group: Huntress Users, app: huntress, role: standard }
provisioning: { reconcileIntervalMinutes: 0, approveRuleChanges: false }
`;

const SINCE = String.raw`since \d{4}-\d\d-\d\d \d\d:\d\d UTC`;
const AGAIN = "no longer wanted: the rule for 'Huntress Admins' grants Account Admin again";

describe("tasks the plan no longer wants", () => {
  let dir: string;
  let file: string;
  let bridge: TestBridge;
  const groups: Record<string, string> = {};

  async function start(adminsGroup: string): Promise<void> {
    writeFileSync(file, config(adminsGroup));
    bridge = await startBridge({ SCIM_BRIDGE_CONFIG: file }, { dir });
  }
  /** Waits until the worker has applied everything queued (the start-up re-plan included). */
  const idle = () => waitFor(() => (bridge.running.db.prepare("SELECT count(*) FROM jobs WHERE dead = 0").pluck().get() as number) === 0, 10_000, "an idle worker");
  const settle = async () => {
    await bridge.running.worker.drain();
    await idle();
  };
  const open = (userId: string): Task | undefined => bridge.running.tasks.openFor(userId, "huntress");
  const task = (id: number): Task => bridge.running.tasks.get(id)!;
  const account = (userId: string) => bridge.running.accounts.get(userId, "huntress");
  const admin = (method: string, path: string, body?: unknown) => exchange(`${bridge.running.url}/admin/api${path}`, method, { Authorization: `Bearer ${ADMIN_TOKEN}` }, body, "application/json");
  const members = async (op: "Add" | "Remove", group: string, userIds: readonly string[]) => {
    const r = await bridge.scim("PATCH", `/Groups/${groups[group]}`, patch({ op, path: "members", value: userIds.map((value) => ({ $ref: null, value })) }));
    expect(r.status, r.text).toBe(204);
  };

  /** A confirmed Account Admin: in the group, invited and the acceptance confirmed by a person. */
  async function confirmedAdmin(name: string): Promise<string> {
    const [given, family] = name.split(" ") as [string, string];
    const email = `${given.toLowerCase()}@example.com`;
    const id = (await create(bridge, "Users", userBody(email, { name: { givenName: given, familyName: family }, displayName: name, emails: [{ type: "work", value: email, primary: true }] }))).id;
    await members("Add", "Huntress Admins", [id]);
    await settle();
    for (const step of ["invite", "confirm"]) {
      expect(open(id)).toMatchObject({ action: step });
      bridge.running.review.complete(open(id)!.id, "rita@msp.example", null);
    }
    await settle();
    expect(account(id)).toMatchObject({ state: "active", role: "admin" });
    return id;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "scim-bridge-unwanted-"));
    file = join(dir, "bridge.yaml");
    await start("Huntress Admins");
    for (const displayName of ["Huntress Admins", "Huntress Users"]) groups[displayName] = (await create(bridge, "Groups", { displayName })).id;
  });
  afterEach(async () => {
    await bridge.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("cancels a user's open Remove task with the reason when they are added back to the group, and refuses to complete it", async () => {
    const ada = await confirmedAdmin("Ada Admin");
    await confirmedAdmin("Bea Boss"); // a second admin, so Ada's removal is actionable
    await members("Remove", "Huntress Admins", [ada]);
    await settle();
    const removal = open(ada)!;
    expect(removal).toMatchObject({ action: "remove", state: "open", title: "Remove Ada Admin from Huntress" });
    // The first line says which grant went and what took it.
    expect(removal.steps[0]).toMatch(
      new RegExp(String.raw`^Why: no rule grants Ada Admin Huntress any more: not in 'Huntress Admins', the group the rule for Account Admin names, ${SINCE} \(request [^)]+\)\.$`),
    );

    await members("Add", "Huntress Admins", [ada]);
    await settle();
    expect(task(removal.id)).toMatchObject({ state: "cancelled", reason: AGAIN });
    expect(open(ada)).toBeUndefined();
    const cancelled = (bridge.running.db.prepare("SELECT after FROM audit_events WHERE action = 'task.cancelled'").pluck().all() as string[]).map((a) => JSON.parse(a) as unknown);
    expect(cancelled).toEqual([{ taskId: removal.id, title: "Remove Ada Admin from Huntress", reason: AGAIN }]);

    // A reviewer who still had the page open cannot complete it: the access stays.
    const refused = await admin("POST", `/tasks/${removal.id}/complete`, { note: "removed in the portal" });
    expect(refused.status).toBe(412);
    expect(refused.text).toContain(`task ${removal.id} is cancelled (${AGAIN}); only open tasks can be completed`);
    await settle();
    expect(account(ada)).toMatchObject({ state: "active", role: "admin" });
    expect(bridge.running.tasks.list({ userId: ada, app: "huntress" }).filter((t) => t.state === "open" || t.state === "blocked")).toEqual([]);
  });

  it("shows a task the plan no longer wants as being cancelled, never as awaited next to the access that contradicts it", async () => {
    const ada = await confirmedAdmin("Ada Admin");
    await confirmedAdmin("Bea Boss");
    await members("Remove", "Huntress Admins", [ada]);
    await settle();
    const removal = open(ada)!;
    // The pass that will cancel it has not run yet: the page is read in between.
    await bridge.running.worker.stop();
    await members("Add", "Huntress Admins", [ada]);
    const page = await userPage(bridge.running.url, ada);
    const appRow = /<tr>\s*<th scope="row">Huntress<\/th>[\s\S]*?<\/tr>/.exec(page)![0];
    expect(appRow).toContain("Account Admin");
    expect(appRow).toContain(`Cancelling <a href="/admin#task-${removal.id}">task #${removal.id}</a> (Remove Ada Admin from Huntress): ${AGAIN.replaceAll("'", "&#39;")}`);
    expect(appRow).not.toContain("Waiting for");
    await bridge.running.worker.drain();
    expect(task(removal.id)).toMatchObject({ state: "cancelled", reason: AGAIN });
  });

  it("cancels the removal tasks a misspelt rule group raised once the rule is fixed and the bridge restarted", async () => {
    const ada = await confirmedAdmin("Ada Admin");
    const bea = await confirmedAdmin("Bea Boss");
    await bridge.close();

    // The typo: "Huntress Admin" matches no group, so nobody is granted Account Admin.
    await start("Huntress Admin");
    await idle();
    const raised = [open(ada)!, open(bea)!];
    expect(raised.map((t) => t.action)).toEqual(["remove", "remove"]);
    expect(raised.map((t) => t.state).sort()).toEqual(["blocked", "open"]); // keep one Account Admin
    for (const t of raised) {
      expect(t.steps[0]).toMatch(
        new RegExp(String.raw`^Why: no rule grants ${t.profile.displayName} Huntress any more: not in 'Huntress Admin', the group the rule for Account Admin names, ${SINCE} \(the rules changed at start\)\.$`),
      );
    }
    await bridge.close();

    await start("Huntress Admins");
    await idle();
    for (const t of raised) expect(task(t.id)).toMatchObject({ state: "cancelled", reason: AGAIN });
    expect([open(ada), open(bea)]).toEqual([undefined, undefined]);
    for (const t of raised) {
      const refused = await admin("POST", `/tasks/${t.id}/complete`, {});
      expect(refused.status).toBe(412);
    }
    for (const id of [ada, bea]) expect(account(id)).toMatchObject({ state: "active", role: "admin" });
  });
});

/** The admin's user page, signed in over HTTP as a browser would (sign-in form, CSRF value, session cookie). */
async function userPage(origin: string, userId: string): Promise<string> {
  const form = await fetch(`${origin}/admin/sign-in`);
  const formCookie = form.headers.getSetCookie()[0]!.split(";")[0]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const signedIn = await fetch(`${origin}/admin/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: formCookie },
    body: new URLSearchParams({ csrf, token: ADMIN_TOKEN, next: "/admin" }),
  });
  const cookies = [formCookie, ...signedIn.headers.getSetCookie().map((c) => c.split(";")[0]!)].join("; ");
  const res = await fetch(`${origin}/admin/users/${userId}`, { headers: { Cookie: cookies } });
  expect(res.status).toBe(200);
  return res.text();
}
