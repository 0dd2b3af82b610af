/**
 * Translates a parsed filter into a parameterised SQLite WHERE fragment over `users u` or
 * `groups g` (tables in db/migrations.ts). It must select exactly the resources evaluate.ts
 * matches; test/scim/filter-sql.property.test.ts checks that on random data and filters.
 *
 * - Values only ever travel as parameters. The only text spliced into SQL is column names and
 *   JSON paths built from the schema's own attribute names (checked by jsonPath()).
 * - Every leaf is two-valued (IS, COALESCE(…, 0), IN, EXISTS), so `not (title eq "x")` matches a
 *   user without a title as RFC 7644 §3.4.2.2 wants, despite SQL's three-valued logic.
 * - Hot lookups hit indexes: userName → users.user_name_key, emails → user_emails.value_key,
 *   members.value → users.id, displayName → groups.display_name_key, id, externalId.
 * - meta.location and $ref are absolute URLs built from the request (render.ts); the database
 *   cannot see them, so filtering on them is refused rather than answered wrongly.
 */
import { fold } from "../../domain/folding.js";
import { BridgeError } from "../../errors.js";
import type { AttributeDef, ResolvedPath, ResourceSchema } from "../schema.js";
import type { CompareOp, Filter, Literal } from "./ast.js";

export interface SqlWhere {
  readonly where: string;
  readonly params: unknown[];
}

export function filterToSql(filter: Filter, resource: ResourceSchema): SqlWhere {
  const f = rowSql(filter, tableOf(resource));
  return { where: f.sql, params: [...f.params] };
}

/**
 * A value filter over one member of a group (`members[display sw "B"]`, RFC 7644 §3.5.2.2), as SQL
 * over `users mu`: the bridge removes such members with one query instead of loading the group.
 */
export function memberFilterSql(filter: Filter): SqlWhere {
  try {
    const f = elementSql(filter, groupMembers);
    return { where: f.sql, params: [...f.params] };
  } catch (e: unknown) {
    // The filter came in a PATCH path, so a refused one is that path's error (RFC 7644 §3.12).
    if (e instanceof BridgeError && e.code === "invalidFilter") throw new BridgeError("invalidPath", e.message, { cause: e });
    throw e;
  }
}

interface Frag {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** An SQL expression for one attribute value: as stored, and/or already folded (a *_key column). */
interface Operand {
  readonly raw?: string;
  readonly folded?: string;
  /** True when the expression is never NULL, so `=` may be used and the index stays usable. */
  readonly nonNull: boolean;
}

/** The elements of a multi-valued attribute as SQL rows. */
interface Elements {
  /** "Some element satisfies pred" (RFC 7644 §3.4.2.2: multi-valued comparisons match any value). */
  some(pred: Frag): Frag;
  /** A sub-attribute of the current element, or the element itself for a simple multi-valued attribute. */
  operand(sub: AttributeDef | undefined): Operand;
}

interface Table {
  readonly resource: ResourceSchema;
  readonly alias: "u" | "g";
  /** Core attributes that have their own column. */
  readonly columns: ReadonlyMap<string, Operand>;
  /** Multi-valued attributes stored in their own tables; `filter` is what will be asked of them. */
  elements(path: ResolvedPath, filter: Filter): Elements;
}

const TRUE: Frag = { sql: "1", params: [] };

function tableOf(resource: ResourceSchema): Table {
  if (resource.name === "User") {
    return {
      resource,
      alias: "u",
      columns: new Map<string, Operand>([
        ["userName", { raw: "u.user_name", folded: "u.user_name_key", nonNull: true }],
        // `active` is read from the data, not the users.active column: a removed (unassigned) `active`
        // is stored as 0 there for provisioning, but is not `active eq false` nor `active pr` (RFC 7643 §2.5).
      ]),
      elements(path, filter) {
        if (path.schema === resource.core.id && path.attribute.name === "groups") return userGroups;
        if (path.schema === resource.core.id && path.attribute.name === "emails" && emailRowsAnswer(filter)) return emailRows;
        return jsonElements("u", path, resource);
      },
    };
  }
  return {
    resource,
    alias: "g",
    columns: new Map<string, Operand>([
      ["displayName", { raw: "g.display_name", folded: "g.display_name_key", nonNull: true }],
    ]),
    elements(path) {
      if (path.schema === resource.core.id && path.attribute.name === "members") return groupMembers;
      return jsonElements("g", path, resource);
    },
  };
}

// ---- row level ------------------------------------------------------------------------------

function rowSql(f: Filter, t: Table): Frag {
  switch (f.kind) {
    case "and":
    case "or":
      return join(f.kind === "and" ? "AND" : "OR", rowSql(f.left, t), rowSql(f.right, t));
    case "not":
      return not(rowSql(f.operand, t));
    case "present":
    case "compare": {
      // `ne` is `not eq` over the whole attribute: no element equals the value.
      if (f.kind === "compare" && f.op === "ne") return not(rowSql({ ...f, op: "eq" }, t));
      const path = f.attr.resolved;
      if (path.attribute.multiValued) return rowElements(path, f, t);
      if (f.kind === "compare") return compareSql(f.attr.resolved, scalar(path, t), f.op, f.value);
      if (!path.sub && path.attribute.type === "complex") return containerPresent(path, t);
      return presentSql(path, scalar(path, t));
    }
    case "valuePath":
      return rowElements(f.attr.resolved, f.filter, t);
  }
}

/** `emails.value eq "x"` is `emails[value eq "x"]`; `emails pr` asks for any element at all. */
function rowElements(path: ResolvedPath, filter: Filter, t: Table): Frag {
  const elements = path.attribute.multiValued ? t.elements(path, filter) : containerElements(path, t);
  if (filter.kind === "present" && !filter.attr.resolved.sub) return elements.some(TRUE);
  return elements.some(elementSql(filter, elements));
}

/** A filter over one element; its attribute references name sub-attributes of that element. */
function elementSql(f: Filter, elements: Elements): Frag {
  switch (f.kind) {
    case "and":
    case "or":
      return join(f.kind === "and" ? "AND" : "OR", elementSql(f.left, elements), elementSql(f.right, elements));
    case "not":
      return not(elementSql(f.operand, elements));
    case "present":
      return presentSql(f.attr.resolved, elements.operand(f.attr.resolved.sub));
    case "compare":
      return compareSql(f.attr.resolved, elements.operand(f.attr.resolved.sub), f.op, f.value);
    case "valuePath":
      throw new Error("a value filter cannot be nested inside another (the parser refuses it)");
  }
}

// ---- leaves ---------------------------------------------------------------------------------

function compareSql(path: ResolvedPath, operand: Operand, op: CompareOp, literal: Literal): Frag {
  // `ne` is exactly `not eq`: true when the attribute is absent (RFC 7643 §2.5).
  if (op === "ne") return not(compareSql(path, operand, "eq", literal));
  const def = path.sub ?? path.attribute;
  const folds = !def.caseExact && isStringType(def);
  const x = folds ? (operand.folded ?? `scim_fold(${required(operand.raw)})`) : required(operand.raw);
  const value = typeof literal === "boolean" ? (literal ? 1 : 0) : folds && typeof literal === "string" ? fold(literal) : literal;
  if (op === "eq") return { sql: operand.nonNull ? `${x} = ?` : `${x} IS ?`, params: [value] };
  if (op === "co" || op === "sw" || op === "ew") {
    // Every string contains, starts and ends with "" (and SQLite's substr() of an empty BLOB is NULL).
    if (value === "") return { sql: `${x} IS NOT NULL`, params: [] };
    // Byte-wise on UTF-8: exact with NUL characters too, and byte and code-point matches agree in UTF-8.
    // COALESCE even for NOT NULL columns: substr() and instr() give NULL for an empty BLOB.
    const bytes = typeof value === "string" ? Buffer.byteLength(value, "utf8") : 0;
    if (op === "co") return { sql: `COALESCE(instr(CAST(${x} AS BLOB), CAST(? AS BLOB)) > 0, 0)`, params: [value] };
    if (op === "sw") return { sql: `COALESCE(substr(CAST(${x} AS BLOB), 1, ?) = CAST(? AS BLOB), 0)`, params: [bytes, value] };
    return { sql: `COALESCE(substr(CAST(${x} AS BLOB), ?) = CAST(? AS BLOB), 0)`, params: [-bytes, value] };
  }
  // TEXT compares by memcmp of UTF-8, i.e. by code point (evaluate.ts compareCodePoints).
  const sql = `${x} ${ORDERING_SQL[op]} ?`;
  return { sql: operand.nonNull ? sql : `COALESCE(${sql}, 0)`, params: [value] };
}

const ORDERING_SQL: Readonly<Record<"gt" | "ge" | "lt" | "le", string>> = { gt: ">", ge: ">=", lt: "<", le: "<=" };

/** `pr`: a value other than null, and for strings other than "" (RFC 7643 §2.5). */
function presentSql(path: ResolvedPath, operand: Operand): Frag {
  const def = path.sub ?? path.attribute;
  const x = required(operand.raw ?? operand.folded);
  if (!isStringType(def)) return { sql: `${x} IS NOT NULL`, params: [] };
  return { sql: operand.nonNull ? `${x} <> ''` : `COALESCE(${x} <> '', 0)`, params: [] };
}

// ---- where values live ----------------------------------------------------------------------

/** A single-valued attribute or sub-attribute: a column, meta, or a path into the `data` JSON. */
function scalar(path: ResolvedPath, t: Table): Operand {
  const a = t.alias;
  if (path.schema === null) {
    if (path.attribute.name === "id") return { raw: `${a}.id`, nonNull: true };
    if (path.attribute.name === "externalId") return { raw: `${a}.external_id`, nonNull: false };
    switch (path.sub?.name) {
      case "created":
        return { raw: `${a}.created_at`, nonNull: true };
      case "lastModified":
        return { raw: `${a}.updated_at`, nonNull: true };
      case "version":
        return { raw: `('W/"' || ${a}.version || '"')`, nonNull: true };
      case "resourceType":
        return { raw: `'${t.resource.name}'`, nonNull: true };
      case "location":
        throw notFilterable("meta.location");
    }
    throw new Error(`no storage for ${path.attribute.name}.${path.sub?.name ?? ""}`);
  }
  const column = path.schema === t.resource.core.id && !path.sub ? t.columns.get(path.attribute.name) : undefined;
  return column ?? { raw: `json_extract(${a}.data, '${dataPath(path, t)}')`, nonNull: false };
}

function containerPresent(path: ResolvedPath, t: Table): Frag {
  if (path.schema === null) return TRUE; // meta is always there
  // A non-empty object: RFC 7643 §2.5 treats {} as unassigned, as evaluate.ts does.
  return { sql: `EXISTS (SELECT 1 FROM json_each(${t.alias}.data, '${dataPath(path, t)}'))`, params: [] };
}

/** A value filter on a single-valued complex attribute (`name[givenName sw "B"]`) sees it as one element. */
function containerElements(path: ResolvedPath, t: Table): Elements {
  // meta always exists; other complex attributes only when the data JSON holds an object there.
  const exists: Frag =
    path.schema === null ? TRUE : { sql: `COALESCE(json_type(${t.alias}.data, '${dataPath(path, t)}') = 'object', 0)`, params: [] };
  return {
    some: (pred) => join("AND", exists, pred),
    operand: (sub) => scalar(sub ? { ...path, sub } : path, t),
  };
}

/** Elements of a multi-valued attribute kept in the `data` JSON. */
function jsonElements(alias: "u" | "g", path: ResolvedPath, resource: ResourceSchema): Elements {
  const complex = path.attribute.type === "complex";
  const array = dataPath({ schema: path.schema, attribute: path.attribute }, { resource });
  const where = complex ? "e.type = 'object' AND " : "";
  return {
    some: (pred) => ({
      sql: `EXISTS (SELECT 1 FROM json_each(${alias}.data, '${array}') e WHERE ${where}(${pred.sql}))`,
      params: pred.params,
    }),
    operand: (sub) =>
      sub
        ? { raw: `json_extract(CASE e.type WHEN 'object' THEN e.value END, '${jsonPath([sub.name])}')`, nonNull: false }
        : { raw: "e.value", nonNull: false },
  };
}

/**
 * user_emails has one row per element of `emails` that has a string value (db/directory.ts):
 * value_key = fold(value), type_key = fold(type) or NULL, is_primary = (primary === true).
 * Elements without a value have no row, so the rows answer exactly those filters that are false
 * for such an element; `primary eq false` cannot be told from an absent primary (both 0).
 * Everything else reads the JSON.
 */
const emailRows: Elements = {
  some: (pred) => ({ sql: `u.pk IN (SELECT ue.user_pk FROM user_emails ue WHERE ${pred.sql})`, params: pred.params }),
  operand(sub) {
    switch (sub?.name) {
      case "value":
        return { folded: "ue.value_key", nonNull: true };
      case "type":
        return { folded: "ue.type_key", nonNull: false };
      case "primary":
        return { raw: "ue.is_primary", nonNull: true };
    }
    throw new Error(`user_emails has no column for emails.${sub?.name ?? ""}`);
  },
};

function emailRowsAnswer(f: Filter): boolean {
  return emailColumnsSuffice(f) && needsValue(f);
}

function emailColumnsSuffice(f: Filter): boolean {
  switch (f.kind) {
    case "and":
    case "or":
      return emailColumnsSuffice(f.left) && emailColumnsSuffice(f.right);
    case "not":
      return emailColumnsSuffice(f.operand);
    case "valuePath":
      return false;
    case "present":
    case "compare": {
      const sub = f.attr.resolved.sub;
      if (sub?.name === "value" || sub?.name === "type") return !sub.caseExact;
      return f.kind === "compare" && sub?.name === "primary" && (f.op === "eq" || f.op === "ne") && f.value === true;
    }
  }
}

/** Whether f is false for every element without a value (conservative: `not` never counts). */
function needsValue(f: Filter): boolean {
  switch (f.kind) {
    case "and":
      return needsValue(f.left) || needsValue(f.right);
    case "or":
      return needsValue(f.left) && needsValue(f.right);
    case "present":
    case "compare":
      return f.attr.resolved.sub?.name === "value" && !(f.kind === "compare" && f.op === "ne");
    default:
      return false;
  }
}

/*
 * groups.value and members.value are caseExact=false (RFC 7643 §8.7.1) but hold ids, which the
 * server assigns as lower-case UUIDs (db/directory.ts), so an id is its own folded form and the
 * lookup can use the id index instead of scim_fold(id).
 */

/** A user's groups (RFC 7643 §4.1.2) come from group_members; all are direct memberships. */
const userGroups: Elements = {
  some: (pred) => ({
    sql: `u.pk IN (SELECT gm.user_pk FROM group_members gm JOIN groups g ON g.pk = gm.group_pk WHERE ${pred.sql})`,
    params: pred.params,
  }),
  operand(sub) {
    switch (sub?.name) {
      case "value":
        return { raw: "g.id", folded: "g.id", nonNull: true };
      case "display":
        return { raw: "g.display_name", folded: "g.display_name_key", nonNull: true };
      case "type":
        return { raw: "'direct'", nonNull: true };
      case "$ref":
        throw notFilterable("groups.$ref");
    }
    throw new Error(`no storage for groups.${sub?.name ?? ""}`);
  },
};

/** A group's members (RFC 7643 §4.2); display is as the client sent it, else the member's displayName, else userName. */
const groupMembers: Elements = {
  some: (pred) => ({
    sql: `g.pk IN (SELECT gm.group_pk FROM group_members gm JOIN users mu ON mu.pk = gm.user_pk WHERE ${pred.sql})`,
    params: pred.params,
  }),
  operand(sub) {
    switch (sub?.name) {
      case "value":
        return { raw: "mu.id", folded: "mu.id", nonNull: true };
      case "display":
        return { raw: `COALESCE(gm.display, json_extract(mu.data, '$."displayName"'), mu.user_name)`, nonNull: true };
      case "type":
        return { raw: "'User'", nonNull: true };
      case "$ref":
        throw notFilterable("members.$ref");
    }
    throw new Error(`no storage for members.${sub?.name ?? ""}`);
  },
};

// ---- small pieces ---------------------------------------------------------------------------

/** JSON path of an attribute in `data`: extension attributes sit under their schema URN. */
function dataPath(path: ResolvedPath, t: Pick<Table, "resource">): string {
  const names = [path.attribute.name, ...(path.sub ? [path.sub.name] : [])];
  const extension = path.schema !== null && path.schema !== t.resource.core.id;
  return jsonPath(extension && path.schema !== null ? [path.schema, ...names] : names);
}

/** `$."a"."b"`; names come from the schema, and are checked so nothing else can reach the SQL text. */
function jsonPath(names: readonly string[]): string {
  for (const n of names) {
    if (!/^[A-Za-z0-9$_.:-]+$/.test(n)) throw new Error(`attribute name ${JSON.stringify(n)} cannot go in a JSON path`);
  }
  return `$${names.map((n) => `."${n}"`).join("")}`;
}

/** Absolute URLs built from the request's base URL (render.ts), which the database does not know. */
function notFilterable(name: string): BridgeError {
  return new BridgeError("invalidFilter", `Invalid filter: filtering on ${name} is not supported; filter on id instead`);
}

function isStringType(def: AttributeDef): boolean {
  return def.type === "string" || def.type === "reference" || def.type === "binary";
}

function required(expr: string | undefined): string {
  if (expr === undefined) throw new Error("no SQL expression for this comparison");
  return expr;
}

function join(op: "AND" | "OR", a: Frag, b: Frag): Frag {
  return { sql: `(${a.sql}) ${op} (${b.sql})`, params: [...a.params, ...b.params] };
}

function not(f: Frag): Frag {
  return { sql: `NOT (${f.sql})`, params: f.params };
}
