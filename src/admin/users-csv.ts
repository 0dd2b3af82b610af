/**
 * The access matrix as CSV: one row per user, per app its state, role and wanted role. RFC 4180:
 * CRLF line ends, every field quoted when it holds a comma, quote or line break, quotes doubled.
 * A cell a spreadsheet would read as a formula (OWASP "CSV Injection": it starts with = + - @, a
 * tab or a carriage return) is prefixed with a single quote, so a crafted displayName cannot run.
 */
import type { Directory } from "../db/directory.js";
import { BridgeError } from "../errors.js";
import type { UserAccessSources } from "./user-access.js";
import { describeUsers, listUsers, type ListedUser, type UserListQuery } from "./user-list.js";

/** Each user is planned (a few indexed reads per app): 5,000 take about a second; beyond that, narrow the filter. */
export const MAX_CSV_USERS = 5000;
const BATCH = 200;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | boolean | null): string {
  let text = value === null ? "" : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly (string | number | boolean | null)[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/** The header and one line per user; `apps` gives the app columns and their order. */
export function usersCsv(apps: readonly string[], users: readonly ListedUser[]): string {
  const header = ["userName", "displayName", "email", "active", "groups", "openTask", "deadJob", "drift", ...apps.flatMap((a) => [`${a} state`, `${a} role`, `${a} wanted role`])];
  const lines = users.map((u) => {
    const perApp = apps.flatMap((app) => {
      const a = u.access.apps.find((x) => x.app === app);
      return [a?.account?.state ?? "none", a?.account?.role ?? null, a?.wanted?.role ?? null];
    });
    return csvLine([u.userName, u.displayName, u.email, u.active, u.groups.join("; "), u.conditions.has("openTask"), u.conditions.has("deadJob"), u.conditions.has("drift"), ...perApp]);
  });
  return csvLine(header) + lines.join("");
}

/** Every user the query matches (startIndex and count ignored), read in bounded batches. */
export function exportUsersCsv(o: UserAccessSources, directory: Directory, q: Omit<UserListQuery, "startIndex" | "count">): string {
  const first = listUsers(directory, { ...q, startIndex: 1, count: BATCH });
  if (first.total > MAX_CSV_USERS) {
    throw new BridgeError("tooMany", `${first.total} users match; the export takes at most ${MAX_CSV_USERS}: narrow the filter`);
  }
  const users = describeUsers(o, first.rows);
  for (let start = 1 + BATCH; start <= first.total; start += BATCH) users.push(...describeUsers(o, listUsers(directory, { ...q, startIndex: start, count: BATCH }).rows));
  const apps = [...new Set([...o.provisioning.apps.map((a) => a.name), ...users.flatMap((u) => u.access.apps.map((a) => a.app))])];
  return usersCsv(apps, users);
}
