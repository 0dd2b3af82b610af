/**
 * The SQL translation and the in-memory evaluator must select exactly the same resources for
 * every filter: random users and groups go into a real SQLite database, random filters are
 * printed as text, parsed, and run both ways.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../src/db/database.js";
import type { Json, JsonObject } from "../../src/domain/json.js";
import { matchesFilter } from "../../src/scim/filter/evaluate.js";
import { parseFilter } from "../../src/scim/filter/parse.js";
import { filterToSql } from "../../src/scim/filter/sql.js";
import { ENTERPRISE_USER, groupResource, userResource, type ResourceSchema } from "../../src/scim/schema.js";
import { groupId, seed, userId, type Dataset, type EmailSpec, type GroupSpec, type UserSpec } from "./filter-fixture.js";

// Fixed so CI is reproducible; FILTER_SEED / FILTER_RUNS explore further locally.
const RUNS = Number(process.env["FILTER_RUNS"] ?? 250);
const SEED = Number(process.env["FILTER_SEED"] ?? 20261123);

// ---- data -----------------------------------------------------------------------------------

/** Mixed case, folds that change length (ß, İ), final sigma, astral and BMP-high characters, NUL, quotes. */
const CHARS = ["a", "b", "c", "A", "B", "é", "É", "ß", "ẞ", "İ", "ı", "Σ", "σ", "ς", "ǅ", "😀", "～", "𝒜", " ", "-", '"', "\\", "\u0000", "."];
const word = fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 6 }).map((a) => a.join(""));
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 3 });

const emailArb: fc.Arbitrary<EmailSpec> = fc.record({
  // Mostly present: an email without a value has no user_emails row, which the SQL must allow for.
  value: fc.option(fc.tuple(word, fc.constantFrom("@ex.com", "@EX.com", "@y.org")).map(([a, b]) => a + b), { nil: undefined, freq: 6 }),
  type: opt(fc.constantFrom("work", "Work", "home", "HOME", "other", "")),
  primary: opt(fc.boolean()),
  display: opt(word),
});

const userArb: fc.Arbitrary<UserSpec> = fc.record({
  userName: word,
  externalId: opt(word),
  givenName: opt(word),
  familyName: opt(word),
  displayName: opt(word),
  title: opt(word),
  // Unassigned too: a PATCH remove of active leaves none (stored inactive, yet neither `active eq false` nor `active pr`).
  active: opt(fc.boolean()),
  emails: fc.array(emailArb, { maxLength: 3 }),
  phones: fc.array(fc.record({ value: word, type: opt(fc.constantFrom("work", "Mobile")) }), { maxLength: 2 }),
  employeeNumber: opt(word),
  manager: opt(fc.constantFrom(userId(0), userId(1), "m-1")),
  createdMs: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2025, 0, 1) }),
  updatedDeltaMs: fc.integer({ min: 1, max: 1e9 }),
  version: fc.integer({ min: 1, max: 12 }),
});

const groupArb: fc.Arbitrary<GroupSpec> = fc.record({
  displayName: word,
  externalId: opt(word),
  members: fc.array(fc.nat({ max: 29 }), { maxLength: 8 }),
  version: fc.integer({ min: 1, max: 5 }),
});

const datasetArb: fc.Arbitrary<Dataset> = fc.record({
  // userName is unique after folding (users.user_name_key UNIQUE).
  users: fc.uniqueArray(userArb, { minLength: 10, maxLength: 30, selector: (u) => u.userName.toLowerCase() }),
  groups: fc.array(groupArb, { minLength: 1, maxLength: 5 }),
});

// ---- filter text ----------------------------------------------------------------------------

type Kind = "string" | "boolean" | "dateTime" | "complex";
interface Attr {
  readonly path: string;
  readonly kind: Kind;
  readonly pool: readonly string[];
}

const STRING_OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
const DATE_OPS = ["eq", "ne", "gt", "ge", "lt", "le"];

const recase = (s: string, mode: number): string => (mode === 1 ? s.toUpperCase() : mode === 2 ? s.toLowerCase() : s);
const nameOf = (path: string): fc.Arbitrary<string> => fc.nat(2).map((m) => recase(path, m));
const opOf = (ops: readonly string[]): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...ops), fc.nat(2)).map(([op, m]) => (m === 2 ? op.charAt(0).toUpperCase() + op.slice(1) : recase(op, m)));

function stringLiteral(pool: readonly string[]): fc.Arbitrary<string> {
  const values = pool.length > 0 ? pool : ["a"];
  return fc
    .oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...values), fc.nat(2)).map(([s, m]) => recase(s, m)) },
      {
        weight: 3,
        // A slice by code points, so co/sw/ew hit often.
        arbitrary: fc.tuple(fc.constantFrom(...values), fc.nat(), fc.nat(), fc.nat(2)).map(([s, i, j, m]) => {
          const cps = Array.from(s);
          const a = i % (cps.length + 1);
          return recase(cps.slice(a, a + (j % (cps.length - a + 1))).join(""), m);
        }),
      },
      { weight: 1, arbitrary: word },
      { weight: 1, arbitrary: fc.constant("") },
    )
    .map((s) => JSON.stringify(s));
}

function dateLiteral(pool: readonly string[]): fc.Arbitrary<string> {
  const values = pool.length > 0 ? pool : ["2022-06-01T00:00:00.000Z"];
  return fc
    .oneof(
      fc.tuple(fc.constantFrom(...values), fc.constantFrom(-1, 0, 0, 1)).map(([s, d]) => new Date(Date.parse(s) + d).toISOString()),
      fc.constantFrom(...values).map((s) => s.replace("Z", "+00:00")),
      fc.constant("2022-06-01T12:00:00+02:00"),
    )
    .map((s) => JSON.stringify(s));
}

const boolLiteral = fc.constantFrom("true", "false", "TRUE", "False", '"true"', '"False"');

function leaf(a: Attr): fc.Arbitrary<string> {
  const name = nameOf(a.path);
  const present = name.map((n) => `${n} pr`);
  const nullCompare = fc.tuple(name, opOf(["eq", "ne"])).map(([n, o]) => `${n} ${o} null`);
  const compare = (ops: readonly string[], literal: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.tuple(name, opOf(ops), literal).map(([n, o, l]) => `${n} ${o} ${l}`);
  switch (a.kind) {
    case "string":
      return fc.oneof({ weight: 6, arbitrary: compare(STRING_OPS, stringLiteral(a.pool)) }, present, nullCompare);
    case "boolean":
      return fc.oneof({ weight: 3, arbitrary: compare(["eq", "ne"], boolLiteral) }, present);
    case "dateTime":
      return fc.oneof({ weight: 4, arbitrary: compare(DATE_OPS, dateLiteral(a.pool)) }, present);
    case "complex":
      return fc.oneof(present, nullCompare);
  }
}

/** and / or (with or without parentheses, so precedence is exercised too) and not over `leaves`. */
function tree(leaves: fc.Arbitrary<string>, maxDepth: number): fc.Arbitrary<string> {
  const { node } = fc.letrec<{ node: string }>((tie) => ({
    node: fc.oneof(
      { maxDepth, depthIdentifier: `tree${maxDepth}`, withCrossShrink: true },
      leaves,
      fc
        .tuple(tie("node"), fc.constantFrom("and", "or", "AND", "Or"), tie("node"), fc.boolean())
        .map(([l, op, r, parens]) => (parens ? `(${l}) ${op} (${r})` : `${l} ${op} ${r}`)),
      fc.tuple(tie("node"), fc.constantFrom("not ", "NOT", "Not ")).map(([x, not]) => `${not}(${x})`),
    ),
  }));
  return node;
}

/** `parent[inner]`, and Entra's `parent[inner].sub op value`. */
function valuePaths(parent: string, subs: readonly Attr[]): fc.Arbitrary<string> {
  const inner = tree(fc.oneof(...subs.map(leaf)), 2);
  const name = nameOf(parent);
  return fc.oneof(
    fc.tuple(name, inner).map(([p, f]) => `${p}[${f}]`),
    fc.tuple(name, inner, fc.oneof(...subs.filter((s) => s.kind !== "complex").map(leaf))).map(([p, f, s]) => `${p}[${f}].${s}`),
  );
}

const textOf = (v: Json | undefined): string => (typeof v === "string" ? v : JSON.stringify(v));
const defined = (values: readonly (string | undefined)[]): string[] => values.filter((v): v is string => v !== undefined);

function userFilters(ds: Dataset, users: readonly JsonObject[]): fc.Arbitrary<string> {
  const u = ds.users;
  const emails = u.flatMap((x) => x.emails);
  const emailValues = defined(emails.map((e) => e.value));
  const types = defined(emails.map((e) => e.type));
  const metaOf = (key: string): string[] => users.map((r) => textOf((r["meta"] as JsonObject)[key]));
  const ent = ENTERPRISE_USER;
  const groupIds = ds.groups.map((_, i) => groupId(i));
  const groupNames = ds.groups.map((g) => g.displayName);
  const s = (path: string, pool: readonly string[]): Attr => ({ path, kind: "string", pool });
  const attrs: Attr[] = [
    s("userName", u.map((x) => x.userName)),
    s("urn:ietf:params:scim:schemas:core:2.0:User:userName", u.map((x) => x.userName)),
    s("displayName", defined(u.map((x) => x.displayName))),
    s("title", defined(u.map((x) => x.title))),
    s("name.givenName", defined(u.map((x) => x.givenName))),
    s("name.familyName", defined(u.map((x) => x.familyName))),
    s("externalId", defined(u.map((x) => x.externalId))),
    s("id", u.map((_, i) => userId(i))),
    s("emails.value", emailValues),
    s("emails", emailValues),
    s("emails.type", types),
    s("emails.display", defined(emails.map((e) => e.display))),
    s("phoneNumbers.value", u.flatMap((x) => x.phones.map((p) => p.value))),
    s("phoneNumbers.type", defined(u.flatMap((x) => x.phones.map((p) => p.type)))),
    s(`${ent}:employeeNumber`, defined(u.map((x) => x.employeeNumber))),
    s("employeeNumber", defined(u.map((x) => x.employeeNumber))),
    s(`${ent}:manager.value`, defined(u.map((x) => x.manager))),
    s(`${ent}:manager`, defined(u.map((x) => x.manager))),
    s("groups.value", groupIds),
    s("groups", groupIds),
    s("groups.display", groupNames),
    s("groups.type", ["direct"]),
    s("meta.version", metaOf("version")),
    s("meta.resourceType", ["User"]),
    { path: "active", kind: "boolean", pool: [] },
    { path: "emails.primary", kind: "boolean", pool: [] },
    { path: "meta.created", kind: "dateTime", pool: metaOf("created") },
    { path: "meta.lastModified", kind: "dateTime", pool: metaOf("lastModified") },
    ...["name", "emails", "phoneNumbers", "groups", "meta", `${ent}:manager`].map((path): Attr => ({ path, kind: "complex", pool: [] })),
  ];
  const emailSubs: Attr[] = [
    s("value", emailValues),
    s("type", types),
    s("display", defined(emails.map((e) => e.display))),
    { path: "primary", kind: "boolean", pool: [] },
  ];
  return tree(
    fc.oneof(
      { weight: 6, arbitrary: fc.oneof(...attrs.map(leaf)) },
      { weight: 2, arbitrary: valuePaths("emails", emailSubs) },
      valuePaths("phoneNumbers", [s("value", u.flatMap((x) => x.phones.map((p) => p.value))), s("type", ["work", "mobile"])]),
      valuePaths("groups", [s("value", groupIds), s("display", groupNames), s("type", ["direct"])]),
      valuePaths("name", [s("givenName", defined(u.map((x) => x.givenName))), s("familyName", defined(u.map((x) => x.familyName)))]),
      valuePaths(`${ent}:manager`, [s("value", defined(u.map((x) => x.manager)))]),
    ),
    3,
  );
}

function groupFilters(ds: Dataset, groups: readonly JsonObject[]): fc.Arbitrary<string> {
  const members = groups.flatMap((g) => g["members"] as JsonObject[]);
  const memberIds = members.map((m) => textOf(m["value"]));
  const memberNames = members.map((m) => textOf(m["display"]));
  const metaOf = (key: string): string[] => groups.map((r) => textOf((r["meta"] as JsonObject)[key]));
  const s = (path: string, pool: readonly string[]): Attr => ({ path, kind: "string", pool });
  const attrs: Attr[] = [
    s("displayName", ds.groups.map((g) => g.displayName)),
    s("externalId", defined(ds.groups.map((g) => g.externalId))),
    s("id", ds.groups.map((_, i) => groupId(i))),
    s("members.value", memberIds),
    s("members", memberIds),
    s("members.display", memberNames),
    s("members.type", ["User"]),
    s("meta.version", metaOf("version")),
    { path: "meta.lastModified", kind: "dateTime", pool: metaOf("lastModified") },
    { path: "members", kind: "complex", pool: [] },
  ];
  return tree(
    fc.oneof(
      { weight: 4, arbitrary: fc.oneof(...attrs.map(leaf)) },
      valuePaths("members", [s("value", memberIds), s("display", memberNames), s("type", ["User"])]),
    ),
    3,
  );
}

// ---- the check ------------------------------------------------------------------------------

interface Tally {
  filters: number;
  /** Filters that selected some but not all resources: evidence that literals hit real values. */
  discriminating: number;
}

function checkAgreement(db: Db, resource: ResourceSchema, resources: readonly JsonObject[], text: string, tally: Tally): void {
  const filter = parseFilter(text, resource);
  const { where, params } = filterToSql(filter, resource);
  const alias = resource.name === "User" ? "u" : "g";
  const table = resource.name === "User" ? "users" : "groups";
  const rows = db.prepare(`SELECT ${alias}.id AS id FROM ${table} ${alias} WHERE ${where}`).all(...params) as { id: string }[];
  const fromSql = rows.map((r) => r.id).sort();
  const fromMemory = resources.filter((r) => matchesFilter(filter, r)).map((r) => textOf(r["id"])).sort();
  expect(fromSql, `filter: ${text}\nwhere: ${where}\nparams: ${JSON.stringify(params)}`).toEqual(fromMemory);
  tally.filters++;
  if (fromSql.length > 0 && fromSql.length < resources.length) tally.discriminating++;
}

function runProperty(resource: ResourceSchema): Tally {
  const tally: Tally = { filters: 0, discriminating: 0 };
  const cases = datasetArb.chain((ds) => {
    // Build the served JSON once to draw literals (timestamps, versions, member names) from it.
    const db = openDatabase(":memory:");
    const seeded = seed(db, ds);
    db.close();
    const filters = resource.name === "User" ? userFilters(ds, seeded.users) : groupFilters(ds, seeded.groups);
    return fc.record({ ds: fc.constant(ds), filters: fc.array(filters, { minLength: 6, maxLength: 6 }) });
  });
  fc.assert(
    fc.property(cases, ({ ds, filters }) => {
      const db = openDatabase(":memory:");
      try {
        const seeded = seed(db, ds);
        const resources = resource.name === "User" ? seeded.users : seeded.groups;
        for (const text of filters) checkAgreement(db, resource, resources, text, tally);
      } finally {
        db.close();
      }
    }),
    { seed: SEED, numRuns: RUNS },
  );
  return tally;
}

describe("filterToSql agrees with matchesFilter", () => {
  it(`selects the same users for random filters (${RUNS} runs)`, () => {
    const tally = runProperty(userResource);
    expect(tally.discriminating / tally.filters).toBeGreaterThan(0.25);
  });

  it(`selects the same groups for random filters (${RUNS} runs)`, () => {
    const tally = runProperty(groupResource);
    expect(tally.discriminating / tally.filters).toBeGreaterThan(0.2);
  });
});
