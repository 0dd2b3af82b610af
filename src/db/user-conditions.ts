/**
 * Conditions on a directory user that live in other tables (tasks, jobs, drift_items), as SQL over
 * `users u` to narrow a directory list, and as a lookup for the users on one page. Each is one
 * indexed subquery: tasks_one_open covers open and blocked tasks, and jobs and drift_items are
 * small (pending work and the last pass's findings only).
 */
import type { Db } from "./database.js";

export type UserCondition = "openTask" | "deadJob" | "drift";

/** The user ids each condition holds for, as a subquery. */
const IDS: Record<UserCondition, string> = {
  openTask: "SELECT user_id FROM tasks WHERE state IN ('open', 'blocked')",
  deadJob: "SELECT user_id FROM jobs WHERE dead = 1",
  drift: "SELECT user_id FROM drift_items WHERE user_id IS NOT NULL",
};

/** A WHERE fragment over `users u` true when every given condition holds ("1" for none). */
export function userConditionsSql(conditions: readonly UserCondition[]): string {
  return conditions.length === 0 ? "1" : conditions.map((c) => `u.id IN (${IDS[c]})`).join(" AND ");
}

/** Which conditions hold for each of the given users (one query per condition, whatever the page size). */
export function userConditionsOf(db: Db, userIds: readonly string[]): Map<string, Set<UserCondition>> {
  const out = new Map<string, Set<UserCondition>>(userIds.map((id) => [id, new Set()]));
  if (userIds.length === 0) return out;
  const ids = JSON.stringify(userIds);
  for (const c of Object.keys(IDS) as UserCondition[]) {
    const hits = db.prepare(`SELECT DISTINCT user_id FROM (${IDS[c]}) WHERE user_id IN (SELECT value FROM json_each(?))`).pluck().all(ids) as string[];
    for (const id of hits) out.get(id)?.add(c);
  }
  return out;
}
