/**
 * Okta as a SCIM client (docs/vendor-facts.md, "Okta as a SCIM client"): the request sequences Okta's
 * provisioning engine and its "SCIM 2.0 spec test" (Okta-SCIM-20-SPEC-Test.json) really send,
 * replayed over HTTP against a real bridge and a real SQLite file.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { SCIM_TOKEN } from "../support/bridge.js";
import { byCodeUnit, CORE_GROUP, CORE_USER, create, expectScimError, LIST_RESPONSE, memberIds, patch, useBridge } from "../support/scim.js";

/** Okta POSTs and PUTs `application/json`, not `application/scim+json`. */
const OKTA_WRITE = { "Content-Type": "application/json" };
/** Okta's GETs carry a content type although they have no body. */
const OKTA_READ = { "Content-Type": "application/scim+json; charset=utf-8" };

/** The user body Okta's wizard apps send on create: a placeholder password and `groups: []` included. */
function oktaUser(userName: string, given = "Isabelle", family = "Brennan"): Record<string, unknown> {
  return {
    schemas: [CORE_USER],
    userName,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: userName, type: "work" }],
    displayName: `${given} ${family}`,
    locale: "en-US",
    externalId: `00u${randomUUID().replaceAll("-", "").slice(0, 17)}`,
    groups: [],
    password: "1mz050nq-placeholder",
    active: true,
  };
}

function userNameFilter(userName: string): string {
  return `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`;
}

describe("Okta", () => {
  const bridge = useBridge();
  const createUser = (userName: string, given?: string, family?: string): Promise<any> =>
    create(bridge, "Users", oktaUser(userName, given, family), OKTA_WRITE);

  it("passes the opening of Okta's SCIM 2.0 spec test: a complete first user, 404 and 401 with string statuses", async () => {
    const created = await createUser("spec.test@example.com", "Spec", "Tester");

    const first = await bridge.scim("GET", "/Users?count=1&startIndex=1", undefined, OKTA_READ);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/^application\/scim\+json/);
    expect(first.body.schemas).toEqual([LIST_RESPONSE]);
    expect(Number.isInteger(first.body.totalResults)).toBe(true);
    expect(first.body.totalResults).toBeGreaterThanOrEqual(1);
    expect(first.body.itemsPerPage).toBe(1);
    expect(first.body.startIndex).toBe(1);
    expect(first.body.Resources).toHaveLength(1);
    const user = first.body.Resources[0];
    expect(user.id).toBe(created.id);
    expect(user.userName).toBe("spec.test@example.com");
    expect(user.name).toMatchObject({ givenName: "Spec", familyName: "Tester" });
    expect(user.emails[0].value).toBe("spec.test@example.com");
    expect(user.active).toBe(true);

    const byId = await bridge.scim("GET", `/Users/${created.id}`, undefined, OKTA_READ);
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ id: created.id, userName: "spec.test@example.com", active: true });

    expectScimError(await bridge.scim("GET", `/Users/${randomUUID()}`, undefined, OKTA_READ), 404);

    expectScimError(await bridge.scim("GET", "/Users?count=1&startIndex=1", undefined, { ...OKTA_READ, Authorization: null }), 401);
  });

  it("answers a userName lookup that matches nothing with 200 and an empty list, then creates the user", async () => {
    const userName = "new.hire@example.com";
    const lookup = await bridge.scim("GET", userNameFilter(userName), undefined, OKTA_READ);
    expect(lookup.status).toBe(200);
    expect(lookup.body).toMatchObject({ schemas: [LIST_RESPONSE], totalResults: 0, startIndex: 1, itemsPerPage: 0 });
    expect(lookup.body.Resources ?? []).toEqual([]);

    const sent = oktaUser(userName, "New", "Hire");
    const created = await bridge.scim("POST", "/Users", sent, OKTA_WRITE);
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get("location")).toBe(`${bridge.baseUrl}/Users/${created.body.id}`);
    expect(created.headers.get("etag")).toBe(created.body.meta.version);
    expect(created.body).toMatchObject({ userName, externalId: sent["externalId"], active: true, name: { givenName: "New", familyName: "Hire" } });
    expect(created.body.meta.location).toBe(created.headers.get("location"));
    // Okta always sends a placeholder password; it must never come back.
    expect(created.body.password).toBeUndefined();
    expect(created.text).not.toContain("1mz050nq-placeholder");

    const read = await fetch(created.headers.get("location")!, { headers: { Authorization: `Bearer ${SCIM_TOKEN}` } });
    const readText = await read.text();
    expect(read.status).toBe(200);
    expect(readText).not.toContain("password");
    expect(readText).not.toContain("1mz050nq-placeholder");

    const again = await bridge.scim("GET", userNameFilter(userName), undefined, OKTA_READ);
    expect(again.body.totalResults).toBe(1);
    expect(again.body.Resources[0].id).toBe(created.body.id);
    expect(again.body.Resources[0].password).toBeUndefined();
  });

  it("rejects a second POST of the same userName with 409 uniqueness, also when only the case differs", async () => {
    const userName = "dup.user@example.com";
    await createUser(userName);

    expectScimError(await bridge.scim("POST", "/Users", oktaUser(userName), OKTA_WRITE), 409, "uniqueness");
    expectScimError(await bridge.scim("POST", "/Users", oktaUser("Dup.User@EXAMPLE.com"), OKTA_WRITE), 409, "uniqueness");

    const lookup = await bridge.scim("GET", userNameFilter("DUP.USER@example.com"), undefined, OKTA_READ);
    expect(lookup.body.totalResults).toBe(1);
    expect(lookup.body.Resources[0].userName).toBe(userName);
  });

  it("updates with PUT of the full resource and deactivates with PUT active:false, keeping the user readable", async () => {
    const created = await createUser("put.user@example.com", "Put", "User");
    const current = (await bridge.scim("GET", `/Users/${created.id}`, undefined, OKTA_READ)).body;

    // Okta's wizard apps PUT the whole resource back with the change applied (title dropped, name changed).
    const { meta: _meta, groups: _groups, ...resource } = current;
    const renamed = await bridge.scim(
      "PUT",
      `/Users/${created.id}`,
      { ...resource, name: { givenName: "Put", familyName: "Married" }, displayName: "Put Married", password: "1mz050nq-placeholder" },
      OKTA_WRITE,
    );
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ id: created.id, userName: "put.user@example.com", active: true, displayName: "Put Married" });
    expect(renamed.body.name).toEqual({ givenName: "Put", familyName: "Married" });
    expect(renamed.body.password).toBeUndefined();
    expect(renamed.headers.get("etag")).toBe(renamed.body.meta.version);
    expect(renamed.body.meta.version).not.toBe(current.meta.version);

    const deactivated = await bridge.scim("PUT", `/Users/${created.id}`, { ...renamed.body, active: false }, OKTA_WRITE);
    expect(deactivated.status, deactivated.text).toBe(200);
    expect(deactivated.body.active).toBe(false);

    // Okta never deletes users: the deactivated user is still there, with its attributes.
    const read = await bridge.scim("GET", `/Users/${created.id}`, undefined, OKTA_READ);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ active: false, displayName: "Put Married", emails: [{ value: "put.user@example.com" }] });
    const lookup = await bridge.scim("GET", userNameFilter("put.user@example.com"), undefined, OKTA_READ);
    expect(lookup.body.Resources.map((u: any) => [u.id, u.active])).toEqual([[created.id, false]]);

    const reactivated = await bridge.scim("PUT", `/Users/${created.id}`, { ...read.body, active: true }, OKTA_WRITE);
    expect(reactivated.status).toBe(200);
    expect(reactivated.body.active).toBe(true);
  });

  it("removes attributes a PUT leaves out (RFC 7644 §3.5.1 replaces the whole resource)", async () => {
    const created = await createUser("put.clear@example.com");
    const withTitle = await bridge.scim("PUT", `/Users/${created.id}`, { ...oktaUser("put.clear@example.com"), title: "Engineer" }, OKTA_WRITE);
    expect(withTitle.body.title).toBe("Engineer");

    const without = await bridge.scim("PUT", `/Users/${created.id}`, oktaUser("put.clear@example.com"), OKTA_WRITE);
    expect(without.status).toBe(200);
    expect(without.body.title).toBeUndefined();
    expect((await bridge.scim("GET", `/Users/${created.id}`)).body.title).toBeUndefined();
  });

  it("deactivates and reactivates a catalogue-app user with a path-less PATCH replace of active", async () => {
    const created = await createUser("patch.active@example.com", "Patch", "Active");

    const off = await bridge.scim("PATCH", `/Users/${created.id}`, patch({ op: "replace", value: { active: false } }), OKTA_WRITE);
    expect([200, 204], off.text).toContain(off.status);
    const afterOff = await bridge.scim("GET", `/Users/${created.id}`, undefined, OKTA_READ);
    expect(afterOff.body.active).toBe(false);
    // Nothing else moved.
    expect(afterOff.body).toMatchObject({ userName: "patch.active@example.com", name: { givenName: "Patch", familyName: "Active" } });
    expect(afterOff.body.emails).toEqual(created.emails);

    const on = await bridge.scim("PATCH", `/Users/${created.id}`, patch({ op: "replace", value: { active: true } }), OKTA_WRITE);
    expect([200, 204]).toContain(on.status);
    expect((await bridge.scim("GET", `/Users/${created.id}`)).body.active).toBe(true);
  });

  it("pushes a group: create empty, find by displayName, add and remove members, replace all, rename, delete", async () => {
    const [ann, bob, cid] = [
      await createUser("ann.push@example.com", "Ann", "Push"),
      await createUser("bob.push@example.com", "Bob", "Push"),
      await createUser("cid.push@example.com", "Cid", "Push"),
    ];
    const members = (id: string) => memberIds(bridge, id, OKTA_READ);

    const created = await bridge.scim("POST", "/Groups", { schemas: [CORE_GROUP], displayName: "Okta Push Engineering", members: [] }, OKTA_WRITE);
    expect(created.status, created.text).toBe(201);
    const groupId: string = created.body.id;
    expect(created.headers.get("location")).toBe(`${bridge.baseUrl}/Groups/${groupId}`);
    expect(created.body.displayName).toBe("Okta Push Engineering");
    expect(created.body.members ?? []).toEqual([]);

    const lookup = await bridge.scim(
      "GET",
      `/Groups?filter=${encodeURIComponent('displayName eq "Okta Push Engineering"')}&startIndex=1&count=100`,
      undefined,
      OKTA_READ,
    );
    expect(lookup.status).toBe(200);
    expect(lookup.body.totalResults).toBe(1);
    expect(lookup.body.Resources[0].id).toBe(groupId);

    // Okta's push: replace {id, displayName} on every push, then member changes.
    const rename = await bridge.scim("PATCH", `/Groups/${groupId}`, patch({ op: "replace", value: { id: groupId, displayName: "Okta Push Engineering" } }), OKTA_WRITE);
    expect([200, 204], rename.text).toContain(rename.status);

    const add = await bridge.scim(
      "PATCH",
      `/Groups/${groupId}`,
      patch({ op: "add", path: "members", value: [{ value: ann.id, display: ann.userName }, { value: bob.id, display: bob.userName }] }),
      OKTA_WRITE,
    );
    expect([200, 204], add.text).toContain(add.status);
    expect(await members(groupId)).toEqual([ann.id, bob.id].sort(byCodeUnit));

    const swap = await bridge.scim(
      "PATCH",
      `/Groups/${groupId}`,
      patch({ op: "remove", path: `members[value eq "${ann.id}"]` }, { op: "add", path: "members", value: [{ value: cid.id, display: cid.userName }] }),
      OKTA_WRITE,
    );
    expect([200, 204], swap.text).toContain(swap.status);
    expect(await members(groupId)).toEqual([bob.id, cid.id].sort(byCodeUnit));

    const replaceAll = await bridge.scim("PATCH", `/Groups/${groupId}`, patch({ op: "replace", path: "members", value: [{ value: ann.id }] }), OKTA_WRITE);
    expect([200, 204], replaceAll.text).toContain(replaceAll.status);
    expect(await members(groupId)).toEqual([ann.id]);

    const renamed = await bridge.scim("PATCH", `/Groups/${groupId}`, patch({ op: "replace", value: { id: groupId, displayName: "Okta Push R&D" } }), OKTA_WRITE);
    expect([200, 204], renamed.text).toContain(renamed.status);
    const afterRename = await bridge.scim("GET", `/Groups/${groupId}`, undefined, OKTA_READ);
    expect(afterRename.body).toMatchObject({ id: groupId, displayName: "Okta Push R&D" });
    expect(afterRename.body.members.map((m: any) => m.value)).toEqual([ann.id]);
    // The user side sees the membership too (RFC 7643 §4.1.2 `groups`).
    const annRead = await bridge.scim("GET", `/Users/${ann.id}`, undefined, OKTA_READ);
    expect(annRead.body.groups.map((g: any) => [g.value, g.display])).toEqual([[groupId, "Okta Push R&D"]]);

    // Unassigning the last member pushes a replace with an empty list.
    const emptied = await bridge.scim("PATCH", `/Groups/${groupId}`, patch({ op: "replace", path: "members", value: [] }), OKTA_WRITE);
    expect([200, 204], emptied.text).toContain(emptied.status);
    expect(await members(groupId)).toEqual([]);
    const annEmptied = await bridge.scim("GET", `/Users/${ann.id}`, undefined, OKTA_READ);
    expect(annEmptied.body.groups ?? []).toEqual([]);

    const deleted = await bridge.scim("DELETE", `/Groups/${groupId}`, undefined, OKTA_READ);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expectScimError(await bridge.scim("GET", `/Groups/${groupId}`, undefined, OKTA_READ), 404);
    // Deleting a group never deletes its users.
    expect((await bridge.scim("GET", `/Users/${ann.id}`, undefined, OKTA_READ)).status).toBe(200);
  });

  it("accepts GETs sent with Content-Type application/scim+json; charset=utf-8 and POSTs with application/json; charset=utf-8", async () => {
    const created = await bridge.scim("POST", "/Users", oktaUser("charset.user@example.com"), { "Content-Type": "application/json; charset=utf-8" });
    expect(created.status, created.text).toBe(201);
    for (const path of [`/Users/${created.body.id}`, userNameFilter("charset.user@example.com"), "/Users?count=1&startIndex=1", "/ServiceProviderConfig"]) {
      const res = await bridge.scim("GET", path, undefined, OKTA_READ);
      expect(res.status, `${path}: ${res.text}`).toBe(200);
    }
  });
});

describe("Okta import paging", () => {
  const bridge = useBridge();
  const ids: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 250; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, (_, j) => bridge.scim("POST", "/Users", oktaUser(`page.user.${String(i + j).padStart(3, "0")}@example.com`), OKTA_WRITE)),
      );
      for (const r of batch) {
        expect(r.status, r.text).toBe(201);
        ids.push(r.body.id as string);
      }
    }
  });

  it("pages through 250 users with count=100 and startIndex stepping by 100: integer counts, no duplicates, no gaps", async () => {
    const seen: string[] = [];
    const pages: { startIndex: number; itemsPerPage: number }[] = [];
    for (let startIndex = 1; ; startIndex += 100) {
      const res = await bridge.scim("GET", `/Users?startIndex=${startIndex}&count=100`, undefined, OKTA_READ);
      expect(res.status).toBe(200);
      const { totalResults, itemsPerPage, Resources } = res.body;
      expect(totalResults).toBe(250);
      expect(typeof res.body.startIndex).toBe("number");
      expect(Number.isInteger(itemsPerPage)).toBe(true);
      expect(Resources ?? []).toHaveLength(itemsPerPage);
      pages.push({ startIndex: res.body.startIndex, itemsPerPage });
      seen.push(...(Resources ?? []).map((u: any) => u.id as string));
      if (startIndex + 100 > totalResults) break;
    }
    expect(pages).toEqual([
      { startIndex: 1, itemsPerPage: 100 },
      { startIndex: 101, itemsPerPage: 100 },
      { startIndex: 201, itemsPerPage: 50 },
    ]);
    expect(new Set(seen).size).toBe(250);
    expect([...seen].sort(byCodeUnit)).toEqual([...ids].sort(byCodeUnit));

    const beyond = await bridge.scim("GET", "/Users?startIndex=301&count=100", undefined, OKTA_READ);
    expect(beyond.status).toBe(200);
    expect(beyond.body.totalResults).toBe(250);
    expect(beyond.body.Resources ?? []).toEqual([]);
  });

  it("keeps the order stable while users are updated between pages", async () => {
    const page = async (startIndex: number) =>
      ((await bridge.scim("GET", `/Users?startIndex=${startIndex}&count=100`, undefined, OKTA_READ)).body.Resources as any[]).map((u) => u.id as string);
    const firstPass = [...(await page(1)), ...(await page(101)), ...(await page(201))];

    const secondPass = [...(await page(1))];
    // Okta keeps pushing changes while an import pages: an update must not move a user between pages.
    for (const id of [secondPass[0]!, secondPass[99]!, ids[150]!, ids[249]!]) {
      const user = (await bridge.scim("GET", `/Users/${id}`)).body;
      const res = await bridge.scim("PUT", `/Users/${id}`, { ...user, name: { givenName: "Aaron", familyName: "Aardvark" }, displayName: "Aaron Aardvark" }, OKTA_WRITE);
      expect(res.status).toBe(200);
    }
    secondPass.push(...(await page(101)), ...(await page(201)));
    expect(secondPass).toEqual(firstPass);
  });
});
