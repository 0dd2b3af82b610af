/**
 * The rest of the SCIM surface (RFC 7644 §3–§4): CRUD on Users and Groups, projection, sorting,
 * paging, searches, ETags, discovery, and the audit trail and access log an admin relies on.
 */
import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import {
  byCodeUnit,
  CORE_GROUP,
  CORE_USER,
  create as createIn,
  ENTERPRISE,
  LIST_RESPONSE,
  memberIds,
  openReadOnly,
  patch,
  SEARCH_REQUEST,
  userBody,
  useBridge,
} from "../support/scim.js";

/** The name test/support/bridge.ts's SCIM token gets (it comes from SCIM_BRIDGE_SCIM_TOKEN). */
/** The bridge's read-only extension with each user's per-app state. */
const ACCESS = "urn:scim-bridge:schemas:extension:access:2.0:User";
const SCIM_TOKEN_NAME = "env:SCIM_BRIDGE_SCIM_TOKEN";

const q = (s: string) => encodeURIComponent(s);

function fullUser(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: [CORE_USER, ENTERPRISE],
    userName,
    externalId: `ext-${userName}`,
    name: { givenName: "Barbara", familyName: "Jensen", formatted: "Barbara Jensen" },
    displayName: "Babs Jensen",
    title: "Tour Guide",
    emails: [
      { value: `work.${userName}`, type: "work", primary: true },
      { value: `home.${userName}`, type: "home" },
    ],
    [ENTERPRISE]: { employeeNumber: "701984", department: "Tour Operations", manager: { value: "26118915-6090-4610-87e4-49d8ca9f808d" } },
    ...extra,
  };
}

describe("Users and Groups", () => {
  const bridge = useBridge();
  const create = (resource: "Users" | "Groups", body: Record<string, unknown>): Promise<any> => createIn(bridge, resource, body);

  describe("Users", () => {
    it("creates, reads, replaces, patches and deletes a user", async () => {
      const created = await bridge.scim("POST", "/Users", fullUser("crud.user@example.com"));
      expect(created.status, created.text).toBe(201);
      const id: string = created.body.id;
      expect(created.headers.get("location")).toBe(`${bridge.baseUrl}/Users/${id}`);
      expect(created.body).toMatchObject({
        schemas: expect.arrayContaining([CORE_USER, ENTERPRISE]),
        userName: "crud.user@example.com",
        externalId: "ext-crud.user@example.com",
        active: true,
        title: "Tour Guide",
        [ENTERPRISE]: { employeeNumber: "701984" },
        meta: { resourceType: "User", location: `${bridge.baseUrl}/Users/${id}` },
      });
      expect(Date.parse(created.body.meta.created)).not.toBeNaN();
      expect(created.body.meta.lastModified).toBe(created.body.meta.created);

      const read = await bridge.scim("GET", `/Users/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);

      const replaced = await bridge.scim("PUT", `/Users/${id}`, { schemas: [CORE_USER], userName: "crud.user@example.com", nickName: "Babs" });
      expect(replaced.status, replaced.text).toBe(200);
      expect(replaced.body).toMatchObject({ id, userName: "crud.user@example.com", nickName: "Babs", active: true });
      // PUT replaces: what the body left out is gone, the enterprise extension included.
      expect(replaced.body.title).toBeUndefined();
      expect(replaced.body.externalId).toBeUndefined();
      expect(replaced.body[ENTERPRISE]).toBeUndefined();
      expect(replaced.body.schemas).toEqual([CORE_USER]);
      expect(replaced.body.meta.created).toBe(created.body.meta.created);

      const patched = await bridge.scim("PATCH", `/Users/${id}`, patch({ op: "add", path: "title", value: "Lead" }, { op: "remove", path: "nickName" }));
      expect([200, 204], patched.text).toContain(patched.status);
      const afterPatch = (await bridge.scim("GET", `/Users/${id}`)).body;
      expect(afterPatch.title).toBe("Lead");
      expect(afterPatch.nickName).toBeUndefined();
      if (patched.status === 200) expect(patched.body).toEqual(afterPatch);

      const deleted = await bridge.scim("DELETE", `/Users/${id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect((await bridge.scim("GET", `/Users/${id}`)).status).toBe(404);
    });

    it("gives ETag = meta.version, changes it on every write and never on a read or a PATCH that changes nothing", async () => {
      const created = await bridge.scim("POST", "/Users", fullUser("etag.user@example.com"));
      const id: string = created.body.id;
      const v1 = created.headers.get("etag");
      expect(v1).toBe(created.body.meta.version);
      expect(v1).toMatch(/^W\/".+"$/);

      const read = await bridge.scim("GET", `/Users/${id}`);
      expect(read.headers.get("etag")).toBe(v1);

      const put = await bridge.scim("PUT", `/Users/${id}`, fullUser("etag.user@example.com", { title: "Changed" }));
      const v2 = put.headers.get("etag");
      expect(v2).toBe(put.body.meta.version);
      expect(v2).not.toBe(v1);

      const patched = await bridge.scim("PATCH", `/Users/${id}`, patch({ op: "replace", path: "title", value: "Changed again" }));
      const v3 = patched.headers.get("etag");
      expect(v3).not.toBe(v2);
      expect((await bridge.scim("GET", `/Users/${id}`)).body.meta.version).toBe(v3);

      // IdPs re-send state they already sent; that is not a new version.
      const same = await bridge.scim("PATCH", `/Users/${id}`, patch({ op: "replace", path: "title", value: "Changed again" }));
      expect(same.headers.get("etag")).toBe(v3);
    });

    it("answers If-None-Match with the current version with 304 and with an old one with 200", async () => {
      const created = await create("Users", fullUser("if.none.match@example.com"));
      const current = created.meta.version as string;

      const notModified = await bridge.scim("GET", `/Users/${created.id as string}`, undefined, { "If-None-Match": current });
      expect(notModified.status).toBe(304);
      expect(notModified.text).toBe("");
      expect(notModified.headers.get("etag")).toBe(current);

      await bridge.scim("PATCH", `/Users/${created.id as string}`, patch({ op: "replace", path: "title", value: "Newer" }));
      const modified = await bridge.scim("GET", `/Users/${created.id as string}`, undefined, { "If-None-Match": current });
      expect(modified.status).toBe(200);
      expect(modified.body.title).toBe("Newer");

      const group = await create("Groups", { schemas: [CORE_GROUP], displayName: "If-None-Match group" });
      expect((await bridge.scim("GET", `/Groups/${group.id as string}`, undefined, { "If-None-Match": group.meta.version })).status).toBe(304);
    });

    it("accepts writes whose If-Match names the current version, or *", async () => {
      const created = await create("Users", fullUser("if.match@example.com"));
      const put = await bridge.scim("PUT", `/Users/${created.id as string}`, fullUser("if.match@example.com", { title: "One" }), { "If-Match": created.meta.version });
      expect(put.status, put.text).toBe(200);
      const patched = await bridge.scim("PATCH", `/Users/${created.id as string}`, patch({ op: "replace", path: "title", value: "Two" }), { "If-Match": "*" });
      expect([200, 204], patched.text).toContain(patched.status);
      const deleted = await bridge.scim("DELETE", `/Users/${created.id as string}`, undefined, { "If-Match": patched.headers.get("etag")! });
      expect(deleted.status).toBe(204);
    });
  });

  describe("Groups", () => {
    it("removes the members a value filter other than value eq matches, and only those (RFC 7644 §3.5.2.2)", async () => {
      const [bob, bobby, carl] = await Promise.all(
        [
          ["bob.filter@example.com", "Bob Filter"],
          ["bobby.filter@example.com", "Bobby Filter"],
          ["carl.filter@example.com", "Carl Filter"],
        ].map(([userName, displayName]) => create("Users", userBody(userName, { displayName }))),
      );
      const group = await create("Groups", { schemas: [CORE_GROUP], displayName: "Filter removal", members: [bob, bobby, carl].map((u) => ({ value: u.id })) });

      const removed = await bridge.scim("PATCH", `/Groups/${group.id as string}`, patch({ op: "remove", path: 'members[display sw "BOB"]' }));
      expect(removed.status, removed.text).toBe(204);
      expect(await memberIds(bridge, group.id)).toEqual([carl.id]);

      const none = await bridge.scim("PATCH", `/Groups/${group.id as string}`, patch({ op: "remove", path: 'members[display eq "nobody"]' }));
      expect(none.status, none.text).toBe(204);
      expect(none.headers.get("etag")).toBe(removed.headers.get("etag"));
      expect(await memberIds(bridge, group.id)).toEqual([carl.id]);
    });

    it("creates, reads, replaces, patches and deletes a group, listing members with display and $ref", async () => {
      const ann = await create("Users", { schemas: [CORE_USER], userName: "ann.group@example.com", displayName: "Ann Group" });
      const bob = await create("Users", { schemas: [CORE_USER], userName: "bob.group@example.com" });

      const created = await bridge.scim("POST", "/Groups", { schemas: [CORE_GROUP], displayName: "Tour Guides", externalId: "tg-1", members: [{ value: ann.id }] });
      expect(created.status, created.text).toBe(201);
      const id: string = created.body.id;
      expect(created.headers.get("location")).toBe(`${bridge.baseUrl}/Groups/${id}`);
      expect(created.headers.get("etag")).toBe(created.body.meta.version);
      expect(created.body).toMatchObject({
        schemas: [CORE_GROUP],
        displayName: "Tour Guides",
        externalId: "tg-1",
        meta: { resourceType: "Group", location: `${bridge.baseUrl}/Groups/${id}` },
      });
      expect(created.body.members).toEqual([{ value: ann.id, display: "Ann Group", $ref: `${bridge.baseUrl}/Users/${ann.id as string}`, type: "User" }]);
      expect((await bridge.scim("GET", `/Groups/${id}`)).body).toEqual(created.body);

      const replaced = await bridge.scim("PUT", `/Groups/${id}`, { schemas: [CORE_GROUP], displayName: "Senior Tour Guides", members: [{ value: bob.id }] });
      expect(replaced.status, replaced.text).toBe(200);
      expect(replaced.body.displayName).toBe("Senior Tour Guides");
      expect(replaced.body.externalId).toBeUndefined();
      // A member without displayName is shown by userName.
      expect(replaced.body.members).toEqual([{ value: bob.id, display: "bob.group@example.com", $ref: `${bridge.baseUrl}/Users/${bob.id as string}`, type: "User" }]);
      expect((await bridge.scim("GET", `/Users/${ann.id as string}`)).body.groups ?? []).toEqual([]);

      // RFC 7644 §3.5.2: 204 by default; 200 with the resource when attributes are asked for.
      const quiet = await bridge.scim("PATCH", `/Groups/${id}`, patch({ op: "add", path: "members", value: [{ value: ann.id }] }));
      expect(quiet.status).toBe(204);
      expect(quiet.text).toBe("");
      expect(quiet.headers.get("etag")).not.toBe(replaced.headers.get("etag"));
      const loud = await bridge.scim("PATCH", `/Groups/${id}?attributes=displayName,members`, patch({ op: "replace", path: "displayName", value: "Guides" }));
      expect(loud.status).toBe(200);
      expect(loud.body.displayName).toBe("Guides");
      expect(loud.body.members.map((m: any) => m.value).sort(byCodeUnit)).toEqual([ann.id, bob.id].sort(byCodeUnit));
      expect((await bridge.scim("GET", `/Users/${ann.id as string}`)).body.groups).toEqual([
        { value: id, display: "Guides", $ref: `${bridge.baseUrl}/Groups/${id}`, type: "direct" },
      ]);

      const deleted = await bridge.scim("DELETE", `/Groups/${id}`);
      expect(deleted.status).toBe(204);
      expect((await bridge.scim("GET", `/Groups/${id}`)).status).toBe(404);
      expect((await bridge.scim("GET", `/Users/${bob.id as string}`)).status).toBe(200);
    });
  });

  describe("attributes and excludedAttributes (RFC 7644 §3.4.2.5)", () => {
    let user: any;
    let group: any;
    beforeAll(async () => {
      user = await create("Users", fullUser("projection@example.com"));
      group = await create("Groups", { schemas: [CORE_GROUP], displayName: "Projection group", members: [{ value: user.id }] });
    });
    const get = async (query: string, resource = "Users", id?: string): Promise<any> => {
      const res = await bridge.scim("GET", `/${resource}/${id ?? (resource === "Users" ? user.id : group.id)}?${query}`);
      expect(res.status, res.text).toBe(200);
      return res.body;
    };

    it("returns only the named attributes, plus id and schemas", async () => {
      const body = await get("attributes=userName");
      expect(body.id).toBe(user.id);
      expect(body.schemas).toContain(CORE_USER);
      expect(body.userName).toBe("projection@example.com");
      for (const absent of ["name", "emails", "title", "displayName", "active", "groups", ENTERPRISE]) expect(body).not.toHaveProperty([absent]);
    });

    it("narrows to sub-attributes", async () => {
      const body = await get(`attributes=${q("name.givenName,emails.value")}`);
      expect(body.name).toEqual({ givenName: "Barbara" });
      expect(body.emails).toEqual([{ value: "work.projection@example.com" }, { value: "home.projection@example.com" }]);
      expect(body).not.toHaveProperty("userName");
    });

    it("accepts URN-qualified names for core and extension attributes, in any case", async () => {
      const ext = await get(`attributes=${q(`${ENTERPRISE}:employeeNumber`)}`);
      expect(ext[ENTERPRISE]).toEqual({ employeeNumber: "701984" });
      expect(ext).not.toHaveProperty("userName");

      const core = await get(`attributes=${q(`${CORE_USER}:displayName`)}`);
      expect(core.displayName).toBe("Babs Jensen");
      expect(core).not.toHaveProperty("title");

      const sub = await get(`attributes=${q(`${ENTERPRISE.toUpperCase()}:manager.value`)}`);
      expect(sub[ENTERPRISE]).toEqual({ manager: { value: "26118915-6090-4610-87e4-49d8ca9f808d" } });
    });

    it("drops excluded attributes, sub-attributes and extension attributes but never id or schemas", async () => {
      const body = await get(`excludedAttributes=${q(`emails,name.familyName,${ENTERPRISE}:manager,id,groups`)}`);
      expect(body).not.toHaveProperty("emails");
      expect(body).not.toHaveProperty("groups");
      expect(body.name).toEqual({ givenName: "Barbara", formatted: "Barbara Jensen" });
      expect(body[ENTERPRISE]).toEqual({ employeeNumber: "701984", department: "Tour Operations" });
      expect(body.id).toBe(user.id);
      expect(body.schemas).toContain(CORE_USER);
      expect(body.userName).toBe("projection@example.com");
    });

    it("projects list results and groups too", async () => {
      const res = await bridge.scim("GET", `/Users?filter=${q('userName eq "projection@example.com"')}&attributes=${q("userName,emails.type")}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body.Resources).toHaveLength(1);
      const [only] = res.body.Resources;
      expect(only).toMatchObject({ id: user.id, userName: "projection@example.com", emails: [{ type: "work" }, { type: "home" }] });
      expect(only).not.toHaveProperty("name");

      const g = await get("attributes=displayName", "Groups");
      expect(g).toMatchObject({ id: group.id, displayName: "Projection group" });
      expect(g).not.toHaveProperty("members");
      const withMembers = await get(`attributes=${q("members.value")}`, "Groups");
      expect(withMembers.members).toEqual([{ value: user.id }]);
      expect(withMembers).not.toHaveProperty("displayName");
    });
  });
});

describe("sorting, paging and searches", () => {
  const bridge = useBridge();
  const byName = new Map<string, string>();
  const groupIds: string[] = [];
  beforeAll(async () => {
    const people: [string, string, string][] = [
      ["carol@example.com", "Zeta", "b-carol@example.com"],
      ["Alice@example.com", "yardley", "d-alice@example.com"],
      ["bob@example.com", "Xavier", "a-bob@example.com"],
      ["dave@example.com", "able", "c-dave@example.com"],
    ];
    for (const [userName, familyName, email] of people) {
      const res = await bridge.scim("POST", "/Users", {
        schemas: [CORE_USER],
        userName,
        externalId: userName === "bob@example.com" ? "shared-ext" : undefined,
        name: { familyName },
        emails: [
          { value: `zz-${email}`, type: "home" },
          { value: email, type: "work", primary: true },
        ],
      });
      expect(res.status, res.text).toBe(201);
      byName.set(userName.toLowerCase(), res.body.id as string);
    }
    for (const [displayName, externalId] of [["Ops", "shared-ext"], ["Dev", "dev-ext"]] as const) {
      const res = await bridge.scim("POST", "/Groups", { schemas: [CORE_GROUP], displayName, externalId });
      expect(res.status).toBe(201);
      groupIds.push(res.body.id as string);
    }
  });

  const userNames = async (query: string): Promise<string[]> => {
    const res = await bridge.scim("GET", `/Users?${query}`);
    expect(res.status, res.text).toBe(200);
    return (res.body.Resources as any[]).map((u) => (u.userName as string).toLowerCase());
  };

  it("sorts by userName case-insensitively, ascending by default and descending on request", async () => {
    expect(await userNames("sortBy=userName")).toEqual(["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]);
    expect(await userNames("sortBy=userName&sortOrder=descending")).toEqual(["dave@example.com", "carol@example.com", "bob@example.com", "alice@example.com"]);
    expect(await userNames("sortBy=USERNAME&sortOrder=Ascending")).toEqual(["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]);
  });

  it("sorts by a sub-attribute and by a multi-valued attribute's primary value (RFC 7644 §3.4.2.3)", async () => {
    expect(await userNames("sortBy=name.familyName")).toEqual(["dave@example.com", "bob@example.com", "alice@example.com", "carol@example.com"]);
    expect(await userNames("sortBy=emails.value")).toEqual(["bob@example.com", "carol@example.com", "dave@example.com", "alice@example.com"]);
    expect(await userNames(`sortBy=${q("meta.created")}&sortOrder=descending`)).toEqual(["dave@example.com", "bob@example.com", "alice@example.com", "carol@example.com"]);
  });

  it("pages a sorted list with startIndex and count", async () => {
    const res = await bridge.scim("GET", "/Users?sortBy=userName&startIndex=2&count=2");
    expect(res.body).toMatchObject({ schemas: [LIST_RESPONSE], totalResults: 4, startIndex: 2, itemsPerPage: 2 });
    expect(res.body.Resources.map((u: any) => u.userName)).toEqual(["bob@example.com", "carol@example.com"]);
  });

  it("answers count=0 with the total only, and reads a negative count as 0 and a startIndex below 1 as 1 (RFC 7644 §3.4.2.4)", async () => {
    for (const query of ["count=0", "count=-3"]) {
      const res = await bridge.scim("GET", `/Users?${query}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ totalResults: 4, itemsPerPage: 0 });
      expect(res.body.Resources ?? []).toEqual([]);
    }
    const res = await bridge.scim("GET", "/Groups?startIndex=0&count=1");
    expect(res.body).toMatchObject({ totalResults: 2, startIndex: 1, itemsPerPage: 1 });
  });

  it("answers a startIndex past the last page, however large, with an empty page and the total", async () => {
    for (const startIndex of ["5", "99999999999999999999"]) {
      const res = await bridge.scim("GET", `/Users?startIndex=${startIndex}&count=10`);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ totalResults: 4, itemsPerPage: 0 });
      expect(res.body.Resources ?? []).toEqual([]);
    }
  });

  it("searches with POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3)", async () => {
    const users = await bridge.scim("POST", "/Users/.search", {
      schemas: [SEARCH_REQUEST],
      filter: 'userName eq "carol@example.com"',
      attributes: ["userName"],
      startIndex: 1,
      count: 10,
    });
    expect(users.status, users.text).toBe(200);
    expect(users.body).toMatchObject({ schemas: [LIST_RESPONSE], totalResults: 1 });
    expect(users.body.Resources[0]).toMatchObject({ id: byName.get("carol@example.com"), userName: "carol@example.com" });
    expect(users.body.Resources[0]).not.toHaveProperty("emails");

    const sorted = await bridge.scim("POST", "/Users/.search", { schemas: [SEARCH_REQUEST], sortBy: "userName", sortOrder: "descending", count: 1 });
    expect(sorted.body.Resources.map((u: any) => u.userName)).toEqual(["dave@example.com"]);

    const groups = await bridge.scim("POST", "/Groups/.search", { schemas: [SEARCH_REQUEST], filter: 'displayName eq "dev"', excludedAttributes: ["members"] });
    expect(groups.status, groups.text).toBe(200);
    expect(groups.body.Resources.map((g: any) => g.id)).toEqual([groupIds[1]]);
  });

  it("searches every resource type with POST /.search at the root, paging across users then groups", async () => {
    const shared = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], filter: 'externalId eq "shared-ext"' });
    expect(shared.status, shared.text).toBe(200);
    expect(shared.body.totalResults).toBe(2);
    expect(shared.body.Resources.map((r: any) => [r.meta.resourceType, r.id])).toEqual([
      ["User", byName.get("bob@example.com")],
      ["Group", groupIds[0]],
    ]);

    const page = async (startIndex: number) => {
      const res = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], startIndex, count: 3 });
      expect(res.status, res.text).toBe(200);
      expect(res.body.totalResults).toBe(6);
      expect(res.body.startIndex).toBe(startIndex);
      return (res.body.Resources as any[]).map((r) => r.id as string);
    };
    const all = [...(await page(1)), ...(await page(4))];
    expect(all).toEqual([...byName.values(), ...groupIds]);
    expect(await page(3)).toEqual([[...byName.values()][2], [...byName.values()][3], groupIds[0]]);
  });
});

describe("sorting resources that lack the sortBy attribute (RFC 7644 §3.4.2.3)", () => {
  const bridge = useBridge();
  beforeAll(async () => {
    // Created in this order, so insertion order (the tie-break) is never the expected order.
    await createIn(bridge, "Users", userBody("no-title@example.com"));
    await createIn(bridge, "Users", userBody("zed@example.com", { title: "Zed", externalId: "z-1", emails: [{ value: "zed@example.com" }] }));
    await createIn(bridge, "Users", userBody("abe@example.com", { title: "abe", externalId: "a-1", emails: [{ value: "abe@example.com" }] }));
    await createIn(bridge, "Groups", { schemas: [CORE_GROUP], displayName: "Sorted group" });
  });

  const userNames = async (query: string): Promise<string[]> => {
    const res = await bridge.scim("GET", `/Users?${query}`);
    expect(res.status, res.text).toBe(200);
    return (res.body.Resources as any[]).map((u) => u.userName as string);
  };

  it("puts them last when ascending and first when descending", async () => {
    for (const sortBy of ["title", "externalId", "emails.value"]) {
      expect(await userNames(`sortBy=${sortBy}`), sortBy).toEqual(["abe@example.com", "zed@example.com", "no-title@example.com"]);
      expect(await userNames(`sortBy=${sortBy}&sortOrder=descending`), sortBy).toEqual(["no-title@example.com", "zed@example.com", "abe@example.com"]);
    }
  });

  it("sorts a root search by an attribute only Users define, Groups having no value for it", async () => {
    const search = async (sortOrder: string) => {
      const res = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], sortBy: "userName", sortOrder, attributes: ["userName", "displayName"] });
      expect(res.status, res.text).toBe(200);
      expect(res.body.totalResults).toBe(4);
      return (res.body.Resources as any[]).map((r) => (r.userName ?? r.displayName) as string);
    };
    expect(await search("ascending")).toEqual(["abe@example.com", "no-title@example.com", "zed@example.com", "Sorted group"]);
    expect(await search("descending")).toEqual(["Sorted group", "zed@example.com", "no-title@example.com", "abe@example.com"]);
  });

  it("still refuses a root search sorted by an attribute no resource type defines", async () => {
    const res = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], sortBy: "shoeSize" });
    expect(res.status, res.text).toBe(400);
    expect(res.body.scimType).toBe("invalidValue");
  });
});

describe("discovery (RFC 7644 §4)", () => {
  const bridge = useBridge();

  it("serves /ServiceProviderConfig describing what the bridge supports", async () => {
    const res = await bridge.scim("GET", "/ServiceProviderConfig");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
    });
    expect(Number.isInteger(res.body.filter.maxResults)).toBe(true);
    expect(res.body.authenticationSchemes.map((s: any) => s.type)).toContain("oauthbearertoken");
  });

  it("serves /ResourceTypes and /ResourceTypes/User", async () => {
    const all = await bridge.scim("GET", "/ResourceTypes");
    expect(all.status).toBe(200);
    expect(all.body.totalResults).toBe(2);
    expect(all.body.Resources.map((r: any) => [r.id, r.endpoint, r.schema])).toEqual([
      ["User", "/Users", CORE_USER],
      ["Group", "/Groups", CORE_GROUP],
    ]);
    const user = await bridge.scim("GET", "/ResourceTypes/User");
    expect(user.status).toBe(200);
    expect(user.body).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
      id: "User",
      name: "User",
      endpoint: "/Users",
      schema: CORE_USER,
      schemaExtensions: [
        { schema: ENTERPRISE, required: false },
        { schema: ACCESS, required: false },
      ],
      meta: { resourceType: "ResourceType", location: `${bridge.baseUrl}/ResourceTypes/User` },
    });
  });

  it("serves /Schemas and each schema by its URN", async () => {
    const all = await bridge.scim("GET", "/Schemas");
    expect(all.status).toBe(200);
    expect(all.body.Resources.map((s: any) => s.id).sort(byCodeUnit)).toEqual([CORE_GROUP, CORE_USER, ENTERPRISE, ACCESS].sort(byCodeUnit));
    for (const [urn, attribute] of [
      [CORE_USER, "userName"],
      [ENTERPRISE, "manager"],
      [ACCESS, "apps"],
      [CORE_GROUP, "members"],
    ] as const) {
      const res = await bridge.scim("GET", `/Schemas/${urn}`);
      expect(res.status, urn).toBe(200);
      expect(res.body.id).toBe(urn);
      expect(res.body.attributes.map((a: any) => a.name)).toContain(attribute);
      expect(res.body.meta).toEqual({ resourceType: "Schema", location: `${bridge.baseUrl}/Schemas/${urn}` });
    }
  });
});

describe("audit trail and access log", () => {
  const bridge = useBridge();
  let db: Database.Database;
  beforeAll(() => {
    db = openReadOnly(bridge);
  });
  afterAll(() => {
    db.close();
  });

  const auditRows = (requestId: string) =>
    db.prepare("SELECT actor, request_id, action, resource_type, resource_id FROM audit_events WHERE request_id = ?").all(requestId) as {
      actor: string;
      request_id: string;
      action: string;
      resource_type: string;
      resource_id: string;
    }[];

  it("records each write once, with the token's name as actor and the X-Request-Id the IdP sent", async () => {
    const rid = (step: string) => `audit-${step}-${randomUUID()}`;
    const send = async (step: string, method: string, path: string, body?: unknown) => {
      const requestId = rid(step);
      const res = await bridge.scim(method, path, body, { "X-Request-Id": requestId });
      expect(res.status, res.text).toBeLessThan(300);
      expect(res.headers.get("x-request-id")).toBe(requestId);
      return { requestId, res };
    };

    const created = await send("user-create", "POST", "/Users", fullUser("audited@example.com"));
    const userId: string = created.res.body.id;
    const group = await send("group-create", "POST", "/Groups", { schemas: [CORE_GROUP], displayName: "Audited", members: [{ value: userId }] });
    const groupId: string = group.res.body.id;
    const steps = [
      created,
      group,
      await send("user-replace", "PUT", `/Users/${userId}`, fullUser("audited@example.com", { title: "Replaced" })),
      await send("user-patch", "PATCH", `/Users/${userId}`, patch({ op: "replace", path: "active", value: false })),
      await send("group-replace", "PUT", `/Groups/${groupId}`, { schemas: [CORE_GROUP], displayName: "Audited 2" }),
      await send("group-patch", "PATCH", `/Groups/${groupId}`, patch({ op: "add", path: "members", value: [{ value: userId }] })),
      await send("group-delete", "DELETE", `/Groups/${groupId}`),
      await send("user-delete", "DELETE", `/Users/${userId}`),
    ];
    const expected = [
      ["user.create", "User", userId],
      ["group.create", "Group", groupId],
      ["user.replace", "User", userId],
      ["user.patch", "User", userId],
      ["group.replace", "Group", groupId],
      ["group.patch", "Group", groupId],
      ["group.delete", "Group", groupId],
      ["user.delete", "User", userId],
    ];
    steps.forEach(({ requestId }, i) => {
      const [action, resourceType, resourceId] = expected[i]!;
      expect(auditRows(requestId)).toEqual([{ actor: SCIM_TOKEN_NAME, request_id: requestId, action, resource_type: resourceType, resource_id: resourceId }]);
    });

    // Reads and refused writes leave no audit event.
    const readId = rid("read");
    await bridge.scim("GET", "/Users", undefined, { "X-Request-Id": readId });
    const refusedId = rid("refused");
    await bridge.scim("POST", "/Users", { schemas: [CORE_USER] }, { "X-Request-Id": refusedId });
    expect(auditRows(readId)).toEqual([]);
    expect(auditRows(refusedId)).toEqual([]);
  });

  it("replaces an unsafe X-Request-Id with its own and audits under that one", async () => {
    const res = await bridge.scim("POST", "/Users", fullUser("unsafe.rid@example.com"), { "X-Request-Id": "has spaces; and\ttabs" });
    expect(res.status).toBe(201);
    const given = res.headers.get("x-request-id")!;
    expect(given).not.toBe("has spaces; and\ttabs");
    expect(auditRows(given)).toHaveLength(1);
  });

  it("logs one JSON line per request with id, method, path, status, ms and token name, never a token or the query string", async () => {
    const secretEmail = "secret.person@example.com";
    const calls: { id: string; method: string; path: string; status: number; token?: string; authed: boolean }[] = [];
    const call = async (method: string, path: string, body: unknown, token: string | undefined, status: number) => {
      const id = `log-${randomUUID()}`;
      const res = await bridge.scim(method, path, body, { "X-Request-Id": id, Authorization: token === undefined ? null : `Bearer ${token}` });
      expect(res.status).toBe(status);
      calls.push({ id, method, path: `/scim/v2${path.split("?")[0]!}`, status, authed: token === SCIM_TOKEN });
    };

    await call("POST", "/Users", { schemas: [CORE_USER], userName: secretEmail }, SCIM_TOKEN, 201);
    await call("GET", `/Users?filter=${q(`userName eq "${secretEmail}"`)}&count=5`, undefined, SCIM_TOKEN, 200);
    await call("GET", `/Users/${randomUUID()}?attributes=userName`, undefined, SCIM_TOKEN, 404);
    await call("GET", `/Users?filter=${q(`userName eq "${secretEmail}"`)}`, undefined, undefined, 401);
    await call("GET", "/Users", undefined, ADMIN_TOKEN, 403);
    await call("GET", `/Users?access_token=${SCIM_TOKEN}`, undefined, "not-a-valid-token-at-all-000000", 401);

    await vi.waitFor(() => {
      for (const c of calls) expect(bridge.logLines.some((l) => l.includes(c.id))).toBe(true);
    });
    const entries = bridge.logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const c of calls) {
      const lines = entries.filter((e) => e["message"] === "request" && e["requestId"] === c.id);
      expect(lines, c.id).toHaveLength(1);
      const [line] = lines;
      expect(line).toMatchObject({ level: "info", method: c.method, path: c.path, status: c.status });
      expect(typeof line!["ms"]).toBe("number");
      expect(line!["ms"]).toBeGreaterThanOrEqual(0);
      if (c.authed) expect(line!["tokenName"]).toBe(SCIM_TOKEN_NAME);
      if (c.status === 401) expect(line!["tokenName"]).toBeUndefined();
    }
    for (const l of bridge.logLines) {
      expect(l).not.toContain(SCIM_TOKEN);
      expect(l).not.toContain(ADMIN_TOKEN);
      expect(l).not.toContain("not-a-valid-token-at-all");
      expect(l).not.toContain("secret.person");
      expect(l).not.toContain("filter=");
      expect(l).not.toContain("?");
    }
  });
});
