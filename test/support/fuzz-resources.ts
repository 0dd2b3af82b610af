/**
 * Valid Users and Groups generated from the bridge's own schema definitions (every writable
 * attribute, sub-attribute and the enterprise extension, in the shapes RFC 7643 §4 gives them),
 * for the fuzz tests to send as they are or to mutate first.
 */
import fc from "fast-check";
import { enterpriseUserSchema, groupSchema, userSchema, type AttributeDef } from "../../src/scim/schema.js";

const WORDS = ["alpha", "Beta", "ÉLAN", "straße", "İstanbul", "😀", "o'brien", "x y", "a\"b", "back\\slash"];
const word = fc.oneof(fc.constantFrom(...WORDS), fc.string({ minLength: 1, maxLength: 8 }));

function scalarOf(def: AttributeDef): fc.Arbitrary<unknown> {
  switch (def.type) {
    case "boolean":
      // Entra sends booleans as "True"/"False" strings (docs/vendor-facts.md); both are valid input.
      return fc.oneof({ weight: 3, arbitrary: fc.boolean() }, fc.constantFrom("True", "False", "true"));
    case "dateTime":
      return fc.date({ min: new Date("2000-01-01"), max: new Date("2040-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
    case "integer":
      return fc.integer();
    case "decimal":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "reference":
      return word.map((w) => `https://example.com/${encodeURIComponent(w)}`);
    case "binary":
      return fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString("base64"));
    case "string":
      if (def.name === "value") return word.map((w) => `${w.replace(/\s/g, "")}@example.com`);
      if (def.name === "type") return fc.constantFrom("work", "home", "other", "Work");
      return word;
    case "complex":
      return complexOf(def);
  }
}

/** A complex value: any subset of its writable sub-attributes. `primary` is left to elementsOf. */
function complexOf(def: AttributeDef): fc.Arbitrary<Record<string, unknown>> {
  const subs = def.subAttributes.filter((s) => s.mutability !== "readOnly" && s.name !== "primary");
  const model = Object.fromEntries(subs.map((s) => [s.name, scalarOf(s)]));
  return fc.record(model, { requiredKeys: subs.some((s) => s.name === "value") ? ["value"] : [] });
}

/** 0–3 elements of a multi-valued attribute, at most one of them primary (RFC 7643 §2.4). */
function elementsOf(def: AttributeDef): fc.Arbitrary<unknown[]> {
  const hasPrimary = def.subByKey.has("primary");
  return fc.tuple(fc.array(scalarOf(def), { maxLength: 3 }), fc.nat(4)).map(([items, primary]) =>
    items.map((item, i) => (hasPrimary && i === primary && typeof item === "object" ? { ...item, primary: true } : item)),
  );
}

function attributesOf(defs: readonly AttributeDef[], skip: ReadonlySet<string>): fc.Arbitrary<Record<string, unknown>> {
  const writable = defs.filter((d) => d.mutability !== "readOnly" && !skip.has(d.name));
  const model = Object.fromEntries(writable.map((d) => [d.name, d.multiValued ? elementsOf(d) : scalarOf(d)]));
  return fc.record(model, { requiredKeys: [] });
}

/** A User with every attribute optional except `userName`, given by the caller so it can be made unique. */
export const validUser: fc.Arbitrary<(userName: string) => Record<string, unknown>> = fc
  .tuple(attributesOf(userSchema.attributes, new Set(["userName", "password", "groups"])), fc.option(attributesOf(enterpriseUserSchema.attributes, new Set()), { nil: undefined }), fc.option(word, { nil: undefined }))
  .map(([core, enterprise, externalId]) => (userName: string) => ({
    schemas: enterprise ? [userSchema.id, enterpriseUserSchema.id] : [userSchema.id],
    userName,
    ...(externalId === undefined ? {} : { externalId }),
    ...core,
    ...(enterprise ? { [enterpriseUserSchema.id]: enterprise } : {}),
  }));

/** A Group whose members the caller supplies (ids of real users, or not). */
export const validGroup: fc.Arbitrary<(members: readonly string[]) => Record<string, unknown>> = fc
  // displayName is required (RFC 7643 §4.2), and a blank one counts as missing.
  .tuple(word.map((w) => (w.trim() === "" ? `group${w}` : w)), fc.option(word, { nil: undefined }))
  .map(([displayName, externalId]) => (members: readonly string[]) => ({
    schemas: [groupSchema.id],
    displayName,
    ...(externalId === undefined ? {} : { externalId }),
    members: members.map((value) => ({ value })),
  }));
