/**
 * The contract test's JSON Schema validator, tested on its own: each keyword it claims to check
 * accepts what the spec accepts and rejects what it rejects, and it refuses schemas it cannot check.
 */
import { describe, expect, it } from "vitest";
import { unsupportedKeywords, UnsupportedSchemaError, validate } from "../support/json-schema.js";

const ok = (schema: unknown, value: unknown, root?: unknown) => expect(validate(schema, value, root), JSON.stringify(value)).toEqual([]);
const bad = (schema: unknown, value: unknown, message: RegExp, root?: unknown) => {
  const errors = validate(schema, value, root);
  expect(errors.length, `${JSON.stringify(value)} should fail`).toBeGreaterThan(0);
  expect(errors.map((e) => e.message).join("; ")).toMatch(message);
};

describe("JSON Schema subset validator", () => {
  it("checks type, one or a list, with integer as a whole number", () => {
    ok({ type: "integer" }, 3);
    bad({ type: "integer" }, 3.5, /expected integer, got number/);
    ok({ type: "number" }, 3.5);
    bad({ type: "number" }, "3", /expected number, got string/);
    ok({ type: ["string", "null"] }, null);
    ok({ type: ["string", "null"] }, "x");
    bad({ type: ["string", "null"] }, 0, /expected string or null/);
    bad({ type: "object" }, [], /got array/);
    bad({ type: "array" }, {}, /got object/);
    bad({ type: "null" }, undefined, /expected null/);
    ok({ type: "boolean" }, false);
  });

  it("checks enum and const by JSON equality", () => {
    ok({ enum: ["open", "done"] }, "open");
    bad({ enum: ["open", "done"] }, "Open", /one of "open", "done"/);
    ok({ const: { a: [1, 2] } }, { a: [1, 2] });
    bad({ const: { a: [1, 2] } }, { a: [2, 1] }, /expected/);
    bad({ const: "about:blank" }, "about:blank2", /expected "about:blank"/);
  });

  it("checks required and additionalProperties, and applies object keywords to objects only", () => {
    const s = { type: ["object", "null"], required: ["id"], additionalProperties: false, properties: { id: { type: "integer" } } };
    ok(s, { id: 1 });
    ok(s, null);
    bad(s, {}, /missing required property "id"/);
    bad(s, { id: 1, extra: true }, /unexpected property "extra"/);
    bad(s, { id: "1" }, /expected integer/);
    ok({ additionalProperties: { type: "integer" } }, { a: 1, b: 2 });
    bad({ additionalProperties: { type: "integer" } }, { a: 1, b: "2" }, /expected integer/);
    expect(validate({ properties: { a: { properties: { b: { type: "string" } } } } }, { a: { b: 1 } })[0]!.path).toBe("/a/b");
  });

  it("checks arrays: items, minItems, maxItems, contains", () => {
    ok({ items: { type: "string" }, minItems: 1 }, ["a"]);
    bad({ items: { type: "string" }, minItems: 1 }, [], /fewer than 1/);
    bad({ maxItems: 1 }, [1, 2], /more than 1/);
    expect(validate({ items: { type: "string" } }, ["a", 2])[0]!.path).toBe("/1");
    ok({ contains: { const: "x" } }, ["a", "x"]);
    bad({ contains: { const: "x" } }, ["a"], /no item matches/);
  });

  it("checks numbers and strings: minimum, maximum, minLength, maxLength, pattern, format date-time", () => {
    ok({ minimum: 1, maximum: 3 }, 3);
    bad({ minimum: 1 }, 0, /below the minimum/);
    bad({ maximum: 3 }, 4, /above the maximum/);
    ok({ minLength: 1, maxLength: 2 }, "ab");
    bad({ minLength: 1 }, "", /shorter than 1/);
    bad({ maxLength: 2 }, "abc", /longer than 2/);
    ok({ maxLength: 1 }, "🙂"); // characters, not UTF-16 units
    ok({ pattern: "^a" }, "abc");
    bad({ pattern: "^a" }, "cab", /does not match/);
    ok({ format: "date-time" }, "2026-11-23T19:46:24.123Z");
    ok({ format: "date-time" }, "2026-11-23T19:46:24+01:00");
    bad({ format: "date-time" }, "2026-11-23", /not an RFC 3339 date-time/);
    bad({ format: "date-time" }, "2026-13-45T99:00:00Z", /not an RFC 3339 date-time/);
    ok({ type: ["string", "null"], format: "date-time" }, null);
  });

  it("checks oneOf (exactly one), anyOf and allOf", () => {
    const one = { oneOf: [{ type: "integer" }, { type: "number" }] };
    ok(one, 1.5);
    bad(one, 1, /matches 2 of `oneOf`/);
    bad(one, "1", /matches 0 of `oneOf`/);
    ok({ anyOf: [{ type: "integer" }, { type: "null" }] }, null);
    bad({ anyOf: [{ type: "integer" }, { type: "null" }] }, "x", /none of `anyOf`/);
    bad({ allOf: [{ type: "integer" }, { minimum: 5 }] }, 4, /below the minimum/);
  });

  it("follows local $refs (JSON pointers, escaped) and applies their siblings too", () => {
    const root = { components: { schemas: { "Id/Key": { type: "integer" }, Obj: { type: "object", required: ["a"] } } } };
    ok({ $ref: "#/components/schemas/Id~1Key" }, 1, root);
    bad({ $ref: "#/components/schemas/Id~1Key" }, "1", /expected integer/, root);
    bad({ $ref: "#/components/schemas/Obj", required: ["b"] }, { a: 1 }, /missing required property "b"/, root);
    expect(() => validate({ $ref: "#/components/schemas/Nope" }, 1, root)).toThrow(UnsupportedSchemaError);
    expect(() => validate({ $ref: "other.yaml#/x" }, 1, root)).toThrow(/only local \$ref/);
  });

  it("treats true, false and {} as schemas, and ignores annotations", () => {
    ok(true, { anything: 1 });
    ok({}, [1, "x"]);
    bad(false, 1, /no value is allowed/);
    ok({ type: "string", description: "d", example: "e", examples: ["e"], default: "x", title: "t", readOnly: true, deprecated: false }, "s");
  });

  it("refuses a keyword or a format it does not check, rather than passing silently", () => {
    expect(() => validate({ patternProperties: { "^a": {} } }, {})).toThrow(UnsupportedSchemaError);
    expect(() => validate({ nullable: true, type: "string" }, "x")).toThrow(/keyword "nullable"/);
    expect(() => validate({ format: "email" }, "a@b.c")).toThrow(/format "email"/);
    expect(() => validate({ type: "decimal" }, 1)).toThrow(/unknown type/);
    const root = { s: { properties: { a: { discriminator: {} }, b: { $ref: "#/t" } } }, t: { format: "uri" } };
    expect(unsupportedKeywords(root.s, root)).toEqual(["#/properties/a: discriminator", "#/t: format uri"]);
  });
});
