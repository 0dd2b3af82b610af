import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/domain/json.js";
import { compareCodePoints, matchesElement, matchesFilter } from "../../src/scim/filter/evaluate.js";
import { parseFilter, parsePatchPath } from "../../src/scim/filter/parse.js";
import { ENTERPRISE_USER, groupResource, userResource } from "../../src/scim/schema.js";

const bjensen: JsonObject = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER],
  id: "2819c223",
  externalId: "Ext-1",
  userName: "BJensen",
  name: { givenName: "Barbara", familyName: "Jensen" },
  active: true,
  emails: [
    { value: "bjensen@example.com", type: "work", primary: true },
    { value: "babs@jensen.org", type: "home" },
  ],
  [ENTERPRISE_USER]: { employeeNumber: "701984", manager: { value: "26118915" } },
  groups: [{ value: "e9e30dba", display: "Tour Guides", $ref: "https://x/Groups/e9e30dba", type: "direct" }],
  meta: {
    resourceType: "User",
    created: "2010-01-23T04:56:22.000Z",
    lastModified: "2011-05-13T04:42:34.000Z",
    location: "https://x/Users/2819c223",
    version: 'W/"3"',
  },
};

const matches = (text: string, resource: JsonObject = bjensen): boolean => matchesFilter(parseFilter(text, userResource), resource);

describe("matchesFilter", () => {
  it("folds caseExact=false attributes and compares caseExact ones exactly", () => {
    expect(matches(`userName eq "bjensen"`)).toBe(true);
    expect(matches(`externalId eq "ext-1"`)).toBe(false);
    expect(matches(`externalId eq "Ext-1"`)).toBe(true);
    expect(matches(`id eq "2819C223"`)).toBe(false);
  });

  it("matches a multi-valued attribute when any element matches", () => {
    expect(matches(`emails.value ew "jensen.org"`)).toBe(true);
    expect(matches(`emails eq "BJENSEN@example.com"`)).toBe(true);
    expect(matches(`emails.type eq "other"`)).toBe(false);
  });

  it("requires one element to satisfy the whole value filter", () => {
    expect(matches(`emails[type eq "home" and value co "jensen.org"]`)).toBe(true);
    expect(matches(`emails[type eq "home" and primary eq true]`)).toBe(false);
    expect(matches(`emails.type eq "home" and emails.primary eq true`)).toBe(true);
    expect(matches(`emails[type eq "work"].value eq "bjensen@example.com"`)).toBe(true);
    expect(matches(`emails[type eq "home"].value eq "bjensen@example.com"`)).toBe(false);
  });

  it("reads extension attributes under their URN", () => {
    expect(matches(`${ENTERPRISE_USER}:employeeNumber eq "701984"`)).toBe(true);
    expect(matches(`${ENTERPRISE_USER}:manager.value eq "26118915"`)).toBe(true);
    expect(matches(`employeeNumber sw "70"`)).toBe(true);
  });

  it("treats ne as not eq, so it matches an absent attribute; other operators do not", () => {
    expect(matches(`title ne "x"`)).toBe(true);
    expect(matches(`title co ""`)).toBe(false);
    expect(matches(`title lt "zzz"`)).toBe(false);
    expect(matches(`not (title eq "x")`)).toBe(true);
  });

  it("applies pr to strings, complex and multi-valued attributes", () => {
    expect(matches(`name pr and emails pr and groups pr and meta pr`)).toBe(true);
    expect(matches(`title pr`)).toBe(false);
    expect(matches(`displayName pr`, { ...bjensen, displayName: "" })).toBe(false);
    expect(matches(`emails pr`, { ...bjensen, emails: [] })).toBe(false);
  });

  it("compares dateTimes after normalising the literal", () => {
    expect(matches(`meta.lastModified gt "2011-05-13T04:42:33Z"`)).toBe(true);
    expect(matches(`meta.lastModified eq "2011-05-13T06:42:34+02:00"`)).toBe(true);
    expect(matches(`meta.created ge "2011-01-01T00:00:00Z"`)).toBe(false);
  });

  it("compares booleans, Entra's string form included", () => {
    expect(matches(`active eq "True"`)).toBe(true);
    expect(matches(`active ne true`)).toBe(false);
  });

  it("orders strings by code point, as SQLite does", () => {
    // U+FF5E is above U+1F600's surrogates in UTF-16 but below it as a code point.
    const utf16Less = (a: string, b: string): boolean => a < b;
    expect(utf16Less("\uFF5E", "😀")).toBe(false);
    expect(compareCodePoints("\uFF5E", "😀")).toBeLessThan(0);
    expect(compareCodePoints("ab", "abc")).toBeLessThan(0);
    expect(compareCodePoints("😀b", "😀a")).toBeGreaterThan(0);
    expect(matches(`title lt "😀"`, { ...bjensen, title: "\uFF5E" })).toBe(true);
  });

  it("evaluates group filters on members", () => {
    const group: JsonObject = { id: "g1", displayName: "Admins", members: [{ value: "u1", display: "Babs", type: "User" }] };
    expect(matchesFilter(parseFilter(`members[display eq "babs"]`, groupResource), group)).toBe(true);
    expect(matchesFilter(parseFilter(`members.value eq "u2"`, groupResource), group)).toBe(false);
  });
});

describe("matchesElement", () => {
  it("evaluates a PATCH path's value filter against one element", () => {
    const path = parsePatchPath(`emails[type eq "WORK" and not (primary eq false)]`, userResource);
    if (!path.filter) throw new Error("expected a filter");
    expect(matchesElement(path.filter, { value: "a@b", type: "work", primary: true })).toBe(true);
    expect(matchesElement(path.filter, { value: "a@b", type: "work" })).toBe(true);
    expect(matchesElement(path.filter, { value: "a@b", type: "work", primary: false })).toBe(false);
    expect(matchesElement(path.filter, { value: "a@b", type: "home" })).toBe(false);
  });
});
