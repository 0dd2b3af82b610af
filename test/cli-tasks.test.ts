/**
 * `scim-bridge tasks list|show|done|fail|reopen` against a running bridge's database: the same
 * outcomes as the admin API (through TaskReview), with "cli" as the actor.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTaskBridge, type TaskBridge } from "./support/admin.js";

let t: TaskBridge;
let ada: string;
let bob: string;
beforeAll(async () => {
  t = await startTaskBridge({ portalSlaHours: 0.0001 }); // portal tasks are overdue 0.36 s after they are raised
  ada = await t.newUser("Ada Lovelace");
  bob = await t.newUser("Bob Byte");
  await t.joinGroup(ada, "Huntress Admins");
  await t.joinGroup(bob, "Portal Users");
  await new Promise((resolve) => setTimeout(resolve, 400));
});
afterAll(async () => t.close());

const openTask = async (userId: string, app: string) => (await t.admin("GET", `/tasks?user=${userId}&app=${app}&state=open`)).body.tasks[0];

describe("tasks list", () => {
  it("prints one line per task, overdue first, then the counts per app", () => {
    const { code, out } = t.cli("tasks", "list");
    expect(code).toBe(0);
    const lines = out.split("\n");
    expect(lines.shift()).toBe("TASK\tAPP\tSTATE\tDUE\tWHAT <EMAIL>");
    expect(lines[0]).toMatch(/^#\d+\tportal\topen OVERDUE\tdue \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z\tAdd Bob Byte to the portal as Portal User <bob\.byte@example\.com>$/);
    expect(lines[1]).toMatch(/^#\d+\thuntress\topen\tdue .*\tInvite Ada Lovelace to Huntress as Account Admin <ada\.lovelace@example\.com>$/);
    expect(lines[2]).toBe("2 task(s). huntress: 1 open (0 overdue), 0 blocked; portal: 1 open (1 overdue), 0 blocked.");
  });

  it("filters by app, state and overdue, and speaks the API's JSON on request", async () => {
    expect(t.cli("tasks", "list", "--app", "huntress").out.split("\n")).toHaveLength(3);
    expect(t.cli("tasks", "list", "--overdue").out).toMatch(/^TASK\t.*\n#\d+\tportal\topen OVERDUE/);
    expect(t.cli("tasks", "list", "--overdue").out).not.toContain("huntress\t");
    expect(t.cli("tasks", "list", "--state", "done").out.split("\n")[0]).toMatch(/^0 task\(s\)\./);
    const json = JSON.parse(t.cli("tasks", "list", "--app", "portal", "--json").out);
    const api = (await t.admin("GET", "/tasks?app=portal")).body.tasks;
    expect(json).toEqual(api);
    expect(json[0]).toMatchObject({ app: "portal", overdue: true });
  });

  it("refuses a bad state or an unknown option with exit code 2", () => {
    const bad = t.cli("tasks", "list", "--state", "sideways");
    expect(bad).toEqual({ code: 2, out: "--state must be one of open, blocked, done, failed, cancelled" });
    expect(t.cli("tasks", "list", "--colour", "red").code).toBe(2);
    expect(t.cli("tasks", "frobnicate").code).toBe(2);
    expect(t.cli("tasks").out).toMatch(/scim-bridge tasks list/);
  });
});

describe("tasks show", () => {
  it("prints the task with its numbered steps", async () => {
    const task = await openTask(ada, "huntress");
    const { code, out } = t.cli("tasks", "show", String(task.id));
    expect(code).toBe(0);
    expect(out).toContain(`Task #${task.id}: Invite Ada Lovelace to Huntress as Account Admin`);
    expect(out).toContain(`  user:    Ada Lovelace <ada.lovelace@example.com> (id ${ada})`);
    expect(out).toContain("  action:  invite as admin");
    expect(out).toContain("    3. Email: ada.lovelace@example.com");
    expect(out).toContain("    4. Role: Account Admin");
    expect(JSON.parse(t.cli("tasks", "show", String(task.id), "--json").out)).toEqual((await t.admin("GET", `/tasks/${task.id}`)).body);
  });

  it("says so for a task that does not exist (exit 1) or an id that is not one (exit 2)", () => {
    expect(t.cli("tasks", "show", "999999")).toEqual({ code: 1, out: "error: task 999999 not found" });
    expect(t.cli("tasks", "show", "abc")).toEqual({ code: 2, out: "the task id must be a positive whole number" });
    expect(t.cli("tasks", "show")).toEqual({ code: 2, out: "a task id is required" });
    expect(t.cli("tasks", "show", "1", "2").code).toBe(2);
  });
});

describe("tasks done and fail", () => {
  it("completes an invite as 'cli': the identity map moves to invited and a confirm task follows", async () => {
    const task = await openTask(ada, "huntress");
    const { code, out } = t.cli("tasks", "done", String(task.id), "--note", "sent from the portal");
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^Task #${task.id} done: Invite Ada Lovelace to Huntress as Account Admin\nhuntress now shows ada\\.lovelace@example\\.com as invited\\.\nNext for this user: #\\d+ Confirm Ada Lovelace accepted the Huntress invitation is in the queue\\.\n  app: {5}huntress\n`));
    expect(out).toMatch(/\n {2}steps:\n {4}1\. /);
    const after = await t.admin("GET", `/tasks/${task.id}`);
    expect(after.body).toMatchObject({ state: "done", completedBy: "cli", note: "sent from the portal" });
    await t.settle();
    const access = await t.admin("GET", `/users/${ada}/access`);
    expect(access.body.apps.find((a: any) => a.app === "huntress").account).toMatchObject({ state: "invited", role: "admin" });
    expect(await openTask(ada, "huntress")).toMatchObject({ action: "confirm" });
    const audit = await t.admin("GET", `/audit?resourceType=Task&resourceId=${task.id}&action=task.done`);
    expect(audit.body.events[0]).toMatchObject({ actor: "cli", after: { note: "sent from the portal", state: "invited" } });

    // Done is done: a second time is refused with exit code 1, and nothing changes.
    expect(t.cli("tasks", "done", String(task.id))).toEqual({ code: 1, out: `error: task ${task.id} is done; only open tasks can be completed` });
  });

  it("needs --reason to fail a task, and reopens it on request", async () => {
    const task = await openTask(bob, "portal");
    expect(t.cli("tasks", "fail", String(task.id))).toEqual({ code: 2, out: "--reason is required to fail a task" });
    expect(t.cli("tasks", "fail", String(task.id), "--reason", "  ")).toEqual({ code: 2, out: "--reason is required to fail a task" });
    expect((await t.admin("GET", `/tasks/${task.id}`)).body.state).toBe("open");

    const failed = t.cli("tasks", "fail", String(task.id), "--reason", "the portal is down");
    expect(failed).toEqual({ code: 0, out: `Task #${task.id} failed: the portal is down. Reopen it with: scim-bridge tasks reopen ${task.id}` });
    expect((await t.admin("GET", `/tasks/${task.id}`)).body).toMatchObject({ state: "failed", reason: "the portal is down", completedBy: "cli" });

    expect(t.cli("tasks", "reopen", String(task.id)).code).toBe(0);
    expect((await t.admin("GET", `/tasks/${task.id}`)).body).toMatchObject({ state: "open", reason: null });
    expect(t.cli("tasks", "reopen", String(task.id))).toEqual({ code: 1, out: `error: task ${task.id} is open; only failed tasks can be reopened` });
  });
});
