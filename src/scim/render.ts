/**
 * Stored rows → SCIM resources as served (RFC 7643 §3 common attributes, §4 User and Group).
 */
import type { GroupRow, MemberRef, UserRow } from "../db/directory.js";
import type { JsonObject } from "../domain/json.js";
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from "./schema.js";

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
 * The stored attributes without empty multi-valued ones: RFC 7643 §2.5 omits unassigned attributes,
 * and an empty array is unassigned (`emails: []` as sent by a client is served as no `emails`).
 */
function assigned(attributes: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(attributes)) if (!(Array.isArray(value) && value.length === 0)) out[key] = value;
  return out;
}

export function renderUser(row: UserRow, groups: readonly MemberRef[] | undefined, baseUrl: string): JsonObject {
  const { externalId: _e, userName: _u, active: _a, ...rest } = assigned(row.attributes);
  const location = `${baseUrl}/Users/${row.id}`;
  return {
    schemas: row.attributes[ENTERPRISE_USER] === undefined ? [CORE_USER] : [CORE_USER, ENTERPRISE_USER],
    id: row.id,
    ...(row.externalId === null ? {} : { externalId: row.externalId }),
    userName: row.userName,
    // Unassigned after a PATCH remove (RFC 7643 §2.5: omitted), and inactive for provisioning meanwhile.
    ...(row.attributes["active"] === undefined ? {} : { active: row.active }),
    ...rest,
    ...(groups === undefined || groups.length === 0
      ? {}
      : { groups: groups.map((g) => ({ value: g.id, display: g.display, $ref: `${baseUrl}/Groups/${g.id}`, type: "direct" })) }),
    meta: { resourceType: "User", created: row.createdAt, lastModified: row.updatedAt, location, version: etagOf(row.version) },
  };
}

export function renderGroup(row: GroupRow, members: readonly MemberRef[] | undefined, baseUrl: string): JsonObject {
  const { externalId: _e, displayName: _d, ...rest } = assigned(row.attributes);
  return {
    schemas: [CORE_GROUP],
    id: row.id,
    ...(row.externalId === null ? {} : { externalId: row.externalId }),
    displayName: row.displayName,
    ...rest,
    ...(members === undefined || members.length === 0
      ? {}
      : { members: members.map((m) => ({ value: m.id, display: m.display, $ref: `${baseUrl}/Users/${m.id}`, type: "User" })) }),
    meta: {
      resourceType: "Group",
      created: row.createdAt,
      lastModified: row.updatedAt,
      location: `${baseUrl}/Groups/${row.id}`,
      version: etagOf(row.version),
    },
  };
}
