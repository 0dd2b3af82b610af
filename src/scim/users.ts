/**
 * /Users (RFC 7644 §3.3–§3.6). Each write validates first, then changes the directory and appends
 * its audit event in one transaction, so a failed request leaves nothing behind.
 */
import type { UserRow } from "../db/directory.js";
import { coerceResourceBody, requireAttributes } from "./coerce.js";
import { type JsonObject } from "../domain/json.js";
import { auditEvent, type ScimDeps } from "./deps.js";
import type { Walk } from "./cursor.js";
import { parseListQuery, type ListParams } from "./list-query.js";
import { applyPatch } from "./patch/apply.js";
import { normalizePatchRequest } from "./patch/normalize.js";
import type { RequestContext, ScimRequest, ScimResponse } from "./protocol.js";
import { etagOf, renderUser, userJson } from "./render.js";
import {
  checkIfMatch,
  findResource,
  getResource,
  keysetPage,
  listPage,
  listResources,
  projectionOf,
  renderResource,
  type Budget,
  type KeysetPage,
  type Page,
  type ResourceKind,
} from "./resource-kind.js";
import { ACCESS_EXTENSION, userResource } from "./schema.js";

const users: ResourceKind<UserRow> = {
  schema: userResource,
  related: "groups",
  rows: (directory) => directory.users,
  relatedOf: (directory, pks) => directory.groupsOfUsers(pks),
  render: renderUser,
  renderJson: userJson,
  computedOf: (deps, rows, projection) => {
    const out = new Map<number, JsonObject>();
    if (!projection.wantsSchema(ACCESS_EXTENSION) || rows.length === 0) return out;
    const access = deps.access.ofUsers(rows.map((r) => r.id));
    for (const r of rows) {
      const apps = access.get(r.id);
      if (apps && apps.length > 0) out.set(r.pk, { [ACCESS_EXTENSION]: { apps: apps.map((a) => ({ ...a })) } });
    }
    return out;
  },
};

function withDefaults(attributes: JsonObject): JsonObject {
  // RFC 7643 leaves `active` optional; a user the IdP created without it is an active user.
  return attributes["active"] === undefined ? { ...attributes, active: true } : attributes;
}

/**
 * RFC 7644 §3.5.1: a readWrite attribute a PUT omits "MAY be assumed to be not asserted by the
 * client". For `active` that is the only safe reading: defaulting it to true would let a PUT that
 * merely leaves it out re-grant access to a deactivated user, and clearing it would cut off an
 * active one. So the stored value (true, false or unassigned) stays.
 */
function keepActive(attributes: JsonObject, before: JsonObject): JsonObject {
  if (attributes["active"] !== undefined || before["active"] === undefined) return attributes;
  return { ...attributes, active: before["active"] };
}

/** A page of users for root-level search (service.ts), within what is left of the response's byte budget. */
export function userPage(deps: ScimDeps, params: ListParams, ctx: RequestContext, budget?: Budget): Page {
  return listPage(users, deps, params, ctx, budget);
}

/** A cursor page of users for root-level search (service.ts), within what is left of the response's byte budget. */
export function userWalk(deps: ScimDeps, params: ListParams, walk: Walk, ctx: RequestContext, budget?: Budget): KeysetPage {
  return keysetPage(users, deps, parseListQuery(userResource, params), walk, ctx, budget);
}

export function listUsers(deps: ScimDeps, params: ListParams, ctx: RequestContext): ScimResponse {
  return listResources(users, deps, params, ctx);
}

export function getUser(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  return getResource(users, deps, req, id);
}

export function createUser(deps: ScimDeps, req: ScimRequest): ScimResponse {
  const projection = projectionOf(users, req);
  const attributes = withDefaults(coerceResourceBody(userResource, req.body));
  requireAttributes(userResource, attributes);
  const row = deps.directory.write(() => {
    const created = deps.directory.insertUser(attributes);
    deps.audit.append(auditEvent(req.context, "user.create", "User", created.id, undefined, created.attributes));
    deps.jobs.enqueueUsers([created.id], req.context.requestId);
    return created;
  });
  const body = renderResource(users, deps, row, req.context, projection);
  return { status: 201, body, headers: { ETag: etagOf(row.version), Location: `${req.context.baseUrl}/Users/${row.id}` } };
}

export function replaceUser(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  const projection = projectionOf(users, req);
  const sent = coerceResourceBody(userResource, req.body);
  requireAttributes(userResource, sent);
  const row = deps.directory.write(() => {
    const before = findResource(users, deps, id);
    checkIfMatch(users, req, before);
    const after = deps.directory.replaceUser(before.pk, keepActive(sent, before.attributes));
    deps.audit.append(auditEvent(req.context, "user.replace", "User", id, before.attributes, after.attributes));
    deps.jobs.enqueueUsers([id], req.context.requestId);
    return after;
  });
  return { status: 200, body: renderResource(users, deps, row, req.context, projection), headers: { ETag: etagOf(row.version) } };
}

export function patchUser(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  const projection = projectionOf(users, req);
  const ops = normalizePatchRequest(req.body, userResource);
  const row = deps.directory.write(() => {
    const before = findResource(users, deps, id);
    checkIfMatch(users, req, before);
    const { attributes } = applyPatch(userResource, before.attributes, ops);
    requireAttributes(userResource, attributes);
    // A PATCH that changes nothing (IdPs re-send state) is not a new version and not an event.
    if (JSON.stringify(attributes) === JSON.stringify(before.attributes)) return before;
    const after = deps.directory.replaceUser(before.pk, attributes);
    deps.audit.append(auditEvent(req.context, "user.patch", "User", id, before.attributes, after.attributes));
    deps.jobs.enqueueUsers([id], req.context.requestId);
    return after;
  });
  // RFC 7644 §3.5.2: 200 with the resource (shaped by `attributes` when given).
  return { status: 200, body: renderResource(users, deps, row, req.context, projection), headers: { ETag: etagOf(row.version) } };
}

export function deleteUser(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  deps.directory.write(() => {
    const before = findResource(users, deps, id);
    checkIfMatch(users, req, before);
    const leftGroups = deps.directory.deleteUser(before.pk);
    deps.audit.append(auditEvent(req.context, "user.delete", "User", id, { ...before.attributes, groups: leftGroups }, undefined));
    // The user is gone from the directory, but its app accounts are not: the job deprovisions them.
    deps.jobs.enqueueUsers([id], req.context.requestId);
  });
  return { status: 204 };
}
