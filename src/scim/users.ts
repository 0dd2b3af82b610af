/**
 * /Users (RFC 7644 §3.3–§3.6). Each write validates first, then changes the directory and appends
 * its audit event in one transaction, so a failed request leaves nothing behind.
 */
import { BridgeError } from "../errors.js";
import type { UserRow } from "../db/directory.js";
import { coerceResourceBody, requireAttributes, type JsonObject } from "./coerce.js";
import { listResponse, parseListQuery, runPage, type ListParams } from "./list-query.js";
import { applyPatch } from "./patch/apply.js";
import { normalizePatchRequest } from "./patch/normalize.js";
import { Projection } from "./projection.js";
import type { RequestContext, ScimRequest, ScimResponse } from "./protocol.js";
import { etagMatches, etagOf, renderUser } from "./render.js";
import { userResource } from "./schema.js";
import { auditEvent, type ScimDeps } from "./deps.js";

function projectionOf(req: ScimRequest): Projection {
  return Projection.parse(userResource, req.query["attributes"], req.query["excludedAttributes"]);
}

function render(deps: ScimDeps, row: UserRow, ctx: RequestContext, projection: Projection): JsonObject {
  const groups = projection.wants("groups") ? deps.directory.groupsOfUsers([row.pk]).get(row.pk) : undefined;
  return projection.apply(renderUser(row, groups, ctx.baseUrl));
}

function found(deps: ScimDeps, id: string): UserRow {
  const row = deps.directory.getUser(id);
  if (!row) throw new BridgeError("notFound", `User ${id} not found`);
  return row;
}

function checkIfMatch(req: ScimRequest, row: UserRow): void {
  if (req.ifMatch !== undefined && !etagMatches(req.ifMatch, row.version)) {
    throw new BridgeError("preconditionFailed", `User ${row.id} has changed (version is ${etagOf(row.version)})`);
  }
}

function withDefaults(attributes: JsonObject): JsonObject {
  // RFC 7643 leaves `active` optional; a user the IdP created without it is an active user.
  return attributes["active"] === undefined ? { ...attributes, active: true } : attributes;
}

export function listUsers(deps: ScimDeps, params: ListParams, ctx: RequestContext): ScimResponse {
  const q = parseListQuery(userResource, params);
  const { total, rows } = runPage(
    q,
    (limit, offset) => deps.directory.listUsers({ where: q.where, params: q.params, orderBy: q.orderBy, limit, offset }),
    () => deps.directory.countUsers(q.where, q.params),
  );
  const groups = q.projection.wants("groups") ? deps.directory.groupsOfUsers(rows.map((r) => r.pk)) : undefined;
  const resources = rows.map((r) => q.projection.apply(renderUser(r, groups?.get(r.pk), ctx.baseUrl)));
  return { status: 200, body: listResponse(total, q.startIndex, resources) };
}

export function getUser(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  const row = found(deps, id);
  const etag = etagOf(row.version);
  if (req.ifNoneMatch !== undefined && etagMatches(req.ifNoneMatch, row.version)) {
    return { status: 304, headers: { ETag: etag } };
  }
  return { status: 200, body: render(deps, row, req.context, projectionOf(req)), headers: { ETag: etag } };
}

export function createUser(deps: ScimDeps, req: ScimRequest): ScimResponse {
  const projection = projectionOf(req);
  const attributes = withDefaults(coerceResourceBody(userResource, req.body));
  requireAttributes(userResource, attributes);
  const row = deps.directory.write(() => {
    const created = deps.directory.insertUser(attributes);
    deps.audit.append(auditEvent(req.context, "user.create", "User", created.id, undefined, created.attributes));
    return created;
  });
  const body = render(deps, row, req.context, projection);
  return { status: 201, body, headers: { ETag: etagOf(row.version), Location: `${req.context.baseUrl}/Users/${row.id}` } };
}

export function replaceUser(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  const projection = projectionOf(req);
  const attributes = withDefaults(coerceResourceBody(userResource, req.body));
  requireAttributes(userResource, attributes);
  const row = deps.directory.write(() => {
    const before = found(deps, id);
    checkIfMatch(req, before);
    const after = deps.directory.replaceUser(before.pk, attributes);
    deps.audit.append(auditEvent(req.context, "user.replace", "User", id, before.attributes, after.attributes));
    return after;
  });
  return { status: 200, body: render(deps, row, req.context, projection), headers: { ETag: etagOf(row.version) } };
}

export function patchUser(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  const projection = projectionOf(req);
  const ops = normalizePatchRequest(req.body, userResource);
  const row = deps.directory.write(() => {
    const before = found(deps, id);
    checkIfMatch(req, before);
    const { attributes } = applyPatch(userResource, before.attributes, ops);
    requireAttributes(userResource, attributes);
    // A PATCH that changes nothing (IdPs re-send state) is not a new version and not an event.
    if (JSON.stringify(attributes) === JSON.stringify(before.attributes)) return before;
    const after = deps.directory.replaceUser(before.pk, attributes);
    deps.audit.append(auditEvent(req.context, "user.patch", "User", id, before.attributes, after.attributes));
    return after;
  });
  // RFC 7644 §3.5.2: 200 with the resource (shaped by `attributes` when given).
  return { status: 200, body: render(deps, row, req.context, projection), headers: { ETag: etagOf(row.version) } };
}

export function deleteUser(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  deps.directory.write(() => {
    const before = found(deps, id);
    checkIfMatch(req, before);
    const leftGroups = deps.directory.deleteUser(before.pk);
    deps.audit.append(auditEvent(req.context, "user.delete", "User", id, { ...before.attributes, groups: leftGroups }, undefined));
  });
  return { status: 204 };
}
