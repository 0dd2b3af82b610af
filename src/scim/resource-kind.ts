/**
 * What reading a resource takes, said once for Users and Groups (RFC 7644 §3.4.1 get by id,
 * §3.4.2 list, §3.14 versions): each type supplies its rows, the multi-valued attribute that
 * lives in the other table (a user's `groups`, a group's `members`) and its renderer; the steps
 * below are the same for both.
 */
import { BridgeError } from "../errors.js";
import type { Directory, MemberRef, RowReader } from "../db/directory.js";
import type { JsonObject } from "../domain/json.js";
import type { ScimDeps } from "./deps.js";
import { listResponse, parseListQuery, runPage, type ListParams } from "./list-query.js";
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
  render(row: Row, related: readonly MemberRef[] | undefined, baseUrl: string): JsonObject;
  /**
   * Read-only attributes computed outside the directory, merged into each resource of a page
   * (a user's per-app access from the identity map). One query for a whole page.
   */
  computedOf?(deps: ScimDeps, rows: readonly Row[], projection: Projection): Map<number, JsonObject>;
}

/** Renders rows with their related values and computed attributes, then applies the projection. */
function renderRows<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, rows: readonly Row[], baseUrl: string, projection: Projection): JsonObject[] {
  const related = projection.wants(kind.related) ? kind.relatedOf(deps.directory, rows.map((r) => r.pk)) : undefined;
  const computed = kind.computedOf?.(deps, rows, projection);
  return rows.map((r) => {
    const resource = kind.render(r, related?.get(r.pk), baseUrl);
    const extra = computed?.get(r.pk);
    if (extra) {
      Object.assign(resource, extra);
      resource["schemas"] = [...(resource["schemas"] as string[]), ...Object.keys(extra)];
    }
    return projection.apply(resource);
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

export function listResources<Row extends StoredRow>(kind: ResourceKind<Row>, deps: ScimDeps, params: ListParams, ctx: RequestContext): ScimResponse {
  const q = parseListQuery(kind.schema, params);
  const table = kind.rows(deps.directory);
  const { total, rows } = runPage(
    q,
    (limit, offset) => table.list({ where: q.where, params: q.params, orderBy: q.orderBy, limit, offset }),
    () => table.count(q.where, q.params),
  );
  const resources = renderRows(kind, deps, rows, ctx.baseUrl, q.projection);
  return { status: 200, body: listResponse(total, q.startIndex, resources) };
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
