/**
 * Microsoft Entra ID as a SCIM client (docs/vendor-facts.md "Microsoft Entra ID as a SCIM client"):
 * the matching queries, both PATCH dialects (default, and aadOptscim062020), the soft/hard delete
 * lifecycle and the leniency Entra relies on, replayed over HTTP against a real bridge.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  byCodeUnit,
  CORE_GROUP,
  CORE_USER,
  create,
  ENTERPRISE,
  expectScimError,
  memberIds as membersOf,
  MS_GROUP,
  patch,
  useBridge,
} from "../support/scim.js";

/** The user body Entra's provisioning service POSTs (Microsoft Learn, "Tutorial: develop a SCIM endpoint"). */
function entraUser(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: [CORE_USER, ENTERPRISE],
    externalId: randomUUID(),
    userName,
    active: true,
    emails: [{ primary: true, type: "work", value: userName }],
    meta: { resourceType: "User" },
    name: { formatted: "Given Family", familyName: "Family", givenName: "Given" },
    roles: [],
    ...extra,
  };
}

const list = (resource: "Users" | "Groups", filter: string, extra = "") =>
  // Entra form-encodes the query (spaces as "+"), as URLSearchParams does.
  `/${resource}?${new URLSearchParams({ filter }).toString()}${extra}`;

/** The group body Entra POSTs, with Microsoft's ADSCIM schema URN. */
function entraGroup(displayName: string, memberIds: string[] = []): Record<string, unknown> {
  return {
    schemas: [CORE_GROUP, MS_GROUP],
    externalId: randomUUID(),
    displayName,
    meta: { resourceType: "Group" },
    members: memberIds.map((value) => ({ value })),
  };
}

describe("Microsoft Entra ID", () => {
  const bridge = useBridge();
  const createUser = (userName: string, extra: Record<string, unknown> = {}): Promise<any> => create(bridge, "Users", entraUser(userName, extra));
  const createGroup = (displayName: string, memberIds: string[] = []): Promise<any> => create(bridge, "Groups", entraGroup(displayName, memberIds));
  const memberIds = (groupId: string) => membersOf(bridge, groupId);

  it("answers Test connection's filter on a random GUID with 200 and an empty list", async () => {
    for (const attribute of ["userName", "externalId", "id"]) {
      const res = await bridge.scim("GET", list("Users", `${attribute} eq "${randomUUID()}"`));
      expect(res.status, `${attribute}: ${res.text}`).toBe(200);
      expect(res.body).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0 });
      expect(res.body.Resources ?? []).toEqual([]);
    }
  });

  it("matches a user by userName, externalId and work email", async () => {
    const created = await createUser("Matching.User@contoso.com", {
      emails: [
        { primary: true, type: "work", value: "matching.work@contoso.com" },
        { type: "home", value: "matching.home@example.net" },
      ],
    });
    const ids = async (filter: string) => {
      const res = await bridge.scim("GET", list("Users", filter));
      expect(res.status, `${filter}: ${res.text}`).toBe(200);
      return (res.body.Resources as any[]).map((u) => u.id as string);
    };

    expect(await ids('userName eq "Matching.User@contoso.com"')).toEqual([created.id]);
    // userName is caseExact=false (RFC 7643 §4.1.1).
    expect(await ids('userName eq "matching.user@CONTOSO.com"')).toEqual([created.id]);
    expect(await ids(`externalId eq "${created.externalId as string}"`)).toEqual([created.id]);
    expect(await ids('emails[type eq "work"].value eq "matching.work@contoso.com"')).toEqual([created.id]);
    expect(await ids('emails[type eq "work"].value eq "Matching.Work@Contoso.com"')).toEqual([created.id]);
    // The home address is not a work address.
    expect(await ids('emails[type eq "work"].value eq "matching.home@example.net"')).toEqual([]);
    // Entra combines matching attributes with `and`.
    expect(await ids(`externalId eq "${created.externalId as string}" and userName eq "Matching.User@contoso.com"`)).toEqual([created.id]);
    expect(await ids(`externalId eq "${created.externalId as string}" and userName eq "someone.else@contoso.com"`)).toEqual([]);
  });

  it("matches userNames holding an apostrophe, a plus sign or an escaped quote", async () => {
    for (const userName of ["o'brien+scim@contoso.com", 'quoted"name@contoso.com']) {
      const created = await createUser(userName);
      const escaped = userName.replaceAll('"', '\\"');
      const res = await bridge.scim("GET", list("Users", `userName eq "${escaped}"`));
      expect(res.status, res.text).toBe(200);
      expect(res.body.Resources.map((u: any) => u.id)).toEqual([created.id]);
    }
  });

  it("finds groups by displayName and reads them with excludedAttributes=members", async () => {
    const member = await createUser("group.reader@contoso.com");
    const group = await createGroup("Entra Finance", [member.id]);

    const found = await bridge.scim("GET", list("Groups", 'displayName eq "Entra Finance"', "&excludedAttributes=members"));
    expect(found.status, found.text).toBe(200);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0]).toMatchObject({ id: group.id, displayName: "Entra Finance" });
    expect(found.body.Resources[0]).not.toHaveProperty("members");

    const read = await bridge.scim("GET", `/Groups/${group.id}?excludedAttributes=members`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: group.id, displayName: "Entra Finance" });
    expect(read.body).not.toHaveProperty("members");
    // Excluding members only hides them.
    expect(await memberIds(group.id)).toEqual([member.id]);
  });

  it("accepts a Group POST carrying Microsoft's ADSCIM schema URN and assigns its own id", async () => {
    const clientId = randomUUID();
    const res = await bridge.scim("POST", "/Groups", {
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      id: clientId,
      displayName: "Entra Sales",
      meta: { resourceType: "Group" },
      schemas: [CORE_GROUP, MS_GROUP],
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ displayName: "Entra Sales", externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" });
    expect(res.body.id).not.toBe(clientId);
    expect((await bridge.scim("GET", `/Groups/${res.body.id as string}`)).status).toBe(200);
  });

  describe("default PATCH dialect", () => {
    it("applies capitalised ops and string booleans to a user", async () => {
      const user = await createUser("default.dialect@contoso.com");
      const res = await bridge.scim(
        "PATCH",
        `/Users/${user.id}`,
        patch(
          { op: "Replace", path: 'emails[type eq "work"].value', value: "updated.work@contoso.com" },
          { op: "Replace", path: "name.familyName", value: "UpdatedFamily" },
          { op: "Add", path: "title", value: "Analyst" },
          // A user with no work address or mobile yet: the filter's eq conditions create the element.
          { op: "Add", path: 'addresses[type eq "work"].streetAddress', value: "1 Microsoft Way" },
          { op: "Add", path: 'phoneNumbers[type eq "mobile"].value', value: "+1 425 555 0100" },
          { op: "Add", path: "roles", value: [{ primary: "True", type: "WindowsAzureActiveDirectoryRole", value: "Reader" }] },
          { op: "Replace", path: "active", value: "False" },
        ),
      );
      expect([200, 204], res.text).toContain(res.status);

      const read = (await bridge.scim("GET", `/Users/${user.id}`)).body;
      expect(read.active).toBe(false);
      expect(read.title).toBe("Analyst");
      expect(read.name).toEqual({ formatted: "Given Family", familyName: "UpdatedFamily", givenName: "Given" });
      expect(read.emails).toEqual([{ primary: true, type: "work", value: "updated.work@contoso.com" }]);
      expect(read.addresses).toEqual([{ type: "work", streetAddress: "1 Microsoft Way" }]);
      expect(read.phoneNumbers).toEqual([{ type: "mobile", value: "+1 425 555 0100" }]);
      expect(read.roles).toEqual([{ primary: true, type: "WindowsAzureActiveDirectoryRole", value: "Reader" }]);

      const back = await bridge.scim("PATCH", `/Users/${user.id}`, patch({ op: "Replace", path: "active", value: "True" }));
      expect([200, 204]).toContain(back.status);
      expect((await bridge.scim("GET", `/Users/${user.id}`)).body.active).toBe(true);
    });

    it("adds and removes group members with path members and value arrays carrying $ref: null", async () => {
      const [a, b] = [await createUser("dd.member.a@contoso.com"), await createUser("dd.member.b@contoso.com")];
      const group = await createGroup("Entra Default Dialect");

      const add = await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "Add", path: "members", value: [{ $ref: null, value: a.id }, { $ref: null, value: b.id }] }));
      expect(add.status, add.text).toBe(204);
      expect(await memberIds(group.id)).toEqual([a.id, b.id].sort(byCodeUnit));

      const remove = await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "Remove", path: "members", value: [{ $ref: null, value: a.id }] }));
      expect(remove.status, remove.text).toBe(204);
      expect(await memberIds(group.id)).toEqual([b.id]);

      const rename = await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "Replace", path: "displayName", value: "Entra Default Dialect Renamed" }));
      expect(rename.status).toBe(204);
      expect((await bridge.scim("GET", `/Groups/${group.id}`)).body.displayName).toBe("Entra Default Dialect Renamed");
    });

    it("does not duplicate a member that is added twice", async () => {
      const user = await createUser("twice.member@contoso.com");
      const group = await createGroup("Entra Twice");
      for (let i = 0; i < 2; i++) {
        const res = await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "Add", path: "members", value: [{ $ref: null, value: user.id }] }));
        expect(res.status, res.text).toBe(204);
      }
      const both = await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "Add", path: "members", value: [{ value: user.id }, { value: user.id }] }));
      expect(both.status).toBe(204);
      expect(await memberIds(group.id)).toEqual([user.id]);
      const read = (await bridge.scim("GET", `/Users/${user.id}`)).body;
      expect(read.groups.map((g: any) => g.value)).toEqual([group.id]);
    });

    it("stores a manager sent as a plain id string as { value }", async () => {
      const boss = await createUser("boss@contoso.com");
      const user = await createUser("report@contoso.com", { [ENTERPRISE]: { employeeNumber: "701", manager: boss.id } });
      expect(user[ENTERPRISE]).toEqual({ employeeNumber: "701", manager: { value: boss.id } });
      expect(user.schemas).toContain(ENTERPRISE);

      const other = await createUser("boss2@contoso.com");
      const res = await bridge.scim("PATCH", `/Users/${user.id}`, patch({ op: "Add", path: `${ENTERPRISE}:manager`, value: other.id }));
      expect([200, 204], res.text).toContain(res.status);
      const read = (await bridge.scim("GET", `/Users/${user.id}`)).body;
      expect(read[ENTERPRISE]).toEqual({ employeeNumber: "701", manager: { value: other.id } });
    });
  });

  describe("aadOptscim062020 dialect", () => {
    it("applies lower-case ops with real booleans and a path-less replace with dotted and URN keys", async () => {
      const user = await createUser("flag.dialect@contoso.com", { [ENTERPRISE]: { department: "Sales" } });
      const res = await bridge.scim(
        "PATCH",
        `/Users/${user.id}`,
        patch({
          op: "replace",
          value: {
            displayName: "Flag Dialect",
            "name.givenName": "Flag",
            "name.familyName": "Dialect",
            [`${ENTERPRISE}:employeeNumber`]: "9001",
            [`${ENTERPRISE}:manager`]: "manager-guid-1",
            active: false,
          },
        }),
      );
      expect([200, 204], res.text).toContain(res.status);

      const read = (await bridge.scim("GET", `/Users/${user.id}`)).body;
      expect(read.displayName).toBe("Flag Dialect");
      expect(read.name).toEqual({ formatted: "Given Family", givenName: "Flag", familyName: "Dialect" });
      expect(read.active).toBe(false);
      expect(read[ENTERPRISE]).toEqual({ department: "Sales", employeeNumber: "9001", manager: { value: "manager-guid-1" } });
      // The dotted keys are paths, not attribute names: nothing named "name.givenName" is stored.
      expect(read).not.toHaveProperty(["name.givenName"]);

      const on = await bridge.scim("PATCH", `/Users/${user.id}`, patch({ op: "replace", path: "active", value: true }));
      expect([200, 204]).toContain(on.status);
      expect((await bridge.scim("GET", `/Users/${user.id}`)).body.active).toBe(true);
    });

    it("removes one member with a members[value eq \"id\"] path and adds with lower-case add", async () => {
      const [a, b] = [await createUser("flag.member.a@contoso.com"), await createUser("flag.member.b@contoso.com")];
      const group = await createGroup("Entra Flag Dialect");

      const add = await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "add", path: "members", value: [{ value: a.id }, { value: b.id }] }));
      expect(add.status, add.text).toBe(204);
      const remove = await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "remove", path: `members[value eq "${b.id}"]` }));
      expect(remove.status, remove.text).toBe(204);
      expect(await memberIds(group.id)).toEqual([a.id]);
    });
  });

  it("keeps a soft-deleted (active=false) user readable and in its groups, and restores it with active=true", async () => {
    const user = await createUser("soft.delete@contoso.com");
    const group = await createGroup("Entra Soft Delete", [user.id]);

    const off = await bridge.scim("PATCH", `/Users/${user.id}`, patch({ op: "Replace", path: "active", value: "False" }));
    expect([200, 204], off.text).toContain(off.status);
    const read = await bridge.scim("GET", `/Users/${user.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: user.id, userName: "soft.delete@contoso.com", active: false });
    expect(read.body.groups.map((g: any) => g.value)).toEqual([group.id]);
    expect(await memberIds(group.id)).toEqual([user.id]);
    // Entra still matches the inactive user, so it does not create a duplicate.
    const match = await bridge.scim("GET", list("Users", 'userName eq "soft.delete@contoso.com"'));
    expect(match.body.Resources.map((u: any) => u.id)).toEqual([user.id]);

    // Entra restores with active=true and does not re-send memberships.
    const on = await bridge.scim("PATCH", `/Users/${user.id}`, patch({ op: "replace", path: "active", value: true }));
    expect([200, 204]).toContain(on.status);
    const restored = (await bridge.scim("GET", `/Users/${user.id}`)).body;
    expect(restored.active).toBe(true);
    expect(restored.groups.map((g: any) => g.value)).toEqual([group.id]);
  });

  it("hard-deletes a user with DELETE: 204, then 404, and the user has left every group", async () => {
    const user = await createUser("hard.delete@contoso.com");
    const stays = await createUser("hard.stays@contoso.com");
    const g1 = await createGroup("Entra Hard 1", [user.id, stays.id]);
    const g2 = await createGroup("Entra Hard 2", [user.id]);

    const res = await bridge.scim("DELETE", `/Users/${user.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expectScimError(await bridge.scim("GET", `/Users/${user.id}`), 404);
    expectScimError(await bridge.scim("DELETE", `/Users/${user.id}`), 404);
    expect(await memberIds(g1.id)).toEqual([stays.id]);
    expect(await memberIds(g2.id)).toEqual([]);
    const match = await bridge.scim("GET", list("Users", 'userName eq "hard.delete@contoso.com"'));
    expect(match.body.totalResults).toBe(0);
    // The userName is free again.
    await createUser("hard.delete@contoso.com");
  });

  it("ignores attributes the schema does not define in POST and PUT bodies", async () => {
    const created = await bridge.scim(
      "POST",
      "/Users",
      entraUser("unknown.attrs@contoso.com", {
        testAttribute: "ignored",
        displayname2: "misspelled",
        "urn:ietf:params:scim:schemas:extension:contoso:2.0:User": { costCentre: "42" },
        [ENTERPRISE]: { department: "IT", favouriteColour: "green" },
      }),
    );
    expect(created.status, created.text).toBe(201);
    expect(created.body).not.toHaveProperty("testAttribute");
    expect(created.body).not.toHaveProperty("displayname2");
    expect(created.body).not.toHaveProperty(["urn:ietf:params:scim:schemas:extension:contoso:2.0:User"]);
    expect(created.body[ENTERPRISE]).toEqual({ department: "IT" });

    const put = await bridge.scim("PUT", `/Users/${created.body.id as string}`, {
      ...entraUser("unknown.attrs@contoso.com"),
      dispalyName: "typo in a mapping",
      title: "Admin",
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.title).toBe("Admin");
    expect(put.body).not.toHaveProperty("dispalyName");
    expect(put.text).not.toContain("typo in a mapping");

    const group = await bridge.scim("POST", "/Groups", { schemas: [CORE_GROUP, MS_GROUP], displayName: "Entra Unknown", description: "not in the schema" });
    expect(group.status, group.text).toBe(201);
    expect(group.body).not.toHaveProperty("description");
  });

  it("rejects an unknown attribute in a filter with 400 invalidFilter and in a PATCH path with 400 invalidPath", async () => {
    const user = await createUser("strict.paths@contoso.com");
    expectScimError(await bridge.scim("GET", list("Users", 'favouriteColour eq "green"')), 400, "invalidFilter");
    expectScimError(await bridge.scim("GET", list("Groups", 'colour eq "blue"')), 400, "invalidFilter");

    const before = (await bridge.scim("GET", `/Users/${user.id}`)).body;
    expectScimError(
      await bridge.scim("PATCH", `/Users/${user.id}`, patch({ op: "Replace", path: "title", value: "Kept?" }, { op: "Replace", path: "favouriteColour", value: "green" })),
      400,
      "invalidPath",
    );
    // PATCH is atomic (RFC 7644 §3.5.2): the valid first operation did not land either.
    expect((await bridge.scim("GET", `/Users/${user.id}`)).body).toEqual(before);
  });
});
