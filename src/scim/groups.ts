/**
 * /Groups (RFC 7644 §3.3–§3.6). Members live in group_members rows, never in the group's JSON, so
 * adding or removing one member costs the same whatever the group's size.
 */
import type { GroupRow } from "../db/directory.js";
import { coerceResourceBody, requireAttributes } from "./coerce.js";
import type { JsonObject } from "../domain/json.js";
import { auditEvent, type ScimDeps } from "./deps.js";
import { memberFilterSql } from "./filter/sql.js";
import type { Walk } from "./cursor.js";
import { parseListQuery, type ListParams } from "./list-query.js";
import { applyPatch, type MemberOp } from "./patch/apply.js";
import { memberList, type MemberList } from "./patch/members.js";
import { normalizePatchRequest } from "./patch/normalize.js";
import type { RequestContext, ScimRequest, ScimResponse } from "./protocol.js";
import { etagOf, renderGroup } from "./render.js";
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
import { groupResource } from "./schema.js";

const groups: ResourceKind<GroupRow> = {
  schema: groupResource,
  related: "members",
  rows: (directory) => directory.groups,
  relatedOf: (directory, pks) => directory.membersOfGroups(pks),
  render: renderGroup,
};

/** Splits a POST/PUT body into the group's own attributes and its members. */
function groupBody(body: unknown): { attributes: JsonObject; members: MemberList } {
  const { members, ...attributes } = coerceResourceBody(groupResource, body);
  requireAttributes(groupResource, attributes);
  return { attributes, members: memberList(Array.isArray(members) ? members : [], "members") };
}

/** A page of groups for root-level search (service.ts), within what is left of the response's byte budget. */
export function groupPage(deps: ScimDeps, params: ListParams, ctx: RequestContext, budget?: Budget): Page {
  return listPage(groups, deps, params, ctx, budget);
}

/** A cursor page of groups for root-level search (service.ts), within what is left of the response's byte budget. */
export function groupWalk(deps: ScimDeps, params: ListParams, walk: Walk, ctx: RequestContext, budget?: Budget): KeysetPage {
  return keysetPage(groups, deps, parseListQuery(groupResource, params), walk, ctx, budget);
}

export function listGroups(deps: ScimDeps, params: ListParams, ctx: RequestContext): ScimResponse {
  return listResources(groups, deps, params, ctx);
}

export function getGroup(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  return getResource(groups, deps, req, id);
}

export function createGroup(deps: ScimDeps, req: ScimRequest): ScimResponse {
  const projection = projectionOf(groups, req);
  const { attributes, members } = groupBody(req.body);
  const memberIds = members.ids;
  const row = deps.directory.write(() => {
    const created = deps.directory.insertGroup(attributes);
    deps.directory.addMembers(created.pk, members);
    deps.audit.append(auditEvent(req.context, "group.create", "Group", created.id, undefined, { ...attributes, members: memberIds }));
    deps.jobs.enqueueUsers(memberIds, req.context.requestId);
    return created;
  });
  deps.groupsChanged?.();
  return {
    status: 201,
    body: renderResource(groups, deps, row, req.context, projection),
    headers: { ETag: etagOf(row.version), Location: `${req.context.baseUrl}/Groups/${row.id}` },
  };
}

export function replaceGroup(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  const projection = projectionOf(groups, req);
  const { attributes, members } = groupBody(req.body);
  const memberIds = members.ids;
  const row = deps.directory.write(() => {
    const before = findResource(groups, deps, id);
    checkIfMatch(groups, req, before);
    const removed = deps.directory.removeAllMembers(before.pk);
    deps.directory.addMembers(before.pk, members);
    const after = deps.directory.replaceGroup(before.pk, attributes);
    deps.audit.append(
      auditEvent(req.context, "group.replace", "Group", id, { ...before.attributes, memberCount: removed.length }, { ...attributes, members: memberIds }),
    );
    // Rules may name the group by displayName or externalId, so every member old and new is re-planned.
    deps.jobs.enqueueUsers([...removed, ...memberIds], req.context.requestId);
    return after;
  });
  deps.groupsChanged?.();
  return { status: 200, body: renderResource(groups, deps, row, req.context, projection), headers: { ETag: etagOf(row.version) } };
}

export function patchGroup(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  // RFC 7644 §3.5.2: 204 unless the client asked for attributes, then 200 with them. The projection
  // is checked before the write: a bad `attributes` must refuse the PATCH, not follow a committed one.
  const asked = req.query["attributes"] !== undefined || req.query["excludedAttributes"] !== undefined;
  const projection = asked ? projectionOf(groups, req) : undefined;
  const ops = normalizePatchRequest(req.body, groupResource);
  let renamed = false;
  const row = deps.directory.write(() => {
    const before = findResource(groups, deps, id);
    checkIfMatch(groups, req, before);
    const { attributes, memberOps } = applyPatch(groupResource, before.attributes, ops);
    requireAttributes(groupResource, attributes);
    const { added, removed } = applyMemberOps(deps, before, memberOps);
    const attributesChanged = JSON.stringify(attributes) !== JSON.stringify(before.attributes);
    if (!attributesChanged && added.length === 0 && removed.length === 0) return before;
    const after = deps.directory.replaceGroup(before.pk, attributes);
    renamed = attributesChanged;
    deps.audit.append(
      auditEvent(
        req.context,
        "group.patch",
        "Group",
        id,
        attributesChanged ? before.attributes : undefined,
        { ...(attributesChanged ? attributes : {}), membersAdded: added, membersRemoved: removed },
      ),
    );
    // Only the members whose membership changed are re-planned (so the cost does not grow with the
    // group), unless the group itself changed: a rename can match or unmatch a rule for everyone.
    const affected = attributesChanged ? [...deps.directory.memberIdsOf(before.pk), ...removed] : [...added, ...removed];
    deps.jobs.enqueueUsers(affected, req.context.requestId);
    return after;
  });
  // Only the group's own attributes (displayName, externalId) can change what a rule matches.
  if (renamed) deps.groupsChanged?.();
  const etag = etagOf(row.version);
  if (!projection) return { status: 204, headers: { ETag: etag } };
  return { status: 200, body: renderResource(groups, deps, row, req.context, projection), headers: { ETag: etag } };
}

/**
 * Applies member operations in order as row inserts and deletes. Returns the user ids whose
 * membership actually changed (an add then remove of the same id in one request cancels out).
 */
function applyMemberOps(deps: ScimDeps, group: GroupRow, ops: readonly MemberOp[]): { added: string[]; removed: string[] } {
  const added = new Set<string>();
  const removed = new Set<string>();
  const { directory } = deps;
  const note = (kind: "add" | "remove", ids: readonly string[]) => {
    for (const uid of ids) {
      const [mine, other] = kind === "add" ? [added, removed] : [removed, added];
      if (other.has(uid)) other.delete(uid);
      else mine.add(uid);
    }
  };
  for (const op of ops) {
    switch (op.kind) {
      case "add":
        note("add", directory.addMembers(group.pk, op));
        break;
      case "remove":
        note("remove", directory.removeMembers(group.pk, op.ids));
        break;
      case "removeAll":
        note("remove", directory.removeAllMembers(group.pk));
        break;
      case "replaceAll": {
        const wanted = new Set(op.ids);
        const current = directory.memberIdsOf(group.pk);
        note("remove", directory.removeMembers(group.pk, current.filter((m) => !wanted.has(m))));
        note("add", directory.addMembers(group.pk, op));
        break;
      }
      case "removeMatching":
        note("remove", directory.removeMembers(group.pk, directory.memberIdsMatching(group.pk, memberFilterSql(op.filter))));
        break;
    }
  }
  return { added: [...added], removed: [...removed] };
}

export function deleteGroup(deps: ScimDeps, req: ScimRequest, id: string): ScimResponse {
  deps.directory.write(() => {
    const before = findResource(groups, deps, id);
    checkIfMatch(groups, req, before);
    const memberIds = deps.directory.memberIdsOf(before.pk);
    deps.directory.deleteGroup(before.pk);
    deps.audit.append(auditEvent(req.context, "group.delete", "Group", id, { ...before.attributes, members: memberIds }, undefined));
    deps.jobs.enqueueUsers(memberIds, req.context.requestId);
  });
  deps.groupsChanged?.();
  return { status: 204 };
}
