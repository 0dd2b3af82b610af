/**
 * List and search parameters (RFC 7644 §3.4.2, §3.4.3): filter, sortBy/sortOrder,
 * startIndex/count paging and attribute projection, parsed once from a query string or a
 * SearchRequest body, then turned into one parameterised SQL query with paging done by SQLite.
 */
import { z } from "zod";
import { BridgeError } from "../errors.js";
import { parseFilter } from "./filter/parse.js";
import { filterToSql } from "./filter/sql.js";
import type { Walk } from "./cursor.js";
import { Projection } from "./projection.js";
import { ACCESS_EXTENSION, leafOf, LIST_RESPONSE, resolvePath, SEARCH_REQUEST, type ResourceSchema } from "./schema.js";

/** Largest page served; a larger `count` is cut to this (RFC 7644 §3.4.2.4 lets the server cap it). */
export const MAX_PAGE_SIZE = 1000;
/** Page size when the request gives no `count` (RFC 9865 §4 `defaultPageSize`). */
export const DEFAULT_PAGE_SIZE = 100;

export interface ListParams {
  readonly filter?: string | undefined;
  readonly sortBy?: string | undefined;
  readonly sortOrder?: string | undefined;
  readonly startIndex?: string | number | undefined;
  readonly count?: string | number | undefined;
  /** RFC 9865 §2: present (empty for the first page) asks for cursor paging instead of startIndex. */
  readonly cursor?: unknown;
  readonly attributes?: string | readonly string[] | undefined;
  readonly excludedAttributes?: string | readonly string[] | undefined;
}

export interface ListQuery {
  readonly where: string;
  readonly params: readonly unknown[];
  readonly orderBy: string;
  /** The sort key of `sortBy`; undefined for the default order, by pk (creation order). */
  readonly sort: SortSpec | undefined;
  /** The pk column, the tie-breaker of every order. */
  readonly pk: string;
  /** The `cursor` parameter as sent, when the request pages by cursor. */
  readonly cursor: unknown;
  /** 1-based, as on the wire. */
  readonly startIndex: number;
  readonly count: number;
  readonly projection: Projection;
}

function integerParam(raw: string | number | undefined, name: string): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(n)) throw new BridgeError("invalidValue", `${name} must be an integer`);
  return n;
}

const alias = (resource: ResourceSchema): string => (resource.name === "User" ? "u" : "g");

/** The SQL sort key of `sortBy` and its direction. */
export interface SortSpec {
  readonly expr: string;
  readonly nullable: boolean;
  readonly descending: boolean;
}

/**
 * ORDER BY of a list, or of its reverse (a page before a cursor, read backwards). Ties are always
 * broken by pk (insertion order), so paging is stable. RFC 7644 §3.4.2.3: resources with no value
 * for the attribute come last when ascending and first when descending, the opposite of SQLite's
 * default for NULL, hence the explicit NULLS clause.
 */
export function orderClause(q: Pick<ListQuery, "sort" | "pk">, reversed: boolean): string {
  const descending = (q.sort?.descending ?? false) !== reversed;
  const dir = descending ? "DESC" : "ASC";
  if (!q.sort) return `${q.pk} ${dir}`;
  const nulls = q.sort.nullable ? (descending ? " NULLS FIRST" : " NULLS LAST") : "";
  return `${q.sort.expr} ${dir}${nulls}, ${q.pk} ${dir}`;
}

/**
 * The rows strictly beyond a cursor's position in the walk's direction: the keyset condition that
 * replaces OFFSET (RFC 9865 pages). Ascending walks put rows without a value last, descending ones
 * first, matching orderClause; a row-value comparison with NULL is NULL, hence the IS NULL arms.
 */
export function keysetClause(q: Pick<ListQuery, "sort" | "pk">, walk: Walk): { sql: string; params: unknown[] } {
  const at = walk.at;
  if (!at) return { sql: "1", params: [] };
  const descending = (q.sort?.descending ?? false) !== walk.before;
  const op = descending ? "<" : ">";
  if (!q.sort) return { sql: `${q.pk} ${op} ?`, params: [at.pk] };
  const { expr, nullable } = q.sort;
  const key = at.key ?? null;
  if (key === null) {
    // Only a nullable key can be NULL; the NULL rows sit at the end of an ascending walk, at the start of a descending one.
    return descending ? { sql: `((${expr} IS NULL AND ${q.pk} < ?) OR ${expr} IS NOT NULL)`, params: [at.pk] } : { sql: `(${expr} IS NULL AND ${q.pk} > ?)`, params: [at.pk] };
  }
  const beyond = `(${expr}, ${q.pk}) ${op} (?, ?)`;
  return { sql: nullable && !descending ? `(${beyond} OR ${expr} IS NULL)` : beyond, params: [key, at.pk] };
}

/** The SQL value `sortBy` names; `nullable` is false for NOT NULL columns, whose index can then serve the sort. */
function sortExpression(resource: ResourceSchema, sortBy: string): { expr: string; nullable: boolean } {
  const p = resolvePath(resource, sortBy);
  if (!p) throw new BridgeError("invalidValue", `sortBy: unknown attribute "${sortBy}"`);
  if (p.schema === ACCESS_EXTENSION) throw new BridgeError("invalidValue", `sortBy: "${sortBy}" is computed by the bridge and cannot be sorted on`);
  const a = alias(resource);
  const leaf = leafOf(p);
  const key = `${p.attribute.name}${p.sub ? `.${p.sub.name}` : ""}`;
  const columns: Record<string, { expr: string; nullable: boolean }> = {
    id: { expr: `${a}.id`, nullable: false },
    externalId: { expr: `${a}.external_id`, nullable: true },
    "meta.created": { expr: `${a}.created_at`, nullable: false },
    "meta.lastModified": { expr: `${a}.updated_at`, nullable: false },
    userName: { expr: "u.user_name_key", nullable: false },
    displayName:
      resource.name === "Group"
        ? { expr: "g.display_name_key", nullable: false }
        : { expr: "scim_fold(json_extract(u.data, '$.displayName'))", nullable: true },
  };
  const column = columns[key];
  if (column) return column;
  if (leaf.type === "complex") throw new BridgeError("invalidValue", `sortBy: "${sortBy}" is complex; name a sub-attribute`);
  const container = p.schema === null || p.schema === resource.core.id ? "" : `."${p.schema}"`;
  const fold = (expr: string) => (leaf.type === "string" && !leaf.caseExact ? `scim_fold(${expr})` : expr);
  if (p.attribute.multiValued) {
    // RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary (else first) value.
    const sub = p.sub ? p.sub.name : "value";
    const expr = `(SELECT ${fold(`json_extract(e.value, '$.${sub}')`)} FROM json_each(${a}.data, '$${container}.${p.attribute.name}') e
             ORDER BY json_extract(e.value, '$.primary') = 1 DESC LIMIT 1)`;
    return { expr, nullable: true };
  }
  return { expr: fold(`json_extract(${a}.data, '$${container}.${key}')`), nullable: true };
}

export function parseListQuery(resource: ResourceSchema, raw: ListParams): ListQuery {
  const projection = Projection.parse(resource, raw.attributes, raw.excludedAttributes);
  let where = "1";
  let params: readonly unknown[] = [];
  if (raw.filter !== undefined && raw.filter.trim() !== "") {
    const sql = filterToSql(parseFilter(raw.filter, resource), resource);
    where = sql.where;
    params = sql.params;
  }
  const order = (raw.sortOrder ?? "ascending").toLowerCase();
  if (order !== "ascending" && order !== "descending") {
    throw new BridgeError("invalidValue", 'sortOrder must be "ascending" or "descending"');
  }
  const sort = raw.sortBy ? { ...sortExpression(resource, raw.sortBy), descending: order === "descending" } : undefined;
  const pk = `${alias(resource)}.pk`;
  const orderBy = orderClause({ sort, pk }, false);
  if (raw.cursor !== undefined && integerParam(raw.startIndex, "startIndex") !== undefined) {
    // RFC 9865 §2.3: the parameter a request sends chooses the method; both at once is a contradiction.
    throw new BridgeError("invalidValue", "startIndex and cursor cannot be used together: page by one or the other");
  }
  // RFC 7644 §3.4.2.4: startIndex below 1 is read as 1; a negative count as 0.
  // A startIndex past every page is valid and answers an empty page; beyond 2^53 SQLite cannot
  // take it as an OFFSET ("datatype mismatch"), and no directory is that large anyway.
  const startIndex = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, integerParam(raw.startIndex, "startIndex") ?? 1));
  const asked = integerParam(raw.count, "count");
  // RFC 9865 §2.1: a cursor page holds at least one resource (invalidCount below 1); above the
  // maximum it is cut to maxPageSize, as §4 and RFC 7644 §3.4.2.4 allow.
  if (raw.cursor !== undefined && asked !== undefined && asked < 1) {
    throw new BridgeError("invalidCount", `count must be between 1 and ${MAX_PAGE_SIZE} (maxPageSize) when paging by cursor`);
  }
  const count = Math.min(MAX_PAGE_SIZE, Math.max(0, asked ?? DEFAULT_PAGE_SIZE));
  return { where, params, orderBy, sort, pk, cursor: raw.cursor, startIndex, count, projection };
}

const stringOrList = z.union([z.string(), z.array(z.string())]);
const searchRequest = z
  .object({
    schemas: z.array(z.string()).optional(),
    filter: z.string().optional(),
    sortBy: z.string().optional(),
    sortOrder: z.string().optional(),
    startIndex: z.union([z.number(), z.string()]).optional(),
    count: z.union([z.number(), z.string()]).optional(),
    cursor: z.string().optional(),
    attributes: stringOrList.optional(),
    excludedAttributes: stringOrList.optional(),
  })
  .loose();

/** Parses a `POST /.search` body (RFC 7644 §3.4.3). */
export function parseSearchRequest(body: unknown): ListParams {
  const parsed = searchRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BridgeError("invalidSyntax", `SearchRequest: ${issue ? `${issue.path.join(".")} ${issue.message}` : "invalid body"}`);
  }
  const schemas = parsed.data.schemas;
  if (schemas && !schemas.includes(SEARCH_REQUEST)) {
    throw new BridgeError("invalidSyntax", `SearchRequest bodies must list the schema ${SEARCH_REQUEST}`);
  }
  return parsed.data;
}

/**
 * Runs a page query and its total. When the first page is not full, its length is the total, so
 * the common IdP lookup (`userName eq "x"`, one or zero hits) costs one query instead of two.
 */
export function runPage<T>(q: ListQuery, list: (limit: number, offset: number) => T[], count: () => number): { total: number; rows: T[] } {
  if (q.count === 0) return { total: count(), rows: [] };
  const rows = list(q.count, q.startIndex - 1);
  const total = q.startIndex === 1 && rows.length < q.count ? rows.length : count();
  return { total, rows };
}

/** The RFC 9865 §2 attributes of a cursor page; absent `nextCursor` means the last page. */
export interface CursorLinks {
  readonly nextCursor?: string;
  readonly previousCursor?: string;
}

/**
 * A ListResponse (RFC 7644 §3.4.2) around resources serialised one by one, without parsing them
 * again. A cursor page (RFC 9865 §2) carries its cursors instead of startIndex.
 */
export function listResponseJson(totalResults: number, startIndex: number | CursorLinks, resources: readonly string[]): string {
  const paging = typeof startIndex === "number" ? { startIndex } : startIndex;
  const head = JSON.stringify({ schemas: [LIST_RESPONSE], totalResults, ...paging, itemsPerPage: resources.length });
  return `${head.slice(0, -1)},"Resources":[${resources.join(",")}]}`;
}

export function listResponse(totalResults: number, startIndex: number, resources: readonly unknown[]): Record<string, unknown> {
  return {
    schemas: [LIST_RESPONSE],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
