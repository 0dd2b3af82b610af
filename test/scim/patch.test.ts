import { describe, expect, it } from "vitest";
import { BridgeError, type ErrorCode } from "../../src/errors.js";
import type { JsonObject } from "../../src/domain/json.js";
import { applyPatch, type MemberOp, type PatchResult } from "../../src/scim/patch/apply.js";
import { normalizePatchRequest } from "../../src/scim/patch/normalize.js";
import { ENTERPRISE_USER, groupResource, PATCH_OP, userResource, type ResourceSchema } from "../../src/scim/schema.js";
import { patch as body } from "../support/scim.js";

const ENT = ENTERPRISE_USER;

/** Deep-freezes `value`, so any write to the stored attributes throws (ESM is strict mode). */
function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}

/** Runs a PATCH the way the handlers do: normalize, then apply to frozen stored attributes. */
function patch(resource: ResourceSchema, current: JsonObject, ...operations: unknown[]): PatchResult {
  return applyPatch(resource, frozen(structuredClone(current)), normalizePatchRequest(body(...operations), resource));
}

function patchUser(current: JsonObject, ...operations: unknown[]): JsonObject {
  return patch(userResource, current, ...operations).attributes;
}

function patchGroup(...operations: unknown[]): PatchResult {
  return patch(groupResource, { displayName: "Engineering" }, ...operations);
}

function codeOf(run: () => unknown): ErrorCode | "no error" {
  try {
    run();
  } catch (e: unknown) {
    if (e instanceof BridgeError) return e.code;
    throw e;
  }
  return "no error";
}

const alice: JsonObject = {
  userName: "alice@example.com",
  name: { givenName: "Alice", familyName: "Smith" },
  active: true,
  emails: [{ value: "alice@example.com", type: "work", primary: true }],
};

describe("PatchOp message validation", () => {
  it.each<[string, unknown, ErrorCode]>([
    ["body is not an object", [], "invalidSyntax"],
    ["schemas missing", { Operations: [{ op: "add", path: "title", value: "x" }] }, "invalidSyntax"],
    ["schemas without the PatchOp URN", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], Operations: [{ op: "add", path: "title", value: "x" }] }, "invalidSyntax"],
    ["schemas is a string", { schemas: PATCH_OP, Operations: [{ op: "add", path: "title", value: "x" }] }, "invalidSyntax"],
    ["Operations missing", { schemas: [PATCH_OP] }, "invalidSyntax"],
    ["Operations empty", body(), "invalidSyntax"],
    ["Operations not an array", { schemas: [PATCH_OP], Operations: { op: "add" } }, "invalidSyntax"],
    ["operation not an object", body("add"), "invalidSyntax"],
    ["op missing", body({ path: "title", value: "x" }), "invalidSyntax"],
    ["op unknown", body({ op: "merge", path: "title", value: "x" }), "invalidSyntax"],
    ["op not a string", body({ op: 1, path: "title", value: "x" }), "invalidSyntax"],
    ["remove without path", body({ op: "remove" }), "noTarget"],
    ["remove with blank path", body({ op: "remove", path: "  " }), "noTarget"],
    ["add without value", body({ op: "add", path: "title" }), "invalidValue"],
    ["replace without value", body({ op: "replace", path: "title" }), "invalidValue"],
    ["path-less add without value", body({ op: "add" }), "invalidValue"],
    ["path-less replace with a string value", body({ op: "replace", value: "x" }), "invalidValue"],
    ["path-less replace with an array value", body({ op: "replace", value: [{ title: "x" }] }), "invalidValue"],
    ["path not a string", body({ op: "add", path: 7, value: "x" }), "invalidPath"],
    ["unknown attribute in path", body({ op: "replace", path: "favouriteColour", value: "x" }), "invalidPath"],
    ["unknown sub-attribute in path", body({ op: "replace", path: "name.nickname", value: "x" }), "invalidPath"],
    ["unknown extension attribute in path", body({ op: "replace", path: `${ENT}:shoeSize`, value: "x" }), "invalidPath"],
    ["readOnly id", body({ op: "replace", path: "id", value: "x" }), "mutability"],
    ["readOnly meta sub-attribute", body({ op: "replace", path: "meta.lastModified", value: "2024-01-01T00:00:00Z" }), "mutability"],
    ["readOnly groups", body({ op: "add", path: "groups", value: [{ value: "g1" }] }), "mutability"],
    ["remove of readOnly id", body({ op: "remove", path: "id" }), "mutability"],
    ["unknown attribute inside a path filter", body({ op: "replace", path: 'emails[colour eq "red"].value', value: "x" }), "invalidPath"],
    ["nested extension that is not an object", body({ op: "replace", value: { [ENT]: "x" } }), "invalidValue"],
  ])("rejects a request whose %s", (_, request, code) => {
    expect(codeOf(() => normalizePatchRequest(request, userResource))).toBe(code);
  });

  it("accepts `operations` and `Schemas` in any casing", () => {
    const ops = normalizePatchRequest({ Schemas: [PATCH_OP.toUpperCase()], operations: [{ op: "add", path: "title", value: "x" }] }, userResource);
    expect(ops).toHaveLength(1);
    expect(ops[0]?.op).toBe("add");
    expect(ops[0]?.path.attribute.name).toBe("title");
  });

  it("keeps a null value on a path-ful replace (it means clear)", () => {
    const [op] = normalizePatchRequest(body({ op: "replace", path: "title", value: null }), userResource);
    expect(op?.value).toBeNull();
  });

  it("expands a path-less replace into one operation per attribute", () => {
    const ops = normalizePatchRequest(
      body({ op: "replace", value: { displayName: "A", "name.givenName": "B", [`${ENT}:department`]: "C", [ENT]: { costCenter: "D" } } }),
      userResource,
    );
    expect(ops.map((o) => [o.op, o.path.attribute.name, o.path.sub?.name, o.path.schema, o.value])).toEqual([
      ["replace", "displayName", undefined, userResource.core.id, "A"],
      ["replace", "name", "givenName", userResource.core.id, "B"],
      ["replace", "department", undefined, ENT, "C"],
      ["replace", "costCenter", undefined, ENT, "D"],
    ]);
  });

  it("ignores id, schemas, meta, password and unknown keys in a path-less value", () => {
    const ops = normalizePatchRequest(
      body({ op: "replace", value: { id: "1", schemas: [], meta: {}, password: "p", favouriteColour: "red", [ENT]: { shoeSize: 9 }, title: "CTO" } }),
      userResource,
    );
    expect(ops.map((o) => o.path.attribute.name)).toEqual(["title"]);
  });

  it("drops a path-ful password operation, as POST and PUT drop password", () => {
    expect(normalizePatchRequest(body({ op: "replace", path: "password", value: "hunter2" }), userResource)).toEqual([]);
  });
});

describe("single-valued simple attributes", () => {
  it("add sets an absent attribute", () => {
    expect(patchUser(alice, { op: "add", path: "title", value: "CTO" })["title"]).toBe("CTO");
  });

  it("add replaces an existing single value", () => {
    expect(patchUser({ ...alice, title: "CTO" }, { op: "add", path: "title", value: "CEO" })["title"]).toBe("CEO");
  });

  it("replace sets the value, matching the attribute name case-insensitively", () => {
    const out = patchUser(alice, { op: "replace", path: "DISPLAYNAME", value: "Alice S" });
    expect(out["displayName"]).toBe("Alice S");
    expect(out).not.toHaveProperty("DISPLAYNAME");
  });

  it("remove deletes the attribute", () => {
    expect(patchUser({ ...alice, title: "CTO" }, { op: "remove", path: "title" })).not.toHaveProperty("title");
  });

  it("remove of an absent attribute is a no-op", () => {
    expect(patchUser(alice, { op: "remove", path: "title" })).toEqual(alice);
  });

  it.each([null, ""])("replace with %j clears the attribute", (value) => {
    expect(patchUser({ ...alice, title: "CTO" }, { op: "replace", path: "title", value })).not.toHaveProperty("title");
  });

  it("coerces booleans sent as strings", () => {
    expect(patchUser(alice, { op: "replace", path: "active", value: "False" })["active"]).toBe(false);
  });

  it("rejects a value of the wrong type with invalidValue", () => {
    expect(codeOf(() => patchUser(alice, { op: "replace", path: "active", value: "maybe" }))).toBe("invalidValue");
    expect(codeOf(() => patchUser(alice, { op: "replace", path: "title", value: { a: 1 } }))).toBe("invalidValue");
  });

  it("sets and removes the common attribute externalId", () => {
    const set = patchUser(alice, { op: "add", path: "externalId", value: "ext-1" });
    expect(set["externalId"]).toBe("ext-1");
    expect(patchUser(set, { op: "remove", path: "externalId" })).not.toHaveProperty("externalId");
  });

  it("keeps the attribute order when a value is replaced (so an unchanged PATCH is detectable)", () => {
    const out = patchUser(alice, { op: "replace", path: "userName", value: "alice@example.com" });
    expect(JSON.stringify(out)).toBe(JSON.stringify(alice));
  });
});

describe("single-valued complex attributes", () => {
  it("replace of the whole attribute merges sub-attributes (RFC 7644 §3.5.2.3)", () => {
    const out = patchUser(alice, { op: "replace", path: "name", value: { givenName: "Alicia" } });
    expect(out["name"]).toEqual({ givenName: "Alicia", familyName: "Smith" });
  });

  it("add of the whole attribute merges sub-attributes", () => {
    const out = patchUser(alice, { op: "add", path: "name", value: { middleName: "J" } });
    expect(out["name"]).toEqual({ givenName: "Alice", familyName: "Smith", middleName: "J" });
  });

  it("add creates an absent complex attribute", () => {
    const out = patchUser({ userName: "bob" }, { op: "add", path: "name", value: { givenName: "Bob" } });
    expect(out["name"]).toEqual({ givenName: "Bob" });
  });

  it("a null sub-attribute inside the value removes that sub-attribute", () => {
    const out = patchUser(alice, { op: "replace", path: "name", value: { familyName: null } });
    expect(out["name"]).toEqual({ givenName: "Alice" });
  });

  it("ignores unknown sub-attributes inside the value", () => {
    const out = patchUser(alice, { op: "replace", path: "name", value: { givenName: "Al", nickname: "x" } });
    expect(out["name"]).toEqual({ givenName: "Al", familyName: "Smith" });
  });

  it.each([null, {}])("replace with %j clears the attribute", (value) => {
    expect(patchUser(alice, { op: "replace", path: "name", value })).not.toHaveProperty("name");
  });

  it("remove deletes the attribute", () => {
    expect(patchUser(alice, { op: "remove", path: "name" })).not.toHaveProperty("name");
  });

  it("replace of a sub-attribute sets only that sub-attribute", () => {
    expect(patchUser(alice, { op: "replace", path: "name.givenName", value: "Ali" })["name"]).toEqual({ givenName: "Ali", familyName: "Smith" });
  });

  it("add of a sub-attribute creates the parent when absent", () => {
    expect(patchUser({ userName: "bob" }, { op: "add", path: "name.familyName", value: "Jones" })["name"]).toEqual({ familyName: "Jones" });
  });

  it("remove of a sub-attribute keeps the others", () => {
    expect(patchUser(alice, { op: "remove", path: "name.familyName" })["name"]).toEqual({ givenName: "Alice" });
  });

  it("remove of the last sub-attribute removes the parent", () => {
    const out = patchUser({ userName: "bob", name: { givenName: "Bob" } }, { op: "remove", path: "name.givenName" });
    expect(out).not.toHaveProperty("name");
  });

  it("replace of a sub-attribute with an empty string removes it", () => {
    expect(patchUser(alice, { op: "replace", path: "name.givenName", value: "" })["name"]).toEqual({ familyName: "Smith" });
  });
});

describe("multi-valued attributes", () => {
  it("add appends a new value", () => {
    const out = patchUser(alice, { op: "add", path: "emails", value: [{ value: "a@home.example", type: "home" }] });
    expect(out["emails"]).toEqual([
      { value: "alice@example.com", type: "work", primary: true },
      { value: "a@home.example", type: "home" },
    ]);
  });

  it("add does not duplicate a value already present (values compared case-insensitively)", () => {
    const out = patchUser(alice, { op: "add", path: "emails", value: [{ value: "ALICE@example.com", type: "work" }] });
    expect(out["emails"]).toEqual([{ value: "ALICE@example.com", type: "work", primary: true }]);
  });

  it("add of a single object where an array is meant appends it", () => {
    const out = patchUser(alice, { op: "add", path: "phoneNumbers", value: { value: "+1 555", type: "work" } });
    expect(out["phoneNumbers"]).toEqual([{ value: "+1 555", type: "work" }]);
  });

  it("add with primary true clears primary on the other values (RFC 7643 §2.4)", () => {
    const out = patchUser(alice, { op: "add", path: "emails", value: [{ value: "a@home.example", type: "home", primary: true }] });
    expect(out["emails"]).toEqual([
      { value: "alice@example.com", type: "work", primary: false },
      { value: "a@home.example", type: "home", primary: true },
    ]);
  });

  it("add that re-sends an existing value with primary true makes it the primary", () => {
    const two = { ...alice, emails: [...(alice["emails"] as JsonObject[]), { value: "a@home.example", type: "home" }] };
    const out = patchUser(two, { op: "add", path: "emails", value: [{ value: "a@home.example", type: "home", primary: "True" }] });
    expect(out["emails"]).toEqual([
      { value: "alice@example.com", type: "work", primary: false },
      { value: "a@home.example", type: "home", primary: true },
    ]);
  });

  it("replace replaces the whole array", () => {
    const out = patchUser(alice, { op: "replace", path: "emails", value: [{ value: "new@example.com", type: "work" }] });
    expect(out["emails"]).toEqual([{ value: "new@example.com", type: "work" }]);
  });

  it.each([[[]], [null]])("replace with %j removes the attribute", (value) => {
    expect(patchUser(alice, { op: "replace", path: "emails", value })).not.toHaveProperty("emails");
  });

  it("remove deletes every value", () => {
    expect(patchUser(alice, { op: "remove", path: "emails" })).not.toHaveProperty("emails");
  });

  it("rejects two primary values in one write", () => {
    const value = [
      { value: "a@example.com", primary: true },
      { value: "b@example.com", primary: true },
    ];
    expect(codeOf(() => patchUser(alice, { op: "replace", path: "emails", value }))).toBe("invalidValue");
  });

  it("replace of a sub-attribute without a filter sets it on every value", () => {
    const two = { userName: "a", emails: [{ value: "a@x.example" }, { value: "b@x.example" }] };
    expect(patchUser(two, { op: "replace", path: "emails.type", value: "work" })["emails"]).toEqual([
      { value: "a@x.example", type: "work" },
      { value: "b@x.example", type: "work" },
    ]);
  });

  it("remove of a sub-attribute without a filter removes it from every value", () => {
    expect(patchUser(alice, { op: "remove", path: "emails.primary" })["emails"]).toEqual([{ value: "alice@example.com", type: "work" }]);
  });
});

describe("filtered paths", () => {
  const twoEmails: JsonObject = {
    userName: "alice",
    emails: [
      { value: "alice@work.example", type: "work", primary: true },
      { value: "alice@home.example", type: "home" },
    ],
  };

  it("replace of a sub-attribute changes only the matching element", () => {
    const out = patchUser(twoEmails, { op: "replace", path: 'emails[type eq "work"].value', value: "new@work.example" });
    expect(out["emails"]).toEqual([
      { value: "new@work.example", type: "work", primary: true },
      { value: "alice@home.example", type: "home" },
    ]);
  });

  it("add of a sub-attribute with a filter that matches nothing creates the element from the filter (Entra)", () => {
    const out = patchUser({ userName: "bob" }, { op: "Add", path: 'emails[type eq "work"].value', value: "bob@work.example" });
    expect(out["emails"]).toEqual([{ type: "work", value: "bob@work.example" }]);
  });

  it("replace that matches nothing creates the element too", () => {
    const out = patchUser(twoEmails, { op: "replace", path: 'phoneNumbers[type eq "mobile"].value', value: "+1 555" });
    expect(out["phoneNumbers"]).toEqual([{ type: "mobile", value: "+1 555" }]);
  });

  it("creates an address from the filter and the sub-attribute", () => {
    const out = patchUser({ userName: "bob" }, { op: "add", path: 'addresses[type eq "work"].streetAddress', value: "1 Main St" });
    expect(out["addresses"]).toEqual([{ type: "work", streetAddress: "1 Main St" }]);
  });

  it("updates an existing address sub-attribute and leaves the rest", () => {
    const current = { userName: "bob", addresses: [{ type: "work", streetAddress: "1 Main St", locality: "Springfield" }] };
    const out = patchUser(current, { op: "replace", path: 'addresses[type eq "work"].streetAddress', value: "2 High St" });
    expect(out["addresses"]).toEqual([{ type: "work", streetAddress: "2 High St", locality: "Springfield" }]);
  });

  it("creates from an and-filter with several eq conditions, coercing their values", () => {
    const out = patchUser({ userName: "bob" }, { op: "add", path: 'emails[type eq "work" and primary eq true].value', value: "b@w.example" });
    expect(out["emails"]).toEqual([{ type: "work", primary: true, value: "b@w.example" }]);
  });

  it("replace with a filter that matches nothing and cannot create an element is noTarget", () => {
    expect(codeOf(() => patchUser(twoEmails, { op: "replace", path: 'emails[value co "nobody"].type', value: "other" }))).toBe("noTarget");
    expect(codeOf(() => patchUser(twoEmails, { op: "replace", path: 'emails[type eq "a" or type eq "b"].value', value: "x" }))).toBe("noTarget");
  });

  it("setting primary through a filter clears it on the other elements", () => {
    const out = patchUser(twoEmails, { op: "replace", path: 'emails[type eq "home"].primary', value: true });
    expect(out["emails"]).toEqual([
      { value: "alice@work.example", type: "work", primary: false },
      { value: "alice@home.example", type: "home", primary: true },
    ]);
  });

  it("remove with a filter removes the matching elements only", () => {
    expect(patchUser(twoEmails, { op: "remove", path: 'emails[type eq "work"]' })["emails"]).toEqual([{ value: "alice@home.example", type: "home" }]);
  });

  it("remove with a filter that leaves no element removes the attribute", () => {
    expect(patchUser(alice, { op: "remove", path: 'emails[type eq "work"]' })).not.toHaveProperty("emails");
  });

  it("remove with a filter that matches nothing is a no-op", () => {
    expect(patchUser(twoEmails, { op: "remove", path: 'emails[type eq "other"]' })).toEqual(twoEmails);
  });

  it("remove of `value` through a filter removes the whole element (Entra clears an email this way)", () => {
    expect(patchUser(twoEmails, { op: "Remove", path: 'emails[type eq "work"].value' })["emails"]).toEqual([{ value: "alice@home.example", type: "home" }]);
  });

  it("remove of another sub-attribute through a filter keeps the element", () => {
    expect(patchUser(twoEmails, { op: "remove", path: 'emails[type eq "work"].primary' })["emails"]).toEqual([
      { value: "alice@work.example", type: "work" },
      { value: "alice@home.example", type: "home" },
    ]);
  });

  it("replace of a whole element through a filter replaces it and keeps the filter's condition", () => {
    const out = patchUser(twoEmails, { op: "replace", path: 'emails[type eq "home"]', value: { value: "a@new-home.example" } });
    expect(out["emails"]).toEqual([
      { value: "alice@work.example", type: "work", primary: true },
      { type: "home", value: "a@new-home.example" },
    ]);
  });

  it("add of a whole element through a filter merges into the match", () => {
    const out = patchUser(twoEmails, { op: "add", path: 'emails[type eq "home"]', value: { display: "Home" } });
    expect(out["emails"]).toEqual([
      { value: "alice@work.example", type: "work", primary: true },
      { value: "alice@home.example", type: "home", display: "Home" },
    ]);
  });

  it("add of a whole element through a filter that matches nothing creates it", () => {
    const out = patchUser(twoEmails, { op: "add", path: 'emails[type eq "other"]', value: { value: "o@x.example" } });
    expect(out["emails"]).toHaveLength(3);
    expect((out["emails"] as JsonObject[])[2]).toEqual({ type: "other", value: "o@x.example" });
  });

  it("replace of a sub-attribute with null through a filter removes it", () => {
    expect(patchUser(twoEmails, { op: "replace", path: 'emails[type eq "work"].value', value: null })["emails"]).toEqual([
      { value: "alice@home.example", type: "home" },
    ]);
  });

  it("rejects more than one primary when a filter selects several elements", () => {
    const current = { userName: "a", emails: [{ value: "a@x.example", type: "work" }, { value: "b@x.example", type: "work" }] };
    expect(codeOf(() => patchUser(current, { op: "replace", path: 'emails[type eq "work"].primary', value: true }))).toBe("invalidValue");
  });
});

describe("enterprise extension", () => {
  it("sets a URN-qualified attribute under the extension key", () => {
    const out = patchUser(alice, { op: "add", path: `${ENT}:employeeNumber`, value: "42" });
    expect(out[ENT]).toEqual({ employeeNumber: "42" });
  });

  it("stores manager sent as a plain string as {value} (Entra)", () => {
    const out = patchUser(alice, { op: "Add", path: `${ENT}:manager`, value: "mgr-1" });
    expect(out[ENT]).toEqual({ manager: { value: "mgr-1" } });
  });

  it("replaces manager.value as a sub-attribute", () => {
    const out = patchUser({ ...alice, [ENT]: { manager: { value: "old", displayName: "Old Boss" } } }, { op: "replace", path: `${ENT}:manager.value`, value: "new" });
    expect(out[ENT]).toEqual({ manager: { value: "new", displayName: "Old Boss" } });
  });

  it("removing the last extension attribute removes the extension object", () => {
    const out = patchUser({ ...alice, [ENT]: { manager: { value: "m" } } }, { op: "remove", path: `${ENT}:manager` });
    expect(out).not.toHaveProperty(ENT);
  });

  it("accepts the extension URN alone as a path, like a nested extension object", () => {
    const out = patchUser(alice, { op: "replace", path: ENT, value: { department: "R&D", manager: "m-2" } });
    expect(out[ENT]).toEqual({ department: "R&D", manager: { value: "m-2" } });
  });

  it("remove of the extension URN path removes every extension attribute", () => {
    expect(patchUser({ ...alice, [ENT]: { department: "R&D", costCenter: "7" } }, { op: "remove", path: ENT })).not.toHaveProperty(ENT);
  });

  it("merges a path-less nested extension object into the existing extension attributes", () => {
    const out = patchUser({ ...alice, [ENT]: { costCenter: "7" } }, { op: "add", value: { [ENT]: { department: "R&D" } } });
    expect(out[ENT]).toEqual({ costCenter: "7", department: "R&D" });
  });
});

describe("Okta dialect", () => {
  it("deactivates with a path-less replace of {active: false}", () => {
    expect(patchUser(alice, { op: "replace", value: { active: false } })["active"]).toBe(false);
  });

  it("ignores id in a group push's replace of {id, displayName}", () => {
    const result = patchGroup({ op: "replace", value: { id: "group-1", displayName: "Eng" } });
    expect(result.attributes).toEqual({ displayName: "Eng" });
    expect(result.memberOps).toEqual([]);
  });

  it("turns remove of members[value eq \"x\"] then add of members into ordered member ops", () => {
    const result = patchGroup(
      { op: "remove", path: 'members[value eq "u1"]' },
      { op: "add", path: "members", value: [{ value: "u2", display: "Bob" }, { value: "u3" }] },
    );
    expect(result.memberOps).toEqual<MemberOp[]>([
      { kind: "remove", ids: ["u1"] },
      { kind: "add", ids: ["u2", "u3"], displays: { u2: "Bob" } },
    ]);
    expect(result.attributes).toEqual({ displayName: "Engineering" });
  });

  it("handles a whole group push: rename, remove one, add two", () => {
    const result = patchGroup(
      { op: "replace", value: { id: "group-1", displayName: "Engineering EU" } },
      { op: "remove", path: 'members[value eq "u1"]' },
      { op: "add", path: "members", value: [{ value: "u2" }, { value: "u3" }] },
    );
    expect(result).toEqual({
      attributes: { displayName: "Engineering EU" },
      memberOps: [
        { kind: "remove", ids: ["u1"] },
        { kind: "add", ids: ["u2", "u3"] },
      ],
    });
  });

  it("replaces all members with a path-ful replace of members", () => {
    expect(patchGroup({ op: "replace", path: "members", value: [{ value: "u1" }] }).memberOps).toEqual([{ kind: "replaceAll", ids: ["u1"] }]);
  });
});

describe("Entra default dialect", () => {
  it("accepts capitalised op names", () => {
    const out = patchUser(
      alice,
      { op: "Replace", path: "displayName", value: "Alice" },
      { op: "Add", path: "title", value: "CTO" },
      { op: "Remove", path: "name.familyName" },
    );
    expect(out).toMatchObject({ displayName: "Alice", title: "CTO", name: { givenName: "Alice" } });
  });

  it("coerces \"False\" and \"True\" strings for boolean attributes", () => {
    expect(patchUser(alice, { op: "Replace", path: "active", value: "False" })["active"]).toBe(false);
    expect(patchUser({ ...alice, active: false }, { op: "Replace", path: "active", value: "True" })["active"]).toBe(true);
  });

  it("coerces a \"True\" primary on a filtered path", () => {
    const out = patchUser({ userName: "bob" }, { op: "Add", path: 'phoneNumbers[type eq "work"].primary', value: "True" });
    expect(out["phoneNumbers"]).toEqual([{ type: "work", primary: true }]);
  });

  it("removes members given as a value array with $ref null", () => {
    const result = patchGroup({ op: "Remove", path: "members", value: [{ $ref: null, value: "u1" }, { $ref: null, value: "u2" }] });
    expect(result.memberOps).toEqual([{ kind: "remove", ids: ["u1", "u2"] }]);
  });

  it("adds members given as a value array with $ref null", () => {
    expect(patchGroup({ op: "Add", path: "members", value: [{ $ref: null, value: "u1" }] }).memberOps).toEqual([{ kind: "add", ids: ["u1"] }]);
  });

  it("stores manager sent as a plain string in a path-less value", () => {
    const out = patchUser(alice, { op: "Replace", value: { [`${ENT}:manager`]: "mgr-9" } });
    expect(out[ENT]).toEqual({ manager: { value: "mgr-9" } });
  });

  it("stores manager sent as a plain string inside a nested extension object", () => {
    const out = patchUser(alice, { op: "Add", value: { [ENT]: { manager: "mgr-9" } } });
    expect(out[ENT]).toEqual({ manager: { value: "mgr-9" } });
  });

  it("coerces \"False\" in a path-less value", () => {
    expect(patchUser(alice, { op: "Replace", value: { active: "False" } })["active"]).toBe(false);
  });
});

describe("Entra aadOptscim062020 dialect", () => {
  it("accepts lower-case ops and real booleans", () => {
    expect(patchUser(alice, { op: "replace", path: "active", value: false })["active"]).toBe(false);
  });

  it("removes a member with members[value eq \"id\"]", () => {
    expect(patchGroup({ op: "remove", path: 'members[value eq "7a9b"]' }).memberOps).toEqual([{ kind: "remove", ids: ["7a9b"] }]);
  });

  it("applies a path-less replace with dotted and URN-qualified keys", () => {
    const out = patchUser(alice, {
      op: "replace",
      value: {
        displayName: "Kate K",
        "name.givenName": "Kate",
        "name.familyName": "Kuxnnvkhea",
        [`${ENT}:employeeNumber`]: "ygoibkzbbpgzn",
        [`${ENT}:department`]: "Sales",
        active: true,
      },
    });
    expect(out).toEqual({
      ...alice,
      displayName: "Kate K",
      name: { givenName: "Kate", familyName: "Kuxnnvkhea" },
      [ENT]: { employeeNumber: "ygoibkzbbpgzn", department: "Sales" },
    });
  });

  it("applies a filtered key inside a path-less value", () => {
    const out = patchUser({ userName: "bob" }, { op: "replace", value: { 'emails[type eq "work"].value': "bob@work.example" } });
    expect(out["emails"]).toEqual([{ type: "work", value: "bob@work.example" }]);
  });
});

describe("group members", () => {
  it.each(['members[Value eq "u1"]', 'members[VALUE eq "u1"]', 'members[ value   eq   "u1" ]'])("removes one member with the path %s", (path) => {
    expect(patchGroup({ op: "remove", path }).memberOps).toEqual([{ kind: "remove", ids: ["u1"] }]);
  });

  it("removes several members joined by or", () => {
    expect(patchGroup({ op: "remove", path: 'members[value eq "u1" or value eq "u2"]' }).memberOps).toEqual([{ kind: "remove", ids: ["u1", "u2"] }]);
  });

  it("removes all members when remove of members has no value", () => {
    expect(patchGroup({ op: "remove", path: "members" }).memberOps).toEqual([{ kind: "removeAll" }]);
  });

  it("removes nothing when remove of members has an empty value array", () => {
    expect(patchGroup({ op: "remove", path: "members", value: [] }).memberOps).toEqual([]);
  });

  it.each([[[]], [null]])("replace of members with %j replaces them with none", (value) => {
    expect(patchGroup({ op: "replace", path: "members", value }).memberOps).toEqual([{ kind: "replaceAll", ids: [] }]);
  });

  it("path-less replace whose value has members replaces them, and sets the other attributes", () => {
    const result = patchGroup({ op: "replace", value: { displayName: "Eng", members: [{ value: "u1" }, { value: "u2" }] } });
    expect(result.attributes).toEqual({ displayName: "Eng" });
    expect(result.memberOps).toEqual([{ kind: "replaceAll", ids: ["u1", "u2"] }]);
  });

  it("path-less add whose value has members adds them", () => {
    expect(patchGroup({ op: "add", value: { members: [{ value: "u1" }] } }).memberOps).toEqual([{ kind: "add", ids: ["u1"] }]);
  });

  it("de-duplicates ids within one add", () => {
    expect(patchGroup({ op: "add", path: "members", value: [{ value: "u1" }, { value: "u1" }] }).memberOps).toEqual([{ kind: "add", ids: ["u1"] }]);
  });

  it("passes any other members filter through as removeMatching", () => {
    const [op] = patchGroup({ op: "remove", path: 'members[display sw "Bob"]' }).memberOps;
    expect(op?.kind).toBe("removeMatching");
  });

  it.each([
    ["a number", [{ value: 7 }]],
    ["missing", [{ display: "Bob" }]],
    ["empty", [{ value: "" }]],
    ["not an object", ["u1"]],
  ])("rejects a member value that is %s with invalidValue", (_, value) => {
    expect(codeOf(() => patchGroup({ op: "add", path: "members", value }))).toBe("invalidValue");
  });

  it("rejects add or replace with a members filter, and member sub-attribute paths, with invalidPath", () => {
    expect(codeOf(() => patchGroup({ op: "add", path: 'members[value eq "u1"]', value: [{ value: "u1" }] }))).toBe("invalidPath");
    expect(codeOf(() => patchGroup({ op: "replace", path: "members.value", value: "u1" }))).toBe("invalidPath");
  });

  it("rejects members on a User with invalidPath", () => {
    expect(codeOf(() => patchUser(alice, { op: "add", path: "members", value: [{ value: "u1" }] }))).toBe("invalidPath");
  });
});

describe("atomicity", () => {
  it("throws on a bad second operation and leaves the stored attributes unchanged", () => {
    const current = structuredClone(alice);
    const ops = normalizePatchRequest(
      body({ op: "replace", path: "displayName", value: "Changed" }, { op: "replace", path: "active", value: "not a boolean" }),
      userResource,
    );
    expect(() => applyPatch(userResource, current, ops)).toThrow(BridgeError);
    expect(current).toEqual(alice);
  });

  it("throws on a bad member op after a good attribute op, returning nothing", () => {
    const current = { displayName: "Eng" };
    const ops = normalizePatchRequest(
      body({ op: "replace", path: "displayName", value: "Changed" }, { op: "add", path: "members", value: [{ value: 1 }] }),
      groupResource,
    );
    expect(codeOf(() => applyPatch(groupResource, current, ops))).toBe("invalidValue");
    expect(current).toEqual({ displayName: "Eng" });
  });

  it("never mutates the stored attributes, even nested ones", () => {
    const current: JsonObject = frozen(structuredClone({ ...alice, [ENT]: { manager: { value: "m" } } }));
    const ops = normalizePatchRequest(
      body(
        { op: "add", path: "emails", value: [{ value: "x@y.example", primary: true }] },
        { op: "replace", path: "name.givenName", value: "Z" },
        { op: "replace", path: `${ENT}:manager.value`, value: "n" },
      ),
      userResource,
    );
    const { attributes } = applyPatch(userResource, current, ops);
    expect(attributes["name"]).toEqual({ givenName: "Z", familyName: "Smith" });
    expect(current["name"]).toEqual({ givenName: "Alice", familyName: "Smith" });
  });

  it("applies operations in order, each seeing the result of the one before", () => {
    const out = patchUser(
      { userName: "bob" },
      { op: "add", path: "title", value: "A" },
      { op: "remove", path: "title" },
      { op: "add", path: "nickName", value: "B" },
      { op: "replace", path: "nickName", value: "C" },
    );
    expect(out).toEqual({ userName: "bob", nickName: "C" });
  });
});
