/**
 * List and search parameters (RFC 7644 §3.4.2, §3.4.3): filter, sortBy/sortOrder,
 * startIndex/count paging and attribute projection, parsed once from a query string or a
 * SearchRequest body, then turned into one parameterised SQL query with paging done by SQLite.
 */
import { z } from "zod";
import { BridgeError } from "../errors.js";
import { parseFilter } from "./filter/parse.js";
import { filterToSql } from "./filter/sql.js";
import { Projection } from "./projection.js";
import { leafOf, resolvePath, SEARCH_REQUEST, type ResourceSchema } from "./schema.js";

/** Largest page served; a larger `count` is cut to this (RFC 7644 §3.4.2.4 lets the server cap it). */
export const MAX_PAGE_SIZE = 1000;

export interface ListParams {
  readonly filter?: string | undefined;
  readonly sortBy?: string | undefined;
  readonly sortOrder?: string | undefined;
  readonly startIndex?: string | number | undefined;
  readonly count?: string | number | undefined;
  readonly attributes?: string | readonly string[] | undefined;
  readonly excludedAttributes?: string | readonly string[] | undefined;
}

export interface ListQuery {
  readonly where: string;
  readonly params: readonly unknown[];
  readonly orderBy: string;
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

/** SQL expression to sort by; ties are always broken by insertion order, so paging is stable. */
function sortExpression(resource: ResourceSchema, sortBy: string): string {
  const p = resolvePath(resource, sortBy);
  if (!p) throw new BridgeError("invalidValue", `sortBy: unknown attribute "${sortBy}"`);
  const a = alias(resource);
  const leaf = leafOf(p);
  const key = `${p.attribute.name}${p.sub ? `.${p.sub.name}` : ""}`;
  const columns: Record<string, string> = {
    id: `${a}.id`,
    externalId: `${a}.external_id`,
    "meta.created": `${a}.created_at`,
    "meta.lastModified": `${a}.updated_at`,
    userName: "u.user_name_key",
    displayName: resource.name === "Group" ? "g.display_name_key" : "scim_fold(json_extract(u.data, '$.displayName'))",
  };
  const column = columns[key];
  if (column) return column;
  if (leaf.type === "complex") throw new BridgeError("invalidValue", `sortBy: "${sortBy}" is complex; name a sub-attribute`);
  const container = p.schema === null || p.schema === resource.core.id ? "" : `."${p.schema}"`;
  const fold = (expr: string) => (leaf.type === "string" && !leaf.caseExact ? `scim_fold(${expr})` : expr);
  if (p.attribute.multiValued) {
    // RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary (else first) value.
    const sub = p.sub ? p.sub.name : "value";
    return `(SELECT ${fold(`json_extract(e.value, '$.${sub}')`)} FROM json_each(${a}.data, '$${container}.${p.attribute.name}') e
             ORDER BY json_extract(e.value, '$.primary') = 1 DESC LIMIT 1)`;
  }
  return fold(`json_extract(${a}.data, '$${container}.${key}')`);
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
  const dir = order === "descending" ? "DESC" : "ASC";
  const pk = `${alias(resource)}.pk`;
  const orderBy = raw.sortBy ? `${sortExpression(resource, raw.sortBy)} ${dir}, ${pk} ${dir}` : `${pk} ASC`;
  // RFC 7644 §3.4.2.4: startIndex below 1 is read as 1; a negative count as 0.
  // A startIndex past every page is valid and answers an empty page; beyond 2^53 SQLite cannot
  // take it as an OFFSET ("datatype mismatch"), and no directory is that large anyway.
  const startIndex = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, integerParam(raw.startIndex, "startIndex") ?? 1));
  const count = Math.min(MAX_PAGE_SIZE, Math.max(0, integerParam(raw.count, "count") ?? 100));
  return { where, params, orderBy, startIndex, count, projection };
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

export function listResponse(totalResults: number, startIndex: number, resources: readonly unknown[]): Record<string, unknown> {
  return {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
