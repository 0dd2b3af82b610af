/**
 * Every directory user with their access in each configured app: the access matrix of the whole
 * organisation, searchable and filterable, a page at a time, with the same list as CSV.
 */
import type { UserCondition } from "../../../db/user-conditions.js";
import type { AppConfig } from "../../../provisioning/config-schema.js";
import type { AppAccessRow } from "../../user-access.js";
import type { ListedUser } from "../../user-list.js";
import { appLabel, roleLabel } from "../app-labels.js";
import { html, path, type SafeHtml } from "../html.js";
import { layout, type Viewer } from "../layout.js";

/** The page's search form as submitted; every field optional. */
export interface UsersFilter {
  readonly q: string;
  readonly active: "" | "yes" | "no";
  readonly task: boolean;
  readonly dead: boolean;
  readonly drift: boolean;
  readonly page: number;
}

export interface UsersPageData {
  readonly viewer: Viewer;
  readonly apps: readonly AppConfig[];
  readonly filter: UsersFilter;
  readonly users: readonly ListedUser[];
  readonly total: number;
  readonly pageSize: number;
}

const CONDITION: Record<UserCondition, string> = { openTask: "open task", deadJob: "dead job", drift: "drift" };

/** The query string of the filter (without the page unless asked), for the CSV link and paging. */
export function filterQuery(f: UsersFilter, page?: number): string {
  const p = new URLSearchParams();
  if (f.q.trim() !== "") p.set("q", f.q.trim());
  if (f.active !== "") p.set("active", f.active);
  if (f.task) p.set("task", "1");
  if (f.dead) p.set("dead", "1");
  if (f.drift) p.set("drift", "1");
  if (page !== undefined && page > 1) p.set("page", String(page));
  const s = p.toString();
  return s === "" ? "" : `?${s}`;
}

function cell(apps: readonly AppConfig[], a: AppAccessRow | undefined): SafeHtml {
  if (!a) return html`<span class="muted">none</span>`;
  const account = a.account;
  const wanted = a.wanted?.role ?? null;
  const head = account
    ? html`<span class="badge state">${account.state}</span>${account.role !== null && html` <strong>${roleLabel(apps, a.app, account.role)}</strong>`}`
    : html`<span class="muted">no account</span>`;
  const wants = wanted !== null && wanted !== account?.role ? html`<br><span class="muted">wanted: ${roleLabel(apps, a.app, wanted)}</span>` : "";
  const task = a.openTask ? html`<br><span class="muted">task ${a.openTask.state}${a.openTask.overdue ? ", overdue" : ""}</span>` : "";
  const held = a.held ? html`<br><span class="muted">held for approval</span>` : "";
  return html`${head}${wants}${task}${held}`;
}

function row(u: ListedUser, d: UsersPageData, appNames: readonly string[]): SafeHtml {
  const marks = [...u.conditions].map((c) => html` <span class="badge blocked">${CONDITION[c]}</span>`);
  return html`<tr>
    <th scope="row"><a href="${path("users", u.access.userId)}">${u.displayName}</a><br><span class="muted wrap">${u.userName}</span>${u.email !== u.userName && html`<br><span class="muted wrap">${u.email}</span>`}</th>
    <td>${u.groups.length === 0 ? html`<span class="muted">none</span>` : u.groups.join(", ")}</td>
    <td><span class="badge state">${u.active ? "active" : "inactive"}</span>${marks}</td>
    ${appNames.map((app) => html`<td>${cell(d.apps, u.access.apps.find((a) => a.app === app))}</td>`)}
  </tr>`;
}

function form(f: UsersFilter): SafeHtml {
  const option = (value: UsersFilter["active"], label: string) => html`<option value="${value}"${f.active === value ? html` selected` : ""}>${label}</option>`;
  const box = (name: string, checked: boolean, label: string) =>
    html`<div class="check"><input type="checkbox" id="f-${name}" name="${name}" value="1"${checked ? html` checked` : ""}><label for="f-${name}">${label}</label></div>`;
  return html`<form method="get" action="/admin/users" class="user-filter" role="search" aria-label="Users">
  <div class="search-field"><label for="f-q">Search <span class="hint">name, userName, email or group</span></label><input type="text" id="f-q" name="q" value="${f.q}" maxlength="200"></div>
  <div><label for="f-active">Active in the directory</label><select id="f-active" name="active">${option("", "All users")}${option("yes", "Active only")}${option("no", "Inactive only")}</select></div>
  <fieldset><legend>Only users with</legend>${box("task", f.task, "an open task")}${box("dead", f.dead, "a dead job")}${box("drift", f.drift, "drift")}</fieldset>
  <div class="form-actions"><button type="submit" class="primary">Search</button> <a href="/admin/users">Clear</a></div>
</form>`;
}

function paging(d: UsersPageData): SafeHtml {
  const first = (d.filter.page - 1) * d.pageSize + 1;
  const last = first + d.users.length - 1;
  const pages = Math.max(1, Math.ceil(d.total / d.pageSize));
  return html`<nav class="paging" aria-label="Pages of users">
  <p>${d.users.length === 0 ? "No users on this page" : `Users ${first}–${last} of ${d.total}`} (page ${d.filter.page} of ${pages})</p>
  ${d.filter.page > 1 && html`<a href="/admin/users${filterQuery(d.filter, d.filter.page - 1)}" rel="prev">Previous page</a>`}
  ${d.filter.page < pages && html`<a href="/admin/users${filterQuery(d.filter, d.filter.page + 1)}" rel="next">Next page</a>`}
</nav>`;
}

export function usersPage(d: UsersPageData): SafeHtml {
  const appNames = [...new Set([...d.apps.map((a) => a.name), ...d.users.flatMap((u) => u.access.apps.map((a) => a.app))])];
  const body = html`<h1>Users</h1>
<p class="lede">Every user in the directory and, per app, the account's state and role: who has access to what across the organisation.</p>
${form(d.filter)}
<p><a href="/admin/users.csv${filterQuery(d.filter)}" download="users.csv">Download these users as CSV</a> <span class="muted">(all ${d.total} matching, not only this page)</span></p>
${
  d.users.length === 0
    ? html`<p class="empty">${d.total === 0 ? "No user matches." : "No users on this page."}</p>`
    : html`<div class="table-wrap">
<table class="matrix">
  <caption>Access by app: state and role</caption>
  <thead><tr><th scope="col">User</th><th scope="col">Groups</th><th scope="col">Status</th>${appNames.map((app) => html`<th scope="col">${appLabel(d.apps, app)}</th>`)}</tr></thead>
  <tbody>
  ${d.users.map((u) => row(u, d, appNames))}
  </tbody>
</table>
</div>`
}
${paging(d)}`;
  return layout({ title: "Users", viewer: d.viewer, section: "users", body });
}
