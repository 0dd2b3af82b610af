/**
 * Stored rows → SCIM resources as served (RFC 7643 §3 common attributes, §4 User and Group).
 */
import type { GroupRow, MemberRef, UserRow } from "../db/directory.js";
import type { JsonObject } from "../domain/json.js";
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from "./schema.js";
import { canSplice, hasKey } from "./stored-shape.js";

/** Weak ETag from the row version (RFC 7644 §3.14); the same string is meta.version. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** True when an If-Match / If-None-Match header value names the current version (or is `*`). */
export function etagMatches(header: string, version: number): boolean {
  const current = etagOf(version);
  return header
    .split(",")
    .map((t) => t.trim())
    .some((t) => t === "*" || t === current || t === current.slice(2) || `W/${t}` === current);
}

/**
 * Copies the stored attributes onto `resource` in their stored order, except empty multi-valued
 * ones: RFC 7643 §2.5 omits unassigned attributes, and an empty array is unassigned (`emails: []`
 * as sent by a client is served as no `emails`). `userName`, `externalId` and `active` are served
 * as stored: their columns are written from the same attributes (db/directory.ts, userColumns).
 */
function copyAssigned(resource: JsonObject, attributes: JsonObject): void {
  for (const key in attributes) {
    const value = attributes[key]!;
    if (!(Array.isArray(value) && value.length === 0)) resource[key] = value;
  }
}

function groupRefs(groups: readonly MemberRef[], baseUrl: string): JsonObject[] {
  return groups.map((g) => ({ value: g.id, display: g.display, $ref: `${baseUrl}/Groups/${g.id}`, type: "direct" }));
}

function userMeta(row: UserRow, baseUrl: string): JsonObject {
  return { resourceType: "User", created: row.createdAt, lastModified: row.updatedAt, location: `${baseUrl}/Users/${row.id}`, version: etagOf(row.version) };
}

/**
 * A user as served: schemas and id, the stored attributes, its groups and meta, then the computed
 * read-only extensions (`extensions`, keyed by schema URN, also listed in `schemas`).
 */
export function renderUser(row: UserRow, groups: readonly MemberRef[] | undefined, baseUrl: string, extensions?: JsonObject): JsonObject {
  const schemas = row.attributes[ENTERPRISE_USER] === undefined ? [CORE_USER] : [CORE_USER, ENTERPRISE_USER];
  const resource: JsonObject = { schemas: extensions ? [...schemas, ...Object.keys(extensions)] : schemas, id: row.id };
  copyAssigned(resource, row.attributes);
  if (groups !== undefined && groups.length > 0) resource["groups"] = groupRefs(groups, baseUrl);
  resource["meta"] = userMeta(row, baseUrl);
  if (extensions) Object.assign(resource, extensions);
  return resource;
}

/** JSON texts of `schemas` without computed extensions: one per user would otherwise be serialised. */
const CORE_SCHEMAS = JSON.stringify([CORE_USER]);
const ENTERPRISE_SCHEMAS = JSON.stringify([CORE_USER, ENTERPRISE_USER]);

/**
 * The same text as JSON.stringify(renderUser(...)), written around the stored JSON text instead of
 * parsing it and serialising it again: parsing and serialising were a third of the cost of a page of
 * 100 users. Undefined when the stored text cannot be spliced safely (stored-shape.ts); the caller
 * then renders the object. test/scim/user-json.property.test.ts holds the two to the same bytes.
 */
export function userJson(row: UserRow, groups: readonly MemberRef[] | undefined, baseUrl: string, extensions?: JsonObject): string | undefined {
  const added = extensions ? Object.keys(extensions) : [];
  if (!canSplice(row.storedJson, added)) return undefined;
  const enterprise = hasKey(row.storedJson, ENTERPRISE_USER);
  const schemas = added.length > 0 ? JSON.stringify(enterprise ? [CORE_USER, ENTERPRISE_USER, ...added] : [CORE_USER, ...added]) : enterprise ? ENTERPRISE_SCHEMAS : CORE_SCHEMAS;
  const stored = row.storedJson.slice(1, -1);
  let json = `{"schemas":${schemas},"id":${JSON.stringify(row.id)}${stored === "" ? "" : ","}${stored}`;
  if (groups !== undefined && groups.length > 0) json += `,"groups":${JSON.stringify(groupRefs(groups, baseUrl))}`;
  json += `,"meta":${JSON.stringify(userMeta(row, baseUrl))}`;
  if (added.length > 0) json += `,${JSON.stringify(extensions).slice(1, -1)}`;
  return `${json}}`;
}

export function renderGroup(row: GroupRow, members: readonly MemberRef[] | undefined, baseUrl: string): JsonObject {
  const resource: JsonObject = { schemas: [CORE_GROUP], id: row.id };
  copyAssigned(resource, row.attributes);
  if (members !== undefined && members.length > 0) {
    resource["members"] = members.map((m) => ({ value: m.id, display: m.display, $ref: `${baseUrl}/Users/${m.id}`, type: "User" }));
  }
  resource["meta"] = {
    resourceType: "Group",
    created: row.createdAt,
    lastModified: row.updatedAt,
    location: `${baseUrl}/Groups/${row.id}`,
    version: etagOf(row.version),
  };
  return resource;
}
