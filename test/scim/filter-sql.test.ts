import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../src/db/database.js";
import { BridgeError } from "../../src/errors.js";
import { parseFilter } from "../../src/scim/filter/parse.js";
import { filterToSql } from "../../src/scim/filter/sql.js";
import { groupResource, userResource, type ResourceSchema } from "../../src/scim/schema.js";
import { seed, type UserSpec } from "./filter-fixture.js";

const base: UserSpec = {
  userName: "x",
  active: true,
  emails: [],
  phones: [],
  createdMs: Date.UTC(2024, 0, 1),
  updatedDeltaMs: 1000,
  version: 1,
};

let db: Db;

beforeEach(() => {
  db = openDatabase(":memory:");
  seed(db, {
    users: [
      { ...base, userName: "BJensen", title: "Tour Guide", externalId: "ext-1", emails: [{ value: "BJ@Example.com", type: "work", primary: true }] },
      { ...base, userName: "jsmith", emails: [{ type: "work" }, { value: "js@home.org", type: "home" }] },
      { ...base, userName: "nobody", active: false, createdMs: Date.UTC(2025, 5, 1) },
    ],
    groups: [{ displayName: "Admins", externalId: "g-ext", members: [0, 1], version: 1 }],
  });
});

afterEach(() => db.close());

function select(text: string, resource: ResourceSchema = userResource): string[] {
  const { where, params } = filterToSql(parseFilter(text, resource), resource);
  const [alias, table, name] = resource.name === "User" ? ["u", "users", "user_name"] : ["g", "groups", "display_name"];
  const rows = db.prepare(`SELECT ${alias}.${name} AS name FROM ${table} ${alias} WHERE ${where} ORDER BY ${alias}.pk`).all(...params);
  return (rows as { name: string }[]).map((r) => r.name);
}

function plan(text: string, resource: ResourceSchema = userResource): string[] {
  const { where, params } = filterToSql(parseFilter(text, resource), resource);
  const [alias, table] = resource.name === "User" ? ["u", "users"] : ["g", "groups"];
  const rows = db.prepare(`EXPLAIN QUERY PLAN SELECT ${alias}.id FROM ${table} ${alias} WHERE ${where}`).all(...params);
  return (rows as { detail: string }[]).map((r) => r.detail);
}

describe("filterToSql", () => {
  it("looks userName up by its folded key column", () => {
    expect(filterToSql(parseFilter(`userName eq "BJensen"`, userResource), userResource)).toEqual({
      where: "u.user_name_key = ?",
      params: ["bjensen"],
    });
    expect(select(`USERNAME EQ "bjENSEN"`)).toEqual(["BJensen"]);
  });

  it("answers Entra's email lookup from user_emails", () => {
    const { where, params } = filterToSql(parseFilter(`emails[type eq "work"].value eq "bj@example.COM"`, userResource), userResource);
    expect(where).toBe("u.pk IN (SELECT ue.user_pk FROM user_emails ue WHERE (ue.type_key IS ?) AND (ue.value_key = ?))");
    expect(params).toEqual(["work", "bj@example.com"]);
    expect(select(`emails[type eq "work"].value eq "bj@example.COM"`)).toEqual(["BJensen"]);
  });

  it("matches a user without the attribute under not and ne (two-valued leaves)", () => {
    expect(select(`not (title eq "Tour Guide")`)).toEqual(["jsmith", "nobody"]);
    expect(select(`title ne "Tour Guide"`)).toEqual(["jsmith", "nobody"]);
    expect(select(`not (title co "Guide")`)).toEqual(["jsmith", "nobody"]);
    expect(select(`not (externalId eq "ext-1")`)).toEqual(["jsmith", "nobody"]);
    expect(select(`not (emails.value eq "js@home.org")`)).toEqual(["BJensen", "nobody"]);
  });

  it("finds an element without a value that user_emails has no row for", () => {
    expect(select(`emails[type eq "work" and not (value pr)]`)).toEqual(["jsmith"]);
    expect(select(`emails[type eq "work"]`)).toEqual(["BJensen", "jsmith"]);
  });

  it("treats co, gt and friends on an absent attribute as false, and pr as false for it", () => {
    expect(select(`title co ""`)).toEqual(["BJensen"]);
    expect(select(`title lt "zzz"`)).toEqual(["BJensen"]);
    expect(select(`title pr`)).toEqual(["BJensen"]);
    expect(select(`title eq null`)).toEqual(["jsmith", "nobody"]);
  });

  it("compares booleans and dateTimes", () => {
    expect(select(`active eq false`)).toEqual(["nobody"]);
    expect(select(`active eq "True"`)).toEqual(["BJensen", "jsmith"]);
    expect(select(`meta.created gt "2025-01-01T00:00:00+01:00"`)).toEqual(["nobody"]);
    expect(select(`emails[primary eq true]`)).toEqual(["BJensen"]);
  });

  it("filters users by group and groups by member", () => {
    expect(select(`groups.display eq "ADMINS"`)).toEqual(["BJensen", "jsmith"]);
    expect(select(`members.display eq "bjensen"`, groupResource)).toEqual(["Admins"]);
    expect(select(`members[value eq "us1x"]`, groupResource)).toEqual(["Admins"]);
    expect(select(`not (members pr)`, groupResource)).toEqual([]);
  });

  it("refuses to filter on URLs the database cannot know", () => {
    for (const text of [`meta.location eq "x"`, `groups.$ref eq "x"`]) {
      expect(() => filterToSql(parseFilter(text, userResource), userResource)).toThrow(BridgeError);
    }
  });

  it("binds values as parameters, never as SQL text", () => {
    const { where, params } = filterToSql(parseFilter(`title eq "x' OR 1=1 --" or name.givenName sw "\\""`, userResource), userResource);
    expect(where).not.toContain("OR 1=1");
    expect(params).toContain("x' or 1=1 --");
    expect(select(`title eq "x' OR 1=1 --"`)).toEqual([]);
  });

  it("keeps a 400-term or-chain within SQLite's expression depth", () => {
    const text = Array.from({ length: 400 }, (_, i) => `userName eq "u${i}"`).join(" or ");
    expect(select(`${text} or userName eq "jsmith"`)).toEqual(["jsmith"]);
  });
});

describe("filterToSql index use (EXPLAIN QUERY PLAN)", () => {
  const cases: [string, ResourceSchema, RegExp][] = [
    [`userName eq "bjensen"`, userResource, /SEARCH u USING (COVERING )?INDEX sqlite_autoindex_users_2 \(user_name_key=\?\)/],
    [`id eq "us0x"`, userResource, /SEARCH u USING (COVERING )?INDEX sqlite_autoindex_users_1 \(id=\?\)/],
    [`externalId eq "ext-1"`, userResource, /SEARCH u USING INDEX users_external_id \(external_id=\?\)/],
    [`emails.value eq "bj@example.com"`, userResource, /SEARCH ue USING INDEX user_emails_value \(value_key=\?\)/],
    [`emails[type eq "work"].value eq "bj@example.com"`, userResource, /SEARCH ue USING INDEX user_emails_value \(value_key=\?\)/],
    [`emails[value eq "bj@example.com" and type eq "work"]`, userResource, /SEARCH ue USING INDEX user_emails_value \(value_key=\?\)/],
    [`displayName eq "Admins"`, groupResource, /SEARCH g USING INDEX groups_display_name \(display_name_key=\?\)/],
    [`externalId eq "g-ext"`, groupResource, /SEARCH g USING INDEX groups_external_id \(external_id=\?\)/],
    [`members.value eq "us0x"`, groupResource, /SEARCH mu USING (COVERING )?INDEX sqlite_autoindex_users_1 \(id=\?\)/],
    [`userName eq "a" or externalId eq "b"`, userResource, /MULTI-INDEX OR/],
  ];
  it.each(cases)("%s uses an index", (text, resource, expected) => {
    const detail = plan(text, resource);
    expect(detail.join("\n")).toMatch(expected);
    expect(detail.filter((d) => /^SCAN (u|g)\b/.test(d))).toEqual([]);
  });
});
