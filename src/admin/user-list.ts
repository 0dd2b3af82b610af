/**
 * The directory's users as the console lists them: a SCIM filter (the same parser and SQL as
 * GET /scim/v2/Users, RFC 7644 §3.4.2.2), free-text search, active, and conditions kept in other
 * tables (open task, dead job, drift), paged by SQLite. Each listed user is then described with
 * their profile, groups and access per app, a few indexed reads per user, so pages stay bounded.
 */
import type { Directory, UserRow } from "../db/directory.js";
import { userConditionsOf, userConditionsSql, type UserCondition } from "../db/user-conditions.js";
import { profileOf } from "../provisioning/rules.js";
import { parseListQuery, runPage } from "../scim/list-query.js";
import { userResource } from "../scim/schema.js";
import { userAccess, type UserAccess, type UserAccessSources } from "./user-access.js";

export interface UserListQuery {
  /** An RFC 7644 filter over Users. */
  readonly filter?: string | undefined;
  /** Free text matched against names, userName, emails and group names. */
  readonly search?: string | undefined;
  readonly active?: boolean | undefined;
  readonly conditions?: readonly UserCondition[] | undefined;
  /** A SCIM sortBy; insertion order when absent. */
  readonly sortBy?: string | undefined;
  readonly startIndex: number;
  readonly count: number;
}

/** The attributes free-text search looks in; each `co` is case-insensitive (caseExact false). */
const SEARCHED = ["userName", "displayName", "name.givenName", "name.familyName", "name.formatted", "emails.value", "groups.display"] as const;

/** Free text as a SCIM filter: any searched attribute contains it. A SCIM string is a JSON string, hence JSON.stringify. */
export function searchFilter(text: string): string {
  const value = JSON.stringify(text.trim());
  return SEARCHED.map((a) => `${a} co ${value}`).join(" or ");
}

export function listUsers(directory: Directory, q: UserListQuery): { total: number; startIndex: number; rows: UserRow[] } {
  const parts = [q.filter, q.search?.trim() ? searchFilter(q.search) : undefined, q.active === undefined ? undefined : q.active ? "active eq true" : "not (active eq true)"];
  const filter = parts.filter((p) => p !== undefined && p.trim() !== "").map((p) => `(${p!})`).join(" and ");
  const page = parseListQuery(userResource, { filter, sortBy: q.sortBy, startIndex: q.startIndex, count: q.count });
  const where = `(${page.where}) AND ${userConditionsSql(q.conditions ?? [])}`;
  const { total, rows } = runPage(
    page,
    (limit, offset) => directory.users.list({ where, params: page.params, orderBy: page.orderBy, limit, offset }),
    () => directory.users.count(where, page.params),
  );
  return { total, startIndex: page.startIndex, rows };
}

/** A listed user: who they are, their groups, their access per app, and the conditions that hold. */
export interface ListedUser {
  readonly userName: string;
  readonly displayName: string;
  /** The address apps get: primary, else work, else first email, else userName. */
  readonly email: string;
  readonly active: boolean;
  readonly groups: readonly string[];
  readonly access: UserAccess;
  readonly conditions: ReadonlySet<UserCondition>;
}

export function describeUsers(o: UserAccessSources, rows: readonly UserRow[]): ListedUser[] {
  const conditions = userConditionsOf(o.provisioning.db, rows.map((r) => r.id));
  return rows.flatMap((row) => {
    const access = userAccess(o, row.id, row.active);
    const { user, groups } = o.provisioning.directory.snapshot(row.id);
    if (!access || !user) return [];
    const profile = profileOf(user);
    return [
      {
        userName: profile.userName,
        displayName: profile.displayName,
        email: profile.email,
        active: row.active,
        groups: groups.map((g) => g.displayName),
        access,
        conditions: conditions.get(row.id) ?? new Set(),
      },
    ];
  });
}
