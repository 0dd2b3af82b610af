/**
 * The review queue over HTTP: a real bridge on loopback with a real SQLite file, Huntress and an
 * invite portal as manual apps, users and groups pushed through SCIM the way Entra does, and the
 * task endpoints called with admin, reviewer and SCIM tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_NAME, REVIEWER_ACTOR, REVIEWER_NAME, startTaskBridge, type ApiResult, type TaskBridge } from "../support/admin.js";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { waitFor } from "../support/provisioning.js";

/** Asserts an RFC 9457 problem with `status`, and returns its detail. */
function expectProblem(r: ApiResult, status: number): string {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ type: "about:blank", status, title: expect.any(String), detail: expect.any(String) });
  return r.body.detail as string;
}

let t: TaskBridge;
beforeAll(async () => {
  t = await startTaskBridge();
});
afterAll(async () => t.close());

/** The one open (or blocked) task of a user in an app, read through the API. */
async function openTaskOf(userId: string, app = "huntress") {
  const r = await t.admin("GET", `/tasks?user=${userId}&app=${app}`);
  expect(r.status, r.text).toBe(200);
  return (r.body.tasks as any[]).filter((x) => x.state === "open" || x.state === "blocked");
}

describe("an Entra-style joiner through SCIM", () => {
  it("turns 'create user, add to Huntress Admins' into exactly one invite task with the role and the instructions", async () => {
    const ada = await t.newUser("Ada Lovelace");
    await t.joinGroup(ada, "Huntress Admins");
    // A second pass over the same user (what the reconciler does) must not raise another task.
    await t.admin("POST", "/reconcile");
    await t.settle();

    const list = await t.reviewer("GET", `/tasks?user=${ada}`);
    expect(list.status, list.text).toBe(200);
    expect(list.body.tasks).toHaveLength(1);
    const [task] = list.body.tasks;
    expect(task).toMatchObject({
      app: "huntress",
      userId: ada,
      action: "invite",
      role: "admin",
      state: "open",
      overdue: false,
      title: "Invite Ada Lovelace to Huntress as Account Admin",
      profile: { email: "ada.lovelace@example.com", displayName: "Ada Lovelace" },
      assignee: null,
      completedBy: null,
    });
    expect(task.steps).toEqual([
      "Sign in to https://huntress.io as an Account Admin (only Account Admins manage users).",
      "Open Settings › Users and choose Invite User.",
      "Email: ada.lovelace@example.com",
      "Role: Account Admin",
      "Choose Send Invite, then mark this task done.",
    ]);
    // Due one SLA (24 h) after it was raised.
    expect(Date.parse(task.dueAt) - Date.parse(task.createdAt)).toBe(24 * 3_600_000);
    const one = await t.reviewer("GET", `/tasks/${task.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(task);
  });

  it("completing the invite records who and the note, moves the identity map to invited and raises a confirm task", async () => {
    const bo = await t.newUser("Bo Byte");
    await t.joinGroup(bo, "Huntress Admins");
    const [invite] = await openTaskOf(bo);

    const claimed = await t.reviewer("POST", `/tasks/${invite.id}/claim`);
    expect(claimed.status, claimed.text).toBe(200);
    expect(claimed.body).toMatchObject({ assignee: REVIEWER_ACTOR, claimedAt: expect.any(String), state: "open" });

    const done = await t.reviewer("POST", `/tasks/${invite.id}/complete`, { note: "  Invitation sent at 10:02  " });
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ id: invite.id, state: "done", completedBy: REVIEWER_ACTOR, note: "Invitation sent at 10:02", overdue: false });
    await t.settle();

    const access = await t.admin("GET", `/users/${bo}/access`);
    expect(access.status, access.text).toBe(200);
    const huntress = access.body.apps.find((a: any) => a.app === "huntress");
    expect(huntress.account).toMatchObject({ state: "invited", role: "admin", externalId: "bo.byte@example.com" });
    expect(huntress.wanted).toMatchObject({ role: "admin", because: "admin because member of 'Huntress Admins' (rules[0])" });
    const [confirm] = await openTaskOf(bo);
    expect(confirm).toMatchObject({ action: "confirm", state: "open", title: "Confirm Bo Byte accepted the Huntress invitation" });
    expect(huntress.openTask).toMatchObject({ id: confirm.id, title: confirm.title, state: "open", overdue: false });
    // Only the invite and its follow-up: the re-plan after completion raised nothing else.
    expect((await t.admin("GET", `/tasks?user=${bo}`)).body.tasks).toHaveLength(2);

    // The audit log names the reviewer token as the actor of the claim and the completion.
    const audit = await t.admin("GET", `/audit?resourceType=Task&resourceId=${invite.id}`);
    expect(audit.body.events.map((e: any) => [e.action, e.actor])).toEqual([
      ["task.done", REVIEWER_ACTOR],
      ["task.claim", REVIEWER_ACTOR],
    ]);
  });

  it("confirming the acceptance as an admin makes the account active and leaves nothing owed", async () => {
    const cy = await t.newUser("Cy Cipher");
    await t.joinGroup(cy, "Huntress Users");
    const [invite] = await openTaskOf(cy);
    expect((await t.admin("POST", `/tasks/${invite.id}/complete`)).status).toBe(200);
    const [confirm] = await openTaskOf(cy);
    const done = await t.admin("POST", `/tasks/${confirm.id}/complete`, {});
    expect(done.body).toMatchObject({ state: "done", completedBy: ADMIN_NAME, note: null });
    await t.settle();
    expect(await openTaskOf(cy)).toEqual([]);
    const access = await t.admin("GET", `/users/${cy}/access`);
    expect(access.body.apps.find((a: any) => a.app === "huntress")).toMatchObject({ account: { state: "active", role: "standard" }, pendingAction: null });
    expect(access.body.apps.find((a: any) => a.app === "huntress").openTask).toBeUndefined();
  });
});

describe("failing and reopening", () => {
  it("needs a reason to fail a task, records it, and lets the task be reopened", async () => {
    const dee = await t.newUser("Dee Delta");
    await t.joinGroup(dee, "Portal Users");
    const [task] = await openTaskOf(dee, "portal");

    expect(expectProblem(await t.reviewer("POST", `/tasks/${task.id}/fail`, {}), 400)).toMatch(/reason is required/);
    expect(expectProblem(await t.reviewer("POST", `/tasks/${task.id}/fail`), 400)).toMatch(/reason is required/);
    expect(expectProblem(await t.reviewer("POST", `/tasks/${task.id}/fail`, { reason: "   " }), 400)).toMatch(/reason is required/);
    expect(expectProblem(await t.reviewer("POST", `/tasks/${task.id}/fail`, { reason: 42 }), 400)).toMatch(/reason/);
    // Nothing changed on the way.
    expect((await t.reviewer("GET", `/tasks/${task.id}`)).body).toMatchObject({ state: "open", reason: null });

    const failed = await t.reviewer("POST", `/tasks/${task.id}/fail`, { reason: "The portal refuses the domain example.com" });
    expect(failed.status, failed.text).toBe(200);
    expect(failed.body).toMatchObject({ state: "failed", reason: "The portal refuses the domain example.com", completedBy: REVIEWER_ACTOR });
    const access = await t.admin("GET", `/users/${dee}/access`);
    expect(access.body.apps.find((a: any) => a.app === "portal").account.lastError).toMatch(/failed: The portal refuses the domain example.com$/);

    // Failed is final until someone reopens it: completing or failing again is refused.
    expect(expectProblem(await t.reviewer("POST", `/tasks/${task.id}/complete`), 412)).toBe(`task ${task.id} is failed; only open tasks can be completed`);
    expect(expectProblem(await t.reviewer("POST", `/tasks/${task.id}/fail`, { reason: "again" }), 412)).toMatch(/only open tasks can be failed/);

    const reopened = await t.reviewer("POST", `/tasks/${task.id}/reopen`);
    expect(reopened.status, reopened.text).toBe(200);
    expect(reopened.body).toMatchObject({ state: "open", reason: null, completedBy: null });
    expect(expectProblem(await t.reviewer("POST", `/tasks/${task.id}/reopen`), 412)).toMatch(/only failed tasks can be reopened/);
    expect((await t.reviewer("POST", `/tasks/${task.id}/complete`, { note: "added after the domain was allowed" })).body).toMatchObject({ state: "done" });
  });

  it("refuses to claim a task that is not open", async () => {
    const eve = await t.newUser("Eve Echo");
    await t.joinGroup(eve, "Huntress Users");
    await t.leaveGroup(eve, "Huntress Users"); // the untouched invite is cancelled
    const list = await t.admin("GET", `/tasks?user=${eve}&state=cancelled`);
    const [cancelled] = list.body.tasks;
    expect(cancelled.reason).toMatch(/before anyone acted/);
    expect(expectProblem(await t.reviewer("POST", `/tasks/${cancelled.id}/claim`), 412)).toBe(`task ${cancelled.id} is cancelled; only open tasks can be claimed`);
  });
});

describe("listing and counting", () => {
  it("filters by app, state, user and overdue, and lists overdue tasks first with counts per app", async () => {
    const late = await startTaskBridge({ portalSlaHours: 0.0001 }); // portal tasks are due 0.36 s after they are raised
    try {
      const fay = await late.newUser("Fay Foxtrot");
      const gus = await late.newUser("Gus Golf");
      await late.joinGroup(fay, "Huntress Users");
      await late.joinGroup(gus, "Portal Users");
      await waitFor(async () => (await late.reviewer("GET", "/tasks?overdue=true")).body.tasks.length === 1, 5_000, "an overdue portal task");

      const all = await late.reviewer("GET", "/tasks");
      expect(all.body.tasks.map((x: any) => [x.app, x.userId, x.overdue])).toEqual([
        ["portal", gus, true],
        ["huntress", fay, false],
      ]);
      expect(all.body.counts).toEqual({
        apps: { huntress: { open: 1, blocked: 0, overdue: 0 }, portal: { open: 1, blocked: 0, overdue: 1 } },
        total: { open: 2, blocked: 0, overdue: 1 },
      });
      expect((await late.reviewer("GET", "/tasks/counts")).body).toEqual(all.body.counts);
      expect((await late.reviewer("GET", "/tasks?overdue=false")).body.tasks.map((x: any) => x.userId)).toEqual([fay]);
      expect((await late.reviewer("GET", "/tasks?app=huntress")).body.tasks.map((x: any) => x.userId)).toEqual([fay]);
      expect((await late.reviewer("GET", `/tasks?user=${gus}`)).body.tasks.map((x: any) => x.app)).toEqual(["portal"]);
      expect((await late.reviewer("GET", "/tasks?state=done")).body.tasks).toEqual([]);
      expect((await late.reviewer("GET", "/tasks?app=nothing-here")).body.tasks).toEqual([]);
      expect((await late.reviewer("GET", "/tasks?limit=1")).body.tasks).toHaveLength(1);
    } finally {
      await late.close();
    }
  });

  it("lists every configured manual app in the counts, even at zero", async () => {
    const r = await t.reviewer("GET", "/tasks/counts");
    expect(Object.keys(r.body.apps).sort()).toEqual(["huntress", "portal"]);
  });
});

describe("bad input", () => {
  it("answers 400 with a problem naming the parameter for a bad or unknown query parameter", async () => {
    expect(expectProblem(await t.reviewer("GET", "/tasks?state=sideways"), 400)).toMatch(/state/);
    expect(expectProblem(await t.reviewer("GET", "/tasks?overdue=yes"), 400)).toMatch(/overdue/);
    expect(expectProblem(await t.reviewer("GET", "/tasks?limit=0"), 400)).toMatch(/limit/);
    expect(expectProblem(await t.reviewer("GET", "/tasks?limit=ten"), 400)).toMatch(/limit/);
    expect(expectProblem(await t.reviewer("GET", "/tasks?state=open&state=done"), 400)).toMatch(/state/);
    expect(expectProblem(await t.reviewer("GET", "/tasks?colour=red"), 400)).toMatch(/colour/);
    expect(expectProblem(await t.reviewer("GET", "/tasks/counts?app=huntress"), 400)).toMatch(/app/);
  });

  it("answers 404 for a task id that does not exist or cannot", async () => {
    expect(expectProblem(await t.reviewer("GET", "/tasks/999999"), 404)).toBe("task 999999 not found");
    expectProblem(await t.reviewer("GET", "/tasks/abc"), 404);
    expectProblem(await t.reviewer("GET", "/tasks/0"), 404);
    expectProblem(await t.reviewer("GET", "/tasks/1e3"), 404);
    expectProblem(await t.reviewer("POST", "/tasks/999999/complete"), 404);
    expectProblem(await t.reviewer("POST", "/tasks/999999/fail", { reason: "x" }), 404);
    expectProblem(await t.reviewer("POST", "/tasks/999999/claim"), 404);
    expectProblem(await t.reviewer("POST", "/tasks/999999/reopen"), 404);
  });

  it("answers 400 for malformed JSON or unknown body fields, 413 for a body over 64 kB, 415 for a body that is not JSON", async () => {
    const hal = await t.newUser("Hal Hotel");
    await t.joinGroup(hal, "Huntress Users");
    const [task] = await openTaskOf(hal);
    const path = `/tasks/${task.id}/complete`;
    expectProblem(await t.reviewer("POST", path, "{not json"), 400);
    expectProblem(await t.reviewer("POST", path, "null"), 400);
    expect(expectProblem(await t.reviewer("POST", path, { note: "ok", colour: "red" }), 400)).toMatch(/colour/);
    expectProblem(await t.reviewer("POST", path, { note: 7 }), 400);
    expectProblem(await t.reviewer("POST", path, { note: "x".repeat(4001) }), 400);
    expectProblem(await t.reviewer("POST", path, { note: "x".repeat(70_000) }), 413);
    expectProblem(await t.reviewer("POST", path, "note=done", { "Content-Type": "application/x-www-form-urlencoded" }), 415);
    expectProblem(await t.reviewer("POST", `/tasks/${task.id}/claim`, { assignee: "someone-else" }), 400);
    // None of it touched the task.
    expect((await t.reviewer("GET", `/tasks/${task.id}`)).body).toMatchObject({ state: "open", assignee: null, note: null });
  });
});

describe("garbage in", () => {
  it("never answers 500: odd ids, encodings, repeated or nested parameters and bodies of every JSON type are 4xx problems", async () => {
    const paths = ["/tasks/%E0%A4%A", "/tasks/99999999999999999999", "/tasks/-1", "/tasks/%00", "/users/%E0%A4%A/access", "/tasks?state[]=open", "/tasks?user=a&user=b", "/audit?since=2026-02-30", "/audit?before=99999999999999999999", "/users?filter=%22"];
    for (const path of paths) {
      const r = await t.admin("GET", path);
      expect(r.status, `${path}: ${r.text}`).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expect(r.headers.get("content-type"), path).toMatch(/^application\/problem\+json/);
    }
    const ivy = await t.newUser("Ivy India");
    await t.joinGroup(ivy, "Huntress Users");
    const [task] = await openTaskOf(ivy);
    for (const body of ["[]", '"done"', "42", "true", '{"note":{"$gt":""}}', '{"reason":["a"]}', '{"__proto__":{"x":1}}', "\u0000"]) {
      for (const verb of ["complete", "fail", "claim"]) {
        const r = await t.admin("POST", `/tasks/${task.id}/${verb}`, body);
        expect(r.status, `${verb} ${body}: ${r.text}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${verb} ${body}`).toBeLessThan(500);
      }
    }
    expect((await t.admin("GET", `/tasks/${task.id}`)).body).toMatchObject({ state: "open", assignee: null });
  });
});

describe("who may call what", () => {
  const adminOnly: [string, string][] = [
    ["GET", "/jobs"],
    ["POST", "/jobs/1/retry"],
    ["POST", "/reconcile"],
    ["GET", "/drift"],
    ["GET", "/users"],
    ["GET", "/users/someone/access"],
    ["GET", "/audit"],
    ["GET", "/audit/export"],
    ["GET", "/apps/halopsa/seats"],
  ];
  const taskRoutes: [string, string][] = [
    ["GET", "/tasks"],
    ["GET", "/tasks/counts"],
    ["GET", "/tasks/1"],
    ["POST", "/tasks/1/claim"],
    ["POST", "/tasks/1/complete"],
    ["POST", "/tasks/1/fail"],
    ["POST", "/tasks/1/reopen"],
  ];

  it("lets a reviewer work the queue but not retry jobs, reconcile, read users, drift, seats or the audit log", async () => {
    for (const [method, path] of adminOnly) {
      expect(expectProblem(await t.reviewer(method, path), 403), `${method} ${path}`).toBe(
        `Token "${REVIEWER_NAME}" has scope "reviewer" and cannot call this endpoint (it takes admin)`,
      );
    }
    // Reaching the handler (200, 404 or 400) means the scope was accepted.
    for (const [method, path] of taskRoutes) expect((await t.reviewer(method, path)).status, `${method} ${path}`).not.toBe(403);
  });

  it("refuses a SCIM token everywhere on the admin API, and a reviewer token on SCIM", async () => {
    for (const [method, path] of [...taskRoutes, ...adminOnly]) {
      expect(expectProblem(await t.asScim(method, path), 403), `${method} ${path}`).toBe(`Token "env:SCIM_BRIDGE_SCIM_TOKEN" has scope "scim" and cannot call this API`);
    }
    const scim = await t.bridge.scim("GET", "/Users", undefined, { Authorization: `Bearer ${t.reviewerToken}` });
    expect(scim.status).toBe(403);
    expect(scim.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "403" });
  });

  it("answers 401 with WWW-Authenticate without a token, with an unknown one, and with a revoked reviewer token", async () => {
    for (const token of [null, "scimbridge_not-a-token", `${ADMIN_TOKEN}x`]) {
      const r = await t.request(token, "GET", "/tasks");
      expectProblem(r, 401);
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    const issued = t.cli("token", "create", "--scope", "reviewer", "--name", "temp-reviewer");
    const token = issued.out.split("\n")[1]!;
    expect((await t.request(token, "GET", "/tasks")).status).toBe(200);
    expect(t.cli("token", "revoke", "temp-reviewer").code).toBe(0);
    expectProblem(await t.request(token, "GET", "/tasks"), 401);
  });

  it("lets an admin token do everything a reviewer can and the rest", async () => {
    for (const [method, path] of [["GET", "/jobs"], ["GET", "/drift"], ["GET", "/users"], ["GET", "/audit"], ["GET", "/tasks"], ["GET", "/tasks/counts"]] as const) {
      expect((await t.admin(method, path)).status, `${method} ${path}`).toBe(200);
    }
    expect((await t.admin("POST", "/reconcile")).status).toBe(200);
  });
});
