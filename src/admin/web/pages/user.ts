/**
 * One user: who they are in the directory, each app's state in the identity map, the role the
 * rules want and why, the next action the planner would take, and their tasks.
 */
import { stateLabel, type Task } from "../../../domain/task.js";
import type { AppConfig } from "../../../provisioning/config-schema.js";
import type { AppAccount } from "../../../domain/model.js";
import { appLabel, roleLabel } from "../app-labels.js";
import { html, path, type SafeHtml } from "../html.js";
import type { ActiveHold } from "../../../db/approvals.js";
import { csrfField, layout, notice, type Notice, type Viewer } from "../layout.js";
import { ago, due, utc } from "../time-format.js";
import { email } from "../line-breaks.js";
import type { UserTimeline } from "../../user-timeline.js";
import { timelineSection } from "./timeline.js";

export interface UserAppRow {
  readonly app: string;
  readonly account: AppAccount | undefined;
  readonly wanted: { readonly role: string; readonly because: string } | undefined;
  /** describeAction() of the planned action, if the planner would act. */
  readonly nextAction: string | undefined;
  readonly openTask: Task | undefined;
  /** An open or blocked task the current plan no longer wants: cancelled on the user's next pass. */
  readonly withdrawing: { readonly task: Task; readonly reason: string } | undefined;
  /** The planned action is destructive and waits for an admin (or an admin rejected it). */
  readonly held: ActiveHold | undefined;
}

export interface UserPageData {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly apps: readonly AppConfig[];
  readonly userId: string;
  /** Undefined once the IdP deleted the user (their accounts and tasks may remain). */
  readonly user: { readonly userName: string; readonly displayName: string; readonly email: string; readonly active: boolean; readonly groups: readonly string[] } | undefined;
  readonly rows: readonly UserAppRow[];
  /** Newest first. */
  readonly tasks: readonly Task[];
  /** The user's pass stopped (a dead letter): nothing planned runs until an admin retries it. */
  readonly deadJob?: { readonly id: number; readonly error: string } | undefined;
  readonly notice?: Notice | undefined;
  /** Every access change, oldest first (docs/offboarding-evidence.md). */
  readonly timeline?: UserTimeline | undefined;
}

function stateCell(apps: readonly AppConfig[], a: AppAccount | undefined): SafeHtml {
  if (!a) return html`<span class="muted">no account</span>`;
  return html`<span class="badge state">${a.state}</span>
    ${a.role !== null && html` as <strong>${roleLabel(apps, a.app, a.role)}</strong>`}
    ${a.externalId !== null && html`<br><span class="muted">id <code>${a.externalId}</code></span>`}
    ${a.lastError !== null && html`<br><span class="muted">last error: ${a.lastError}</span>`}`;
}

function taskRow(t: Task, d: UserPageData): SafeHtml {
  const closed = t.completedAt ?? (t.state === "cancelled" ? t.updatedAt : null);
  const when = closed !== null ? html`${ago(closed, d.now)}<br><span class="muted nowrap">${utc(closed)}</span>` : html`${due(t.dueAt, d.now).text}`;
  const detail = t.note ?? t.reason;
  return html`<tr>
    <td>#${t.id}</td>
    <td>${appLabel(d.apps, t.app)}</td>
    <td>${t.state === "open" || t.state === "blocked" ? html`<a href="/admin#task-${t.id}">${t.title}</a>` : t.title}</td>
    <td><span class="badge state">${stateLabel(t)}</span>${t.verifiedHow === "found by read-back" && html`<br><span class="muted">found by read-back</span>`}</td>
    <td>${when}</td>
    <td>${t.completedBy ?? t.assignee ?? ""}</td>
    <td>${detail ?? ""}</td>
    <td>${
      t.state === "failed"
        ? html`<form method="post" action="${path("tasks", t.id, "reopen")}">${csrfField(d.viewer)}<input type="hidden" name="back" value="user"><button type="submit" aria-label="Reopen task #${t.id}">Reopen</button></form>`
        : ""
    }</td>
  </tr>`;
}

export function userPage(d: UserPageData): SafeHtml {
  const u = d.user;
  const title = u?.displayName ?? d.userId;
  const body = html`<h1>${title}</h1>
${
  u
    ? html`<p class="lede"><code>${email(u.userName)}</code>${u.email !== u.userName && html` · ${email(u.email)}`} · ${u.active ? "active in the directory" : html`<strong>inactive</strong> in the directory`}</p>
<p>Groups: ${u.groups.length === 0 ? html`<span class="muted">none</span>` : u.groups.map((g, i) => html`${i > 0 ? ", " : ""}<strong>${g}</strong>`)}</p>`
    : html`<p class="lede">This user is no longer in the directory (SCIM id <code>${d.userId}</code>).</p>`
}
${notice(d.notice)}
<h2>Apps</h2>
<div class="table-wrap" role="region" aria-label="Apps" tabindex="0">
<table>
  <thead><tr><th scope="col">App</th><th scope="col">In the app now</th><th scope="col">Should have, and why</th><th scope="col">Next planned action</th></tr></thead>
  <tbody>
  ${d.rows.map(
    (r) => html`<tr>
    <th scope="row">${appLabel(d.apps, r.app)}</th>
    <td>${stateCell(d.apps, r.account)}</td>
    <td>${r.wanted ? html`<strong>${roleLabel(d.apps, r.app, r.wanted.role)}</strong><br><span class="muted">${r.wanted.because}</span>` : html`<span class="muted">${d.user !== undefined && !d.user.active ? "no access (the user is inactive)" : "no access (no rule grants it)"}</span>`}</td>
    <td>${
      r.held
        ? html`${r.nextAction ?? r.held.action}: <strong>${r.held.changeState === "pending" ? "held for approval" : "rejected by an admin, not carried out"}</strong> (<a href="/admin/approvals">change set ${r.held.changeId}</a>)`
        : r.withdrawing
        ? html`Cancelling <a href="/admin#task-${r.withdrawing.task.id}">task #${r.withdrawing.task.id}</a> (${r.withdrawing.task.title}): ${r.withdrawing.reason}`
        : r.openTask
          ? html`${r.openTask.state === "blocked" ? "Blocked: " : "Waiting for "}<a href="/admin#task-${r.openTask.id}">task #${r.openTask.id}</a>: ${r.openTask.title}`
          : r.nextAction !== undefined && d.deadJob
            ? html`<strong>Stopped:</strong> ${d.deadJob.error}; retry from <a href="/admin/jobs">/admin/jobs</a>`
            : (r.nextAction ?? html`<span class="muted">nothing: in sync</span>`)
    }</td>
  </tr>`,
  )}
  </tbody>
</table>
</div>
<h2>Tasks</h2>
${
  d.tasks.length === 0
    ? html`<p class="empty">No manual tasks for this user.</p>`
    : html`<div class="table-wrap" role="region" aria-label="Tasks" tabindex="0">
<table>
  <thead><tr><th scope="col">Task</th><th scope="col">App</th><th scope="col">What</th><th scope="col">State</th><th scope="col">When</th><th scope="col">By</th><th scope="col">Note or reason</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
  <tbody>${d.tasks.map((t) => taskRow(t, d))}</tbody>
</table>
</div>`
}
${d.timeline && timelineSection(d.timeline, d.apps)}`;
  return layout({ title, viewer: d.viewer, body });
}
