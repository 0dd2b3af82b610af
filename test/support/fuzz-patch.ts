/**
 * PATCH generators (RFC 7644 §3.5.2) in the three dialects the bridge meets (docs/vendor-facts.md): Okta's
 * lower-case operations and path-less `replace`, Entra's default one (capitalised `Add`/`Replace`/
 * `Remove`, "True"/"False" strings, member removal by value list), and Entra's aadOptscim062020
 * (URN-qualified and filtered keys in a path-less value, `members[value eq "id"]`), mixed with
 * random operations, paths and values. Member ids are resolved when the request is sent, so a
 * generated operation can name users that exist by then.
 */
import fc from "fast-check";
import { anyJson, nastyString } from "./fuzz-values.js";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** A member reference: an existing user chosen by index, an id no user has, or any text. */
export type MemberRef = { readonly pick: number } | { readonly unknown: true } | { readonly raw: string };
export type Resolve = (ref: MemberRef) => string;
/** An operation (or any JSON in its place) once member ids are known. */
export type OpTemplate = (resolve: Resolve) => unknown;

const memberRef: fc.Arbitrary<MemberRef> = fc.oneof(
  { weight: 6, arbitrary: fc.nat().map((pick) => ({ pick })) },
  { weight: 1, arbitrary: fc.constant({ unknown: true as const }) },
  { weight: 1, arbitrary: nastyString.map((raw) => ({ raw })) },
);

const opName = (name: "add" | "remove" | "replace", dialect: "okta" | "entra"): string => (dialect === "entra" ? name.charAt(0).toUpperCase() + name.slice(1) : name);
const dialect = fc.constantFrom<"okta" | "entra">("okta", "entra");
const text = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("Ada", "Grace Hopper", "ÉLAN", "straße", "", "😀") }, nastyString);
const bool = fc.constantFrom<unknown>(true, false, "True", "False", "false");

/** Paths that exist on a User, with a value of the right type. */
const userPathValue: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constantFrom("displayName", "title", "nickName", "name.givenName", "name.familyName", "externalId", "locale", "userType", "preferredLanguage", `${ENT}:employeeNumber`, `${ENT}:department`, "userName"), text),
  fc.tuple(fc.constant("active"), bool),
  fc.tuple(fc.constantFrom('emails[type eq "work"].value', 'emails[type eq "home"].value', "emails.value", 'phoneNumbers[type eq "mobile"].value', 'addresses[type eq "work"].locality'), text),
  fc.tuple(fc.constantFrom('emails[type eq "work"].primary', "emails.primary", 'emails[value co "@"].primary'), bool),
  fc.tuple(fc.constantFrom("emails", "phoneNumbers", "roles", "entitlements"), fc.array(fc.record({ value: text, type: fc.constantFrom("work", "home"), primary: fc.boolean() }, { requiredKeys: ["value"] }), { maxLength: 3 })),
  fc.tuple(fc.constantFrom(`${ENT}:manager`, "name", ENT), fc.oneof(text, fc.record({ value: text, givenName: text, employeeNumber: text }, { requiredKeys: [] }))),
);

/** Paths that are wrong: unknown, read-only, malformed filters, members on a User, overlong. */
const badPath = fc.constantFrom(
  "shoeSize", "id", "meta.created", "meta", "groups", "schemas", 'emails[type eq "work"', 'emails[type eq "work"]]', "emails[]", "emails.shoeSize",
  'members[value eq "x"]', "name.givenName.first", 'emails[type eq "work"].value.x', '"quoted"', "urn:example:unknown:attr", ".", "[", "emails[type eq]",
  `${"(".repeat(60)}`, "x".repeat(12_000), `emails[${"not (".repeat(60)}type eq "work"${")".repeat(60)}]`,
);

export const userOp: fc.Arbitrary<OpTemplate> = fc.oneof(
  // Okta: path-less replace of a few attributes; Entra aadOptscim062020 adds URN-qualified and filtered keys.
  fc.tuple(dialect, fc.array(userPathValue, { minLength: 1, maxLength: 4 })).map(([d, pairs]) => () => ({
    op: opName("replace", d),
    value: Object.fromEntries(pairs),
  })),
  fc.tuple(dialect, fc.constantFrom<"add" | "replace">("add", "replace"), userPathValue).map(([d, name, [path, value]]) => () => ({ op: opName(name, d), path, value })),
  fc.tuple(dialect, userPathValue).map(([d, [path]]) => () => ({ op: opName("remove", d), path })),
  // Random op, path and value, valid or not.
  fc.tuple(fc.constantFrom<unknown>("add", "remove", "replace", "Add", "REPLACE", "copy", "move", "", 42, null), fc.oneof(userPathValue.map(([p]) => p), badPath, nastyString, fc.constant(undefined)), fc.oneof(anyJson, fc.constant(undefined))).map(
    ([op, path, value]) => () => ({ op, ...(path === undefined ? {} : { path }), ...(value === undefined ? {} : { value }) }),
  ),
  fc.constant(() => ({ op: "remove" })),
  anyJson.map((v) => () => v),
);

const members = (refs: readonly MemberRef[], resolve: Resolve, entraRef: boolean): unknown[] =>
  refs.map((r) => (entraRef ? { $ref: null, value: resolve(r) } : { value: resolve(r) }));

export const groupOp: fc.Arbitrary<OpTemplate> = fc.oneof(
  // Okta: add members, replace all members, remove one by filter, rename with the echoed id.
  fc.tuple(dialect, fc.array(memberRef, { maxLength: 5 }), fc.boolean()).map(([d, refs, entraRef]) => (resolve: Resolve) => ({
    op: opName("add", d),
    path: "members",
    value: members(refs, resolve, entraRef),
  })),
  fc.array(memberRef, { maxLength: 5 }).map((refs) => (resolve: Resolve) => ({ op: "replace", path: "members", value: members(refs, resolve, false) })),
  fc.tuple(dialect, memberRef).map(([d, ref]) => (resolve: Resolve) => ({ op: opName("remove", d), path: `members[value eq ${JSON.stringify(resolve(ref))}]` })),
  // Entra's default dialect: remove members listed in the value.
  fc.array(memberRef, { maxLength: 5 }).map((refs) => (resolve: Resolve) => ({ op: "Remove", path: "members", value: members(refs, resolve, true) })),
  fc.tuple(dialect, text).map(([d, name]) => () => ({ op: opName("replace", d), value: { id: "echoed-id", displayName: name } })),
  fc.tuple(dialect, text, fc.constantFrom("displayName", "externalId")).map(([d, name, path]) => () => ({ op: opName("replace", d), path, value: name })),
  // Value filters other than a plain id, and removal of every member.
  fc.constantFrom('members[display sw "U"]', 'members[type eq "User"]', 'members[value eq "a" or value eq "b"]', 'members[not (display co "0")]', 'members[value pr]', 'members[display eq null]', "members").map(
    (path) => () => ({ op: "remove", path }),
  ),
  // Huge member lists: mostly real ids, maybe one that is not.
  fc.tuple(fc.integer({ min: 200, max: 2000 }), fc.boolean()).map(([n, ghost]) => (resolve: Resolve) => ({
    op: "add",
    path: "members",
    value: [...Array.from({ length: n }, (_, i) => ({ value: resolve({ pick: i }) })), ...(ghost ? [{ value: resolve({ unknown: true }) }] : [])],
  })),
  fc.tuple(fc.constantFrom<unknown>("add", "remove", "replace", "Add", "copy", 7), fc.oneof(fc.constantFrom("members", "members.value", 'members[value eq "x"].display', "displayName", "meta.version", "members[", "userName"), badPath, fc.constant(undefined)), anyJson).map(
    ([op, path, value]) => () => ({ op, ...(path === undefined ? {} : { path }), value }),
  ),
  fc.constant(() => ({ op: "remove" })),
);

/** The PatchOp envelope: right, or wrong in the ways that must be refused whole. */
export const envelope: fc.Arbitrary<(ops: unknown[]) => unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constant((ops: unknown[]) => ({ schemas: [PATCH_URN], Operations: ops })) },
  fc.constant((ops: unknown[]) => ({ schemas: [PATCH_URN], operations: ops })),
  fc.constant((ops: unknown[]) => ({ Operations: ops })),
  fc.constant((ops: unknown[]) => ({ schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], Operations: ops })),
  fc.constant(() => ({ schemas: [PATCH_URN], Operations: [] })),
  fc.constant((ops: unknown[]) => ({ schemas: [PATCH_URN], Operations: ops[0] })),
  fc.constant((ops: unknown[]) => ops),
);
