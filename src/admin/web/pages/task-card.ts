/**
 * One task in the queue: what to do (title and numbered steps), the values to type with copy
 * buttons, when it is due, why it is blocked, and the forms to claim it, mark it done (with an
 * optional note as evidence) or failed (a reason is required, by the browser and by TaskReview).
 */
import type { Task } from "../../../domain/task.js";
import type { AppConfig } from "../../../provisioning/config-schema.js";
import { roleLabel } from "../app-labels.js";
import { html, path, type SafeHtml } from "../html.js";
import { csrfField, isAdmin, type Viewer } from "../layout.js";
import { email } from "../line-breaks.js";
import { ago, due, utc } from "../time-format.js";

/** Longest note or reason accepted from a form (the router checks the same limit). */
export const NOTE_MAX = 2000;

function copyButton(value: string, what: string): SafeHtml {
  return html`<button type="button" class="copy" data-copy="${value}" aria-label="Copy ${what} ${value}" hidden>Copy</button>`;
}

/** An http(s) URL in a step's text, up to a space, a quote, "›" or closing punctuation. */
const STEP_URL = /https?:\/\/[^\s<>"'›]+?(?=[.,;:!?)\]]*(?:[\s<>"'›]|$))/g;

/**
 * A step with its portal URLs as links, so a person opens the portal in one click. Only http and
 * https URLs (parsed, never javascript: or data:); rel keeps the console's address from the portal.
 */
function step(text: string): SafeHtml {
  const parts: (SafeHtml | string)[] = [];
  let at = 0;
  for (const m of text.matchAll(STEP_URL)) {
    const url = URL.parse(m[0]);
    if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
    parts.push(text.slice(at, m.index), html`<a href="${m[0]}" rel="noopener noreferrer">${m[0]}</a>`);
    at = m.index + m[0].length;
  }
  parts.push(text.slice(at));
  return html`${parts}`;
}

function actions(task: Task, viewer: Viewer): SafeHtml {
  if (task.state !== "open") return html``;
  const id = task.id;
  const describedBy = `task-${id}-title`;
  const claim =
    task.assignee === viewer.actor
      ? html`<p class="muted">You claimed this task.</p>`
      : html`<form method="post" action="${path("tasks", id, "claim")}">
          ${csrfField(viewer)}
          <button type="submit" aria-describedby="${describedBy}">${task.assignee === null ? "Claim" : "Take over"}</button>
        </form>`;
  return html`<div class="actions">
    ${claim}
    <form method="post" action="${path("tasks", id, "done")}">
      ${csrfField(viewer)}
      <div class="field-row">
        <div>
          <label for="note-${id}">Note or evidence <span class="hint">(optional)</span></label>
          <textarea id="note-${id}" name="note" rows="1" maxlength="${NOTE_MAX}"></textarea>
        </div>
        <button type="submit" class="primary" aria-describedby="${describedBy}">Mark done</button>
      </div>
    </form>
    <form method="post" action="${path("tasks", id, "fail")}">
      ${csrfField(viewer)}
      <div class="field-row">
        <div>
          <label for="reason-${id}">Why it failed <span class="hint">(required)</span></label>
          <input type="text" id="reason-${id}" name="reason" required maxlength="${NOTE_MAX}" autocomplete="off">
        </div>
        <button type="submit" class="danger" aria-describedby="${describedBy}">Mark failed</button>
      </div>
    </form>
  </div>`;
}

export function taskCard(task: Task, apps: readonly AppConfig[], viewer: Viewer, now: Date): SafeHtml {
  const d = due(task.dueAt, now);
  const overdue = task.state === "open" && d.overdue;
  const role = roleLabel(apps, task.app, task.role);
  const name = task.profile.displayName || task.profile.email;
  return html`<article class="task${overdue ? " overdue" : ""}${task.state === "blocked" ? " blocked" : ""}" id="task-${task.id}" aria-labelledby="task-${task.id}-title">
  <header>
    <h3 id="task-${task.id}-title">${task.title}</h3>
    <p class="badges">
      ${overdue && html`<span class="badge overdue">Overdue</span>`}
      ${task.state === "blocked" && html`<span class="badge blocked">Blocked</span>`}
      ${task.assignee !== null && html`<span class="badge claimed">Claimed by ${task.assignee}</span>`}
    </p>
  </header>
  <dl class="facts">
    <dt>User</dt>
    <dd>${isAdmin(viewer) ? html`<a href="${path("users", task.userId)}">${name}</a>` : name}</dd>
    <dt>Email</dt>
    <dd><code>${email(task.profile.email)}</code>${copyButton(task.profile.email, "email")}</dd>
    ${task.role !== null && html`<dt>Role</dt><dd><code>${role}</code>${copyButton(role, "role")}</dd>`}
    <dt>Due</dt>
    <dd><time datetime="${task.dueAt}">${task.state === "blocked" ? utc(task.dueAt) : html`${d.text} <span class="muted">(${utc(task.dueAt)})</span>`}</time></dd>
    <dt>Task</dt>
    <dd class="muted">#${task.id} · ${task.action} · raised ${ago(task.createdAt, now)}</dd>
  </dl>
  ${task.state === "blocked" && html`<p class="blocked-reason"><strong>Blocked:</strong> ${task.reason ?? "no reason recorded"}</p>`}
  ${task.state === "open" && task.reason !== null && html`<p class="blocked-reason"><strong>Reopened:</strong> ${task.reason}</p>`}
  <h4 id="task-${task.id}-steps">Steps</h4>
  <ol class="steps" aria-labelledby="task-${task.id}-steps">
    ${task.steps.map((s) => html`<li>${step(s)}</li>`)}
  </ol>
  ${actions(task, viewer)}
</article>`;
}
