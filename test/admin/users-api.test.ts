/**
 * GET /admin/api/users (a page of directory users, SCIM filter syntax) and /users/{id}/access: per
 * app, the wanted role with the rules behind it, the identity map, the next action and the task owed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTaskBridge, type TaskBridge } from "../support/admin.js";

let t: TaskBridge;
let ada: string;
let bo: string;
beforeAll(async () => {
  t = await startTaskBridge();
  ada = await t.newUser("Ada Lovelace");
  bo = await t.newUser("Bo Byte");
  await t.joinGroup(ada, "Huntress Users");
  await t.joinGroup(ada, "Huntress Admins");
  await t.joinGroup(ada, "Portal Users");
});
afterAll(async () => t.close());

describe("GET /admin/api/users", () => {
  it("lists each user with every app: the winning rule and the lesser grants, the account and the task owed", async () => {
    const r = await t.admin("GET", "/users");
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ totalResults: 2, startIndex: 1, itemsPerPage: 2 });
    const [first, second] = r.body.users;
    expect(first).toMatchObject({ userId: ada, userName: "ada.lovelace@example.com", active: true });
    const huntress = first.apps.find((a: any) => a.app === "huntress");
    expect(huntress.wanted).toEqual({
      role: "admin",
      because: "admin because member of 'Huntress Admins' (rules[0]); also standard via 'Huntress Users' (rules[1])",
      reasons: [
        { rule: 0, group: "Huntress Admins", role: "admin" },
        { rule: 1, group: "Huntress Users", role: "standard" },
      ],
    });
    expect(huntress.account).toMatchObject({ state: "pending", role: "admin" });
    expect(huntress.openTask).toMatchObject({ title: "Invite Ada Lovelace to Huntress as Account Admin", state: "open", overdue: false });
    expect(first.apps.find((a: any) => a.app === "portal").openTask.title).toBe("Add Ada Lovelace to the portal as Portal User");
    // A user no rule grants anything: every app listed, nothing wanted, nothing owed.
    expect(second).toEqual({
      userId: bo,
      userName: "bo.byte@example.com",
      active: true,
      apps: [
        { app: "huntress", wanted: null, account: null, pendingAction: null },
        { app: "portal", wanted: null, account: null, pendingAction: null },
      ],
    });
  });

  it("filters with the SCIM filter language and pages with startIndex and count", async () => {
    const byName = await t.admin("GET", `/users?filter=${encodeURIComponent('userName sw "bo."')}`);
    expect(byName.body.users.map((u: any) => u.userId)).toEqual([bo]);
    const byEmail = await t.admin("GET", `/users?filter=${encodeURIComponent('emails[type eq "work"].value eq "ada.lovelace@example.com"')}`);
    expect(byEmail.body.users.map((u: any) => u.userId)).toEqual([ada]);
    const page2 = await t.admin("GET", "/users?startIndex=2&count=1");
    expect(page2.body).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1, users: [{ userId: bo }] });
    expect((await t.admin("GET", "/users?count=0")).body).toMatchObject({ totalResults: 2, itemsPerPage: 0, users: [] });
  });

  it("answers 400 for a bad filter or a page too large", async () => {
    for (const query of [`?filter=${encodeURIComponent("userName xx 1")}`, `?filter=${encodeURIComponent('nosuch eq "x"')}`, "?count=201", "?startIndex=0", "?sortBy=userName"]) {
      const r = await t.admin("GET", `/users${query}`);
      expect(r.status, query).toBe(400);
      expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    }
  });
});

describe("GET /admin/api/users/{id}/access", () => {
  it("still answers for a user the IdP deleted while an account remains, and says what happens next", async () => {
    const cy = await t.newUser("Cy Cipher");
    await t.joinGroup(cy, "Huntress Users");
    const [invite] = (await t.admin("GET", `/tasks?user=${cy}`)).body.tasks;
    await t.admin("POST", `/tasks/${invite.id}/complete`);
    await t.settle();
    expect((await t.bridge.scim("DELETE", `/Users/${cy}`)).status).toBe(204);
    await t.settle();
    const r = await t.admin("GET", `/users/${cy}/access`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ userId: cy, userName: null, active: false });
    const huntress = r.body.apps.find((a: any) => a.app === "huntress");
    expect(huntress).toMatchObject({ wanted: null, account: { state: "invited" }, openTask: { title: "Remove Cy Cipher from Huntress" } });
    expect((await t.admin("GET", "/users/no-such-user/access")).status).toBe(404);
  });
});
