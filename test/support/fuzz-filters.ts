/**
 * Filter and list-parameter generators for the fuzz tests: random filter trees that are valid for
 * the resource type (RFC 7644 §3.4.2.2: operators fit the attribute's type), rendered as text in
 * random letter case, and mutations of that text that make it invalid in the ways clients do.
 * Each generated item says whether it is valid, so the test can insist that valid ones succeed.
 */
import fc from "fast-check";

export interface Generated {
  readonly text: string;
  readonly valid: boolean;
}

type Kind = "string" | "boolean" | "dateTime" | "complex";
type Attr = readonly [path: string, kind: Kind];

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const USER_ATTRS: readonly Attr[] = [
  ["userName", "string"], ["displayName", "string"], ["title", "string"], ["nickName", "string"], ["name.givenName", "string"],
  ["name.familyName", "string"], ["externalId", "string"], ["id", "string"], ["emails.value", "string"], ["emails.type", "string"],
  ["emails", "string"], ["phoneNumbers.value", "string"], ["groups.value", "string"], ["groups.display", "string"], ["groups", "string"],
  ["meta.version", "string"], ["meta.resourceType", "string"], [`${ENT}:employeeNumber`, "string"], [`${ENT}:manager.value`, "string"],
  ["urn:ietf:params:scim:schemas:core:2.0:User:userName", "string"], ["active", "boolean"], ["emails.primary", "boolean"],
  ["meta.created", "dateTime"], ["meta.lastModified", "dateTime"], ["name", "complex"], ["addresses", "complex"], ["meta", "complex"],
];
const GROUP_ATTRS: readonly Attr[] = [
  ["displayName", "string"], ["externalId", "string"], ["id", "string"], ["members.value", "string"], ["members.display", "string"],
  ["members", "string"], ["members.type", "string"], ["meta.version", "string"], ["meta.lastModified", "dateTime"], ["meta.created", "dateTime"],
];
/** Multi-valued or complex attributes that take a value filter, with the sub-attributes it may name. */
const USER_VALUE_PATHS: Record<string, readonly Attr[]> = {
  emails: [["value", "string"], ["type", "string"], ["display", "string"], ["primary", "boolean"]],
  phoneNumbers: [["value", "string"], ["type", "string"]],
  groups: [["value", "string"], ["display", "string"], ["type", "string"]],
  addresses: [["locality", "string"], ["country", "string"], ["primary", "boolean"]],
  name: [["givenName", "string"], ["familyName", "string"]],
};
const GROUP_VALUE_PATHS: Record<string, readonly Attr[]> = {
  members: [["value", "string"], ["display", "string"], ["type", "string"]],
};

const OPS: Record<Kind, readonly string[]> = {
  string: ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"],
  boolean: ["eq", "ne"],
  dateTime: ["eq", "ne", "gt", "ge", "lt", "le"],
  complex: [],
};

const recase = (s: string, m: number): string => (m === 1 ? s.toUpperCase() : m === 2 ? s.toLowerCase() : s);
const cased = (s: string): fc.Arbitrary<string> => fc.nat(2).map((m) => recase(s, m));

const stringLiteral = fc.oneof(
  fc.constantFrom("fuzz", "FUZZ.0@example.com", "", "a", "é", "😀", "work", "User", 'W/"1"', "\u0000", "%_*", "' OR 1=1 --"),
  fc.string({ maxLength: 6 }),
).map((s) => JSON.stringify(s));
const literalOf: Record<Kind, fc.Arbitrary<string>> = {
  string: fc.oneof({ weight: 5, arbitrary: stringLiteral }, fc.constantFrom("42", "-1.5e3", "true", "False")),
  boolean: fc.constantFrom("true", "false", "TRUE", "False", '"True"', '"false"'),
  dateTime: fc
    .date({ min: new Date("1970-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
    .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().replace("Z", "+02:00"), d.toISOString().slice(0, 10)))
    .map((s) => JSON.stringify(s)),
  complex: fc.constant("null"),
};

function leaf([path, kind]: Attr): fc.Arbitrary<string> {
  const present = cased(path).map((p) => `${p} pr`);
  const nulls = fc.tuple(cased(path), fc.constantFrom("eq", "ne")).map(([p, op]) => `${p} ${op} null`);
  if (kind === "complex") return fc.oneof(present, nulls);
  const compare = fc.tuple(cased(path), fc.constantFrom(...OPS[kind]).chain(cased), literalOf[kind]).map(([p, op, v]) => `${p} ${op} ${v}`);
  return fc.oneof({ weight: 5, arbitrary: compare }, present, nulls);
}

function tree(leaves: fc.Arbitrary<string>, maxDepth: number): fc.Arbitrary<string> {
  const { node } = fc.letrec<{ node: string }>((tie) => ({
    node: fc.oneof(
      { maxDepth, depthIdentifier: `fuzz-tree-${maxDepth}` },
      leaves,
      fc.tuple(tie("node"), fc.constantFrom("and", "or", "AND", "Or"), tie("node"), fc.boolean()).map(([l, op, r, p]) => (p ? `(${l}) ${op} (${r})` : `${l} ${op} ${r}`)),
      fc.tuple(tie("node"), fc.constantFrom("not", "NOT", "Not ")).map(([x, not]) => `${not}(${x})`),
    ),
  }));
  return node;
}

function valuePath(parent: string, subs: readonly Attr[]): fc.Arbitrary<string> {
  const inner = tree(fc.oneof(...subs.map(leaf)), 2);
  const simple = subs.filter(([, k]) => k !== "complex");
  return fc.oneof(
    fc.tuple(cased(parent), inner).map(([p, f]) => `${p}[${f}]`),
    // Entra's `emails[type eq "work"].value eq "x"`.
    fc.tuple(cased(parent), inner, fc.oneof(...simple.map(leaf))).map(([p, f, s]) => `${p}[${f}].${s}`),
  );
}

/** A valid filter for Users or Groups. */
export function validFilter(kind: "Users" | "Groups"): fc.Arbitrary<string> {
  const attrs = kind === "Users" ? USER_ATTRS : GROUP_ATTRS;
  const paths = kind === "Users" ? USER_VALUE_PATHS : GROUP_VALUE_PATHS;
  const leaves = fc.oneof({ weight: 4, arbitrary: fc.oneof(...attrs.map(leaf)) }, ...Object.entries(paths).map(([p, subs]) => valuePath(p, subs)));
  return tree(leaves, 3);
}

/** Ways clients break filter text: a character dropped or added, an unknown operator, too deep, too long. */
const breakText: fc.Arbitrary<(t: string) => string> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom('"', "(", ")", "[", "]", "\\", " and", " or ", "not ", ".", "'", "\u0000", "😀", "eq")).map(
    ([n, s]) => (t: string) => {
      const i = n % (t.length + 1);
      return t.slice(0, i) + s + t.slice(i);
    },
  ),
  fc.nat().map((n) => (t: string) => {
    const i = n % Math.max(1, t.length);
    return t.slice(0, i) + t.slice(i + 1);
  }),
  fc.constantFrom("is", "like", "eqq", "==", "in", "regex").map((op) => (t: string) => t.replace(/\b(eq|ne|co|sw|ew|gt|ge|lt|le)\b/i, op)),
  fc.integer({ min: 40, max: 200 }).map((n) => (t: string) => `${"(".repeat(n)}${t}${")".repeat(n)}`),
  fc.integer({ min: 40, max: 200 }).map((n) => (t: string) => `${"not (".repeat(n)}${t}${")".repeat(n)}`),
  fc.constant((t: string) => Array.from({ length: Math.ceil(10_500 / (t.length + 4)) }, () => t).join(" or ")),
  // Half a surrogate pair in a literal is refused (RFC 8259 §8.2), like invalid UTF-8 in a body.
  fc.constantFrom("", "   ", "()", "[]", "pr", 'userName eq "\\ud800"', "userName", "userName eq", 'eq "x"', "shoeSize eq 1", 'meta.location eq "x"', 'groups.$ref eq "x"', 'emails[emails[value eq "x"]]').map((s) => () => s),
);

/** A filter as sent: mostly valid, else broken. Whether it is still valid is unknown once broken. */
export function filterCase(kind: "Users" | "Groups"): fc.Arbitrary<Generated> {
  const valid = validFilter(kind);
  return fc.oneof(
    { weight: 3, arbitrary: valid.map((text) => ({ text, valid: true })) },
    { weight: 2, arbitrary: fc.tuple(valid, breakText).map(([t, f]) => ({ text: f(t), valid: false })) },
  );
}

const SORT_BY: Record<"Users" | "Groups", readonly string[]> = {
  Users: ["userName", "displayName", "emails.value", "name.familyName", "meta.created", "meta.lastModified", "externalId", "id", `${ENT}:employeeNumber`, "active", "title"],
  Groups: ["displayName", "externalId", "meta.lastModified", "id", "members.value"],
};
const ATTRIBUTE_NAMES: Record<"Users" | "Groups", readonly string[]> = {
  Users: ["userName", "emails", "emails.value", "name.givenName", "meta", "groups", "active", `${ENT}:manager`, `${ENT}:employeeNumber`, "id"],
  Groups: ["displayName", "members", "members.value", "meta", "externalId", "id"],
};

/** One list parameter: a valid value for `kind`, or a bad one. */
function param(valid: fc.Arbitrary<string>, invalid: fc.Arbitrary<string>): fc.Arbitrary<Generated | undefined> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: valid.map((text) => ({ text, valid: true })) },
    { weight: 1, arbitrary: invalid.map((text) => ({ text, valid: false })) },
  );
}

export interface ListParamsCase {
  readonly sortBy?: Generated | undefined;
  readonly sortOrder?: Generated | undefined;
  readonly startIndex?: Generated | undefined;
  readonly count?: Generated | undefined;
  readonly attributes?: Generated | undefined;
  readonly excludedAttributes?: Generated | undefined;
}

export function listParams(kind: "Users" | "Groups"): fc.Arbitrary<ListParamsCase> {
  const names = fc
    .tuple(fc.array(fc.constantFrom(...ATTRIBUTE_NAMES[kind]), { minLength: 1, maxLength: 4 }), fc.constantFrom(",", ", "))
    .map(([a, sep]) => a.join(sep));
  const integer = fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER, 1e21)).map(String);
  return fc.record({
    sortBy: param(fc.constantFrom(...SORT_BY[kind]).chain(cased), fc.constantFrom("shoeSize", "name", "emails", 'emails[type eq "work"]', "meta.location.x", "urn:x:y", "\u0000")),
    sortOrder: param(fc.constantFrom("ascending", "descending", "DESCENDING"), fc.constantFrom("sideways", "asc", "-1", "\ud800")),
    startIndex: param(integer, fc.constantFrom("abc", "1.5", "1e-3", "0x", "NaN", "Infinity", "--1")),
    count: param(integer, fc.constantFrom("ten", "2.5", "NaN", "-Infinity", "1,2")),
    attributes: param(names, fc.constantFrom("shoeSize", "userName,shoeSize", "emails.shoeSize", "urn:x:y:z")),
    excludedAttributes: param(names, fc.constantFrom("shoeSize", "name.x")),
  });
}
