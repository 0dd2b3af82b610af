/**
 * What reading a resource takes, said once for Users and Groups (RFC 7644 §3.4.1 get by id,
 * §3.4.2 list, §3.14 versions): each type supplies its rows, the multi-valued attribute that
 * lives in the other table (a user's `groups`, a group's `members`) and its renderer; the steps
 * below are the same for both.
 */
import { BridgeError } from "../errors.js";
import type { Directory, KeyedRow, MemberRef, RowReader } from "../db/directory.js";
import type { JsonObject } from "../domain/json.js";
import type { ScimDeps } from "./deps.js";
import { decodeCursor, encodeCursor, queryFingerprint, type Cursor, type Position, type Walk } from "./cursor.js";
import { keysetClause, listResponseJson, orderClause, parseListQuery, type CursorLinks, type ListParams, type ListQuery } from "./list-query.js";
import { Projection } from "./projection.js";
import type { RequestContext, ScimRequest, ScimResponse } from "./protocol.js";
import { etagMatches, etagOf } from "./render.js";
import type { ResourceSchema } from "./schema.js";

/** The row fields every stored resource has. */
export interface StoredRow {
  readonly pk: number;
  readonly id: string;
  readonly version: number;
}

export interface ResourceKind<Row extends StoredRow> {
  readonly schema: ResourceSchema;
  /** The attribute whose values are membership rows: `groups` (User) or `members` (Group). */
  readonly related: "groups" | "members";
  rows(directory: Directory): RowReader<Row>;
  /** The `related` values of each row, one query for a whole page. */
  relatedOf(directory: Directory, pks: readonly number[]): Map<number, MemberRef[]>;
  render(row: Row, related: readonly MemberRef[] | undefined, baseUrl: string, computed?: JsonObject): JsonObject;
  /**
   * The same resource as JSON text, written without building the object (users: render.ts,
   * userJson). Only asked for the full resource (no attributes/excludedAttributes); undefined
   * means "render the object".
   */
  renderJson?(row: Row, related: readonly MemberRef[] | undefined, baseUrl: string, computed?: JsonObject): string | undefined;
  /**
   * Read-only attributes computed outside the directory, merged into each resource of a page
   * (a user's per-app access from the identity map). One query for a whole page.
   */
  computedOf?(deps: ScimDeps, rows: readonly Row[], projection: Projection): Map<number, JsonObject>;
}

/** What a page's rows need besides themselves: related values and computed attributes, one query each for the page. */
function pageContext<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, rows: readonly Row[], projection: Projection) {
  const related = projection.wants(kind.related) ? kind.relatedOf(deps.directory, rows.map((r) => r.pk)) : undefined;
  const computed = kind.computedOf?.(deps, rows, projection);
  return { related: (r: Row) => related?.get(r.pk), computed: (r: Row) => computed?.get(r.pk) };
}

/** Renders rows with their related values and computed attributes, then applies the projection. */
function renderRows<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, rows: readonly Row[], baseUrl: string, projection: Projection): JsonObject[] {
  const page = pageContext(kind, deps, rows, projection);
  return rows.map((r) => projection.apply(kind.render(r, page.related(r), baseUrl, page.computed(r))));
}

/** The same as renderRows, as JSON texts: the full resource is written straight to text where the kind can. */
function renderRowsJson<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, rows: readonly Row[], baseUrl: string, projection: Projection): string[] {
  const page = pageContext(kind, deps, rows, projection);
  return rows.map((r) => {
    const fast = projection.isDefault ? kind.renderJson?.(r, page.related(r), baseUrl, page.computed(r)) : undefined;
    return fast ?? JSON.stringify(projection.apply(kind.render(r, page.related(r), baseUrl, page.computed(r))));
  });
}

/** `attributes` / `excludedAttributes` of the request (RFC 7644 §3.9), checked before anything is written. */
export function projectionOf(kind: ResourceKind<StoredRow>, req: ScimRequest): Projection {
  return Projection.parse(kind.schema, req.query["attributes"], req.query["excludedAttributes"]);
}

export function findResource<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, id: string): Row {
  const row = kind.rows(deps.directory).get(id);
  if (!row) throw new BridgeError("notFound", `${kind.schema.name} ${id} not found`);
  return row;
}

/** RFC 7644 §3.14: a write whose If-Match names another version is refused with 412. */
export function checkIfMatch(kind: ResourceKind<StoredRow>, req: ScimRequest, row: StoredRow): void {
  if (req.ifMatch !== undefined && !etagMatches(req.ifMatch, row.version)) {
    throw new BridgeError("preconditionFailed", `${kind.schema.name} ${row.id} has changed (version is ${etagOf(row.version)})`);
  }
}

/** The resource as served, loading `related` only when the projection keeps it (Entra reads groups with excludedAttributes=members). */
export function renderResource<Row extends StoredRow>(
  kind: ResourceKind<Row>,
  deps: ScimDeps,
  row: Row,
  ctx: RequestContext,
  projection: Projection,
): JsonObject {
  return renderRows(kind, deps, [row], ctx.baseUrl, projection)[0]!;
}

/**
 * Rows read and rendered at a time for a list page. A page of 100 (what IdPs ask for) is one
 * query; a page of 1,000 huge resources never holds more than this many in memory at once.
 */
const ROWS_PER_READ = 100;

/** A list page: resources already serialised, and how many bytes they take. */
export interface Page {
  readonly total: number;
  readonly startIndex: number;
  readonly resources: string[];
  readonly bytes: number;
}

/** What a page may still take: bytes, and how many resources the response already holds (root search). */
export interface Budget {
  readonly bytes: number;
  readonly served: number;
}

/**
 * One page of a list, serialised resource by resource until `count` or the byte budget is reached
 * (RFC 7644 §3.4.2.4: a page may hold fewer resources than asked; totalResults stays the same). The
 * first resource of a response is always served, however large, so paging always moves on.
 */
export function listPage<Row extends StoredRow>(
  kind: ResourceKind<Row>,
  deps: ScimDeps,
  params: ListParams,
  ctx: RequestContext,
  budget: Budget = { bytes: deps.maxResponseBytes ?? Infinity, served: 0 },
): Page {
  const q = parseListQuery(kind.schema, params);
  const table = kind.rows(deps.directory);
  const resources: string[] = [];
  let bytes = 0;
  let offset = q.startIndex - 1;
  let overBudget = false;
  let readAll = false;
  while (resources.length < q.count && !overBudget && !readAll) {
    const limit = Math.min(q.count - resources.length, ROWS_PER_READ);
    const rows = table.list({ where: q.where, params: q.params, orderBy: q.orderBy, limit, offset });
    readAll = rows.length < limit;
    offset += rows.length;
    for (const json of renderRowsJson(kind, deps, rows, ctx.baseUrl, q.projection)) {
      const size = Buffer.byteLength(json) + 1;
      if (budget.served + resources.length > 0 && bytes + size > budget.bytes) {
        overBudget = true;
        break;
      }
      resources.push(json);
      bytes += size;
    }
  }
  // When the first page is not full, its length is the total: the common IdP lookup (`userName eq "x"`) is one query.
  const total = q.startIndex === 1 && readAll && !overBudget ? resources.length : table.count(q.where, q.params);
  return { total, startIndex: q.startIndex, resources, bytes };
}

/** A cursor page (RFC 9865): resources in list order, the places of the first and last, and whether rows lie beyond in the walk's direction. */
export interface KeysetPage {
  readonly total: number;
  readonly resources: string[];
  readonly bytes: number;
  readonly first?: Position;
  readonly last?: Position;
  readonly more: boolean;
}

/**
 * One page of a walk from a cursor position: keyset reads of ROWS_PER_READ (one row more than
 * needed, to know whether the walk goes on), serialised until `count` or the byte budget is
 * reached. A page cut short by the budget ends at its last served resource, so the next cursor
 * starts right after it (RFC 7644 §3.4.2.4: a page may hold fewer resources than asked). A page
 * before a cursor (previousCursor) is read backwards and returned in list order.
 */
export function keysetPage<Row extends StoredRow>(
  kind: ResourceKind<Row>,
  deps: ScimDeps,
  q: ListQuery,
  walk: Walk,
  ctx: RequestContext,
  budget: Budget = { bytes: deps.maxResponseBytes ?? Infinity, served: 0 },
): KeysetPage {
  const table = kind.rows(deps.directory);
  const orderBy = orderClause(q, walk.before);
  const positionOf = (k: KeyedRow<Row>): Position => (q.sort ? { pk: k.row.pk, key: k.sortKey } : { pk: k.row.pk });
  const resources: string[] = [];
  const places: Position[] = [];
  let bytes = 0;
  let at = walk.at;
  let more = true;
  let cut = false;
  while (resources.length < q.count && more && !cut) {
    const limit = Math.min(q.count - resources.length, ROWS_PER_READ);
    const beyond = keysetClause(q, { before: walk.before, ...(at ? { at } : {}) });
    const keyed = table.listKeyed({ where: `(${q.where}) AND ${beyond.sql}`, params: [...q.params, ...beyond.params], orderBy, limit: limit + 1, sortKey: q.sort?.expr });
    more = keyed.length > limit;
    const batch = keyed.slice(0, limit);
    const rendered = renderRowsJson(kind, deps, batch.map((k) => k.row), ctx.baseUrl, q.projection);
    for (const [i, json] of rendered.entries()) {
      const size = Buffer.byteLength(json) + 1;
      if (budget.served + resources.length > 0 && bytes + size > budget.bytes) {
        cut = more = true;
        break;
      }
      resources.push(json);
      bytes += size;
      at = positionOf(batch[i]!);
      places.push(at);
    }
  }
  if (walk.before) {
    resources.reverse();
    places.reverse();
  }
  // A first page that holds everything is the total: the common IdP lookup stays one query.
  const total = !walk.at && !more ? resources.length : table.count(q.where, q.params);
  return { total, resources, bytes, ...(places.length > 0 ? { first: places[0]!, last: places.at(-1)! } : {}), more };
}

/**
 * The cursors of a page (RFC 9865 §2). After a forward page: `nextCursor` while rows follow,
 * `previousCursor` unless the page started the list. After a backward page: `previousCursor` while
 * rows precede it, and a `nextCursor` after its last resource (or from the start when none is left).
 */
export function cursorLinks(page: KeysetPage, walk: Walk, encode: (c: Cursor) => string): CursorLinks {
  const after = page.last ? { before: false, at: page.last } : { before: false };
  const before = page.first ? { before: true, at: page.first } : undefined;
  if (walk.before) {
    return { nextCursor: encode(after), ...(page.more && before ? { previousCursor: encode(before) } : {}) };
  }
  return { ...(page.more && page.last ? { nextCursor: encode(after) } : {}), ...(walk.at && before ? { previousCursor: encode(before) } : {}) };
}

function cursorResources<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, params: ListParams, ctx: RequestContext): ScimResponse {
  const q = parseListQuery(kind.schema, params);
  const fingerprint = queryFingerprint(kind.schema.name, params);
  const now = deps.clock.now();
  const walk = decodeCursor(q.cursor, fingerprint, now);
  const page = keysetPage(kind, deps, q, walk, ctx);
  const links = cursorLinks(page, walk, (c) => encodeCursor(fingerprint, c, now));
  return { status: 200, json: listResponseJson(page.total, links, page.resources) };
}

export function listResources<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, params: ListParams, ctx: RequestContext): ScimResponse {
  if (params.cursor !== undefined) return cursorResources(kind, deps, params, ctx);
  const page = listPage(kind, deps, params, ctx);
  return { status: 200, json: listResponseJson(page.total, page.startIndex, page.resources) };
}

/** GET by id; RFC 7644 §3.14: If-None-Match naming the current version answers 304 without a body. */
export function getResource<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  const row = findResource(kind, deps, id);
  const etag = etagOf(row.version);
  if (req.ifNoneMatch !== undefined && etagMatches(req.ifNoneMatch, row.version)) {
    return { status: 304, headers: { ETag: etag } };
  }
  return { status: 200, body: renderResource(kind, deps, row, req.context, projectionOf(kind, req)), headers: { ETag: etag } };
}
