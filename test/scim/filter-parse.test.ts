import { describe, expect, it } from "vitest";
import { BridgeError } from "../../src/errors.js";
import type { Filter, PatchPath } from "../../src/scim/filter/ast.js";
import { MAX_FILTER_LENGTH, parseFilter, parsePatchPath } from "../../src/scim/filter/parse.js";
import { ENTERPRISE_USER, groupResource, userResource } from "../../src/scim/schema.js";

/** A compact, fully parenthesised rendering of the AST with canonical attribute names. */
function show(f: Filter): string {
  switch (f.kind) {
    case "and":
    case "or":
      return `(${show(f.left)} ${f.kind} ${show(f.right)})`;
    case "not":
      return `not ${show(f.operand)}`;
    case "present":
      return `${name(f.attr.resolved)} pr`;
    case "compare":
      return `${name(f.attr.resolved)} ${f.op} ${JSON.stringify(f.value)}`;
    case "valuePath":
      return `${name(f.attr.resolved)}[${show(f.filter)}]`;
  }
}

function name(p: { schema: string | null; attribute: { name: string }; sub?: { name: string } }): string {
  const prefix = p.schema === ENTERPRISE_USER ? "ent:" : "";
  return `${prefix}${p.attribute.name}${p.sub ? `.${p.sub.name}` : ""}`;
}

const user = (text: string): string => show(parseFilter(text, userResource));
const group = (text: string): string => show(parseFilter(text, groupResource));

function failure(run: () => unknown): BridgeError {
  try {
    run();
  } catch (e: unknown) {
    if (e instanceof BridgeError) return e;
    throw new Error("expected a BridgeError", { cause: e });
  }
  throw new Error("expected the parse to fail");
}

describe("parseFilter", () => {
  it("parses every comparison operator, in any case", () => {
    for (const op of ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]) {
      expect(user(`userName ${op} "bjensen"`)).toBe(`userName ${op} "bjensen"`);
      expect(user(`userName ${op.toUpperCase()} "bjensen"`)).toBe(`userName ${op} "bjensen"`);
    }
    expect(user(`title Eq "x"`)).toBe(`title eq "x"`);
    expect(user("title PR")).toBe("title pr");
  });

  it("matches attribute names case-insensitively and reports them with schema casing", () => {
    expect(user(`USERNAME eq "a"`)).toBe(`userName eq "a"`);
    expect(user(`name.FAMILYNAME sw "J"`)).toBe(`name.familyName sw "J"`);
    expect(user(`Meta.LastModified gt "2011-05-13T04:42:34Z"`)).toBe(`meta.lastModified gt "2011-05-13T04:42:34.000Z"`);
  });

  it("reads an unquoted compare value as a string, and as a date where the attribute is a dateTime", () => {
    expect(user(`userName sw O`)).toBe(`userName sw "O"`);
    expect(user(`userName eq title`)).toBe(`userName eq "title"`);
    expect(user(`userName eq bjensen@example.com`)).toBe(`userName eq "bjensen@example.com"`);
    expect(user(`name.familyName eq O'Malley`)).toBe(`name.familyName eq "O'Malley"`);
    expect(user(`meta.created gt 2015-10-10T14:38:21Z`)).toBe(`meta.created gt "2015-10-10T14:38:21.000Z"`);
    expect(user(`meta.lastModified ge 2015-10-10T16:38:21+02:00`)).toBe(`meta.lastModified ge "2015-10-10T14:38:21.000Z"`);
    expect(user(`name.familyName eq Employee and (emails.type eq work)`)).toBe(`(name.familyName eq "Employee" and emails.type eq "work")`);
    expect(user(`emails[type eq work]`)).toBe(`emails[emails.type eq "work"]`);
    expect(user(`externalId eq 2819c223-7f76-453a-919d-413861904646`)).toBe(`externalId eq "2819c223-7f76-453a-919d-413861904646"`);
    expect(user(`userName eq -x`)).toBe(`userName eq "-x"`);
  });

  it("keeps true, false, null and numbers as JSON literals when unquoted", () => {
    expect(user(`active eq True`)).toBe(`active eq true`);
    expect(user(`title eq null`)).toBe(`not title pr`);
    expect(user(`externalId eq 42`)).toBe(`externalId eq "42"`);
    expect(user(`emails[primary eq false]`)).toBe(`emails[emails.primary eq false]`);
  });

  it("binds and tighter than or", () => {
    expect(user(`title pr or userName eq "a" and active eq true`)).toBe(`(title pr or (userName eq "a" and active eq true))`);
    expect(user(`title pr and userName eq "a" or active eq true`)).toBe(`((title pr and userName eq "a") or active eq true)`);
  });

  it("lets parentheses override precedence", () => {
    expect(user(`(title pr or userName eq "a") and active eq true`)).toBe(`((title pr or userName eq "a") and active eq true)`);
  });

  it("parses not with its parenthesised operand, keywords in any case", () => {
    expect(user(`not (title eq "x")`)).toBe(`not title eq "x"`);
    expect(user(`NOT(title eq "x") AND Not (active eq false)`)).toBe(`(not title eq "x" and not active eq false)`);
  });

  it("resolves URN-qualified core and extension attributes, dots in the URN included", () => {
    expect(user(`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`)).toBe(`userName eq "a"`);
    expect(user(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"`)).toBe(
      `ent:employeeNumber eq "42"`,
    );
    expect(user(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"`)).toBe(
      `ent:manager.value eq "m1"`,
    );
    expect(user(`URN:IETF:params:scim:schemas:core:2.0:user:name.givenName pr`)).toBe(`name.givenName pr`);
  });

  it("parses value paths with sub-attribute comparisons inside", () => {
    expect(user(`emails[type eq "work" and primary eq true]`)).toBe(`emails[(emails.type eq "work" and emails.primary eq true)]`);
    expect(user(`emails[not (type eq "home")] and title pr`)).toBe(`(emails[not emails.type eq "home"] and title pr)`);
    expect(group(`members[value eq "u1"]`)).toBe(`members[members.value eq "u1"]`);
  });

  it("reads Entra's emails[type eq \"work\"].value eq form as one element test", () => {
    expect(user(`emails[type eq "work"].value eq "x@y"`)).toBe(`emails[(emails.type eq "work" and emails.value eq "x@y")]`);
    expect(user(`emails[type eq "work"].VALUE pr`)).toBe(`emails[(emails.type eq "work" and emails.value pr)]`);
  });

  it("compares a multi-valued attribute by its value sub-attribute", () => {
    expect(user(`emails eq "x@y"`)).toBe(`emails.value eq "x@y"`);
    expect(user(`emails.value eq "x@y"`)).toBe(`emails.value eq "x@y"`);
    expect(user(`emails pr`)).toBe(`emails pr`);
  });

  it("decodes JSON literals: escapes, numbers, true/false/null in any case", () => {
    expect(user(`userName eq "a\\"b\\\\c\\u00e9\\n"`)).toBe(`userName eq ${JSON.stringify('a"b\\cé\n')}`);
    expect(user(`active eq TRUE`)).toBe(`active eq true`);
    expect(user(`active eq False`)).toBe(`active eq false`);
    expect(user(`active eq "True"`)).toBe(`active eq true`);
    // A number for a string attribute means its text, as on input (coerce.ts).
    expect(user(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 1.50e2`)).toBe(
      `ent:employeeNumber eq "1.50e2"`,
    );
  });

  it("reads eq null as not present and ne null as present (RFC 7643 §2.5)", () => {
    expect(user(`title eq null`)).toBe(`not title pr`);
    expect(user(`title ne NULL`)).toBe(`title pr`);
  });

  it("normalises dateTime literals to the stored toISOString() form", () => {
    expect(user(`meta.created ge "2024-01-02T03:04:05+01:00"`)).toBe(`meta.created ge "2024-01-02T02:04:05.000Z"`);
  });

  it("keeps long or-chains shallow", () => {
    const text = Array.from({ length: 600 }, (_, i) => `id eq "u${i}"`).join(" or ");
    let depth = 0;
    let f: Filter = parseFilter(text, userResource);
    while (f.kind === "or") {
      f = f.left;
      depth++;
    }
    expect(depth).toBeLessThanOrEqual(10);
  });

  it("parses group filters", () => {
    expect(group(`displayName eq "Admins" or externalId eq "e1"`)).toBe(`(displayName eq "Admins" or externalId eq "e1")`);
    expect(group(`members.value eq "u1"`)).toBe(`members.value eq "u1"`);
  });

  const bad: [string, string, RegExp][] = [
    ["unterminated string", `userName eq "abc`, /unterminated string at position 12/],
    ["bad escape", `userName eq "a\\qb"`, /malformed string literal/],
    ["unknown attribute", `nickname2 eq "x"`, /unknown attribute "nickname2"/],
    ["unknown sub-attribute", `name.middle eq "x"`, /unknown attribute "name.middle"/],
    ["unknown attribute in a value filter", `emails[kind eq "work"]`, /"emails" has no sub-attribute "kind"/],
    ["unknown extension attribute", `${ENTERPRISE_USER}:shoeSize eq 3`, /unknown attribute/],
    ["group attribute on a user", `members.value eq "x"`, /unknown attribute "members.value" for User/],
    ["missing operand", `userName eq`, /expected a value after "eq", found the end of the input/],
    ["missing operator", `userName "x"`, /expected an operator/],
    ["unknown operator", `userName like "x"`, /expected an operator .* found "like"/],
    ["pr with a value", `title pr "x"`, /"pr" takes no value/],
    ["trailing garbage", `title pr xyz`, /unexpected "xyz" at position 9/],
    ["trailing parenthesis", `title pr)`, /unexpected "\)"/],
    ["unclosed parenthesis", `(title pr`, /expected "\)"/],
    ["unclosed bracket", `emails[type eq "work"`, /expected "\]"/],
    ["dangling and", `title pr and`, /expected an attribute name, found the end/],
    ["not without parentheses", `not title pr`, /expected "\(" after "not"/],
    ["empty", `   `, /is empty/],
    ["gt on a boolean", `active gt true`, /"gt" cannot be used on the boolean attribute "active"/],
    ["le on a boolean sub-attribute", `emails[primary le false]`, /"le" cannot be used on the boolean/],
    ["co on a boolean", `active co true`, /"co" cannot be used on the boolean/],
    ["sw on a dateTime", `meta.created sw "2020"`, /"sw" cannot be used on the dateTime/],
    ["a number for a boolean", `active eq 1`, /not a valid boolean value/],
    ["a word for a boolean", `active eq "yes"`, /not a valid boolean value/],
    ["an invalid date", `meta.lastModified gt "yesterday"`, /not a valid xsd:dateTime/],
    ["complex attribute compared directly", `name eq "x"`, /"name" is a complex attribute/],
    ["gt null", `title gt null`, /null can only be compared with eq or ne/],
    ["nested value filters", `emails[type eq "a" and type[value pr]]`, /cannot be nested/],
    ["value filter on a simple attribute", `userName[value eq "x"]`, /not a complex attribute/],
    ["a keyword as an unquoted value", `title eq and userName pr`, /expected a value after "eq", found "and" \(write a value that is a keyword in quotes/],
    ["an operator as an unquoted value", `title eq pr`, /expected a value after "eq", found "pr"/],
    ["an unquoted value that is no date", `meta.created gt yesterday`, /"yesterday" is not a valid xsd:dateTime/],
    ["an unquoted value that is no boolean", `active eq yes`, /not a valid boolean value/],
    ["stray character", `userName eq "a" & title pr`, /unexpected character "&"/],
    ["Entra form without operator", `emails[type eq "work"].value`, /expected an operator/],
  ];
  it.each(bad)("refuses %s with invalidFilter", (_what, text, message) => {
    const e = failure(() => parseFilter(text, userResource));
    expect(e.code).toBe("invalidFilter");
    expect(e.message).toMatch(message);
  });

  it("refuses a nesting bomb without overflowing the stack", () => {
    for (const text of [`${"(".repeat(5000)}title pr${")".repeat(5000)}`, `${"not (".repeat(3000)}title pr${")".repeat(3000)}`]) {
      const e = failure(() => parseFilter(text.slice(0, MAX_FILTER_LENGTH), userResource));
      expect(e.code).toBe("invalidFilter");
      expect(e.message).toMatch(/nested more than 50 levels/);
    }
    expect(user(`${"(".repeat(50)}title pr${")".repeat(50)}`)).toBe("title pr");
  });

  it("refuses filters over the length limit", () => {
    const e = failure(() => parseFilter(`userName eq "${"a".repeat(MAX_FILTER_LENGTH)}"`, userResource));
    expect(e.code).toBe("invalidFilter");
    expect(e.message).toMatch(/limit is 10000/);
  });
});

describe("parsePatchPath", () => {
  const path = (text: string): string => {
    const p: PatchPath = parsePatchPath(text, userResource);
    return `${name({ schema: p.schema, attribute: p.attribute })}${p.filter ? `[${show(p.filter)}]` : ""}${p.sub ? `.${p.sub.name}` : ""}`;
  };

  it("parses simple, sub-attribute and URN-qualified paths", () => {
    expect(path("userName")).toBe("userName");
    expect(path("NAME.givenname")).toBe("name.givenName");
    expect(path(`${ENTERPRISE_USER}:manager`)).toBe("ent:manager");
    expect(path(`${ENTERPRISE_USER}:manager.value`)).toBe("ent:manager.value");
    expect(path(`urn:ietf:params:scim:schemas:core:2.0:User:emails`)).toBe("emails");
    expect(path("emails.value")).toBe("emails.value");
  });

  it("parses value filters with and without a trailing sub-attribute", () => {
    expect(path(`emails[type eq "work"]`)).toBe(`emails[emails.type eq "work"]`);
    expect(path(`emails[type eq "work" and primary eq true].value`)).toBe(
      `emails[(emails.type eq "work" and emails.primary eq true)].value`,
    );
    const p = parsePatchPath(`members[value eq "2819c223"]`, groupResource);
    expect(p.attribute.name).toBe("members");
    expect(p.filter && show(p.filter)).toBe(`members.value eq "2819c223"`);
  });

  it("keeps the schema of the path", () => {
    expect(parsePatchPath("id", userResource).schema).toBeNull();
    expect(parsePatchPath("title", userResource).schema).toBe(userResource.core.id);
    expect(parsePatchPath(`${ENTERPRISE_USER}:department`, userResource).schema).toBe(ENTERPRISE_USER);
  });

  const bad: [string, string, RegExp][] = [
    ["unknown attribute", "shoeSize", /unknown attribute "shoeSize"/],
    ["unknown sub-attribute after a filter", `emails[type eq "work"].colour`, /no sub-attribute "colour"/],
    ["unknown attribute in the filter", `emails[kind eq "work"]`, /no sub-attribute "kind"/],
    ["unterminated filter", `emails[type eq "work"`, /expected "\]"/],
    ["unterminated string", `emails[type eq "work]`, /unterminated string/],
    ["trailing garbage", `emails[type eq "work"] value`, /unexpected "value"/],
    ["filter on a simple attribute", `userName[value eq "x"]`, /not a complex attribute/],
    ["bare schema URN", ENTERPRISE_USER, /unknown attribute/],
    ["empty", "", /is empty/],
    ["gt on a boolean in the filter", `emails[primary gt true]`, /"gt" cannot be used/],
  ];
  it.each(bad)("refuses %s with invalidPath", (_what, text, message) => {
    const e = failure(() => parsePatchPath(text, userResource));
    expect(e.code).toBe("invalidPath");
    expect(e.message).toMatch(message);
  });
});
