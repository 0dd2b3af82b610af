/**
 * What the queue says after a person acted on a task, rendered from the task as stored (never
 * from the request), so a reload or a shared link shows the truth: the result, what the identity
 * map now says, and the follow-up task if the action raised one.
 */
import type { AppAccount } from "../../../domain/model.js";
import { stateLabel, type Task } from "../../../domain/task.js";
import type { AppConfig } from "../../../provisioning/config-schema.js";
import { appLabel } from "../app-labels.js";
import { html, path } from "../html.js";
import { csrfField, type Notice, type Viewer } from "../layout.js";

export const VERBS = ["claim", "done", "fail", "reopen"] as const;
export type Verb = (typeof VERBS)[number];

export interface Outcome {
  readonly verb: Verb;
  readonly task: Task;
  /** The user's open task in the same app now, if any (the follow-up of a done task). */
  readonly next: Task | undefined;
  readonly account: AppAccount | undefined;
}

/** Whether the bridge will check the work in the app (docs/manual-tasks.md, "Verified by read-back"). */
function verification(task: Task) {
  if (task.verification === "pending") return html`<p>Now <strong>${stateLabel(task)}</strong>: the bridge reads the app to see the work, and reopens the task if it does not.</p>`;
  if (task.verification === "unverifiable") return html`<p>Now <strong>${stateLabel(task)}</strong>: this app cannot be read back, so the bridge trusts the reviewer.</p>`;
  return html``;
}

export function outcomeNotice(o: Outcome, apps: readonly AppConfig[], viewer: Viewer): Notice {
  const { task } = o;
  const title = html`“${task.title}” (task #${task.id})`;
  const app = appLabel(apps, task.app);
  const next = o.next && o.next.id !== task.id ? html`<p>Next: <a href="/admin#task-${o.next.id}">${o.next.title}</a> is in the queue.</p>` : html``;
  const state = o.account ? html`<p>${app} now shows ${o.account.profile?.email ?? "the user"} as <strong>${o.account.state}</strong>.</p>` : html``;
  switch (o.verb) {
    case "done":
      return {
        kind: "success",
        body: html`<p><strong>Done:</strong> ${title}, recorded by ${task.completedBy ?? viewer.actor}${task.note === null ? "" : html` with the note “${task.note}”`}.</p>${verification(task)}${state}${next}`,
      };
    case "fail":
      return {
        kind: "success",
        body: html`<p><strong>Marked failed:</strong> ${title}. Reason: ${task.reason ?? "none"}.</p>
          ${
            task.state === "failed"
              ? html`<form method="post" action="${path("tasks", task.id, "reopen")}">${csrfField(viewer)}<button type="submit">Reopen it</button></form> when it can be tried again.`
              : html``
          }`,
      };
    case "claim":
      return { kind: "success", body: html`<p><strong>Claimed:</strong> ${title} is yours, ${task.assignee ?? viewer.actor}.</p>` };
    case "reopen":
      return { kind: "success", body: html`<p><strong>Reopened:</strong> <a href="/admin#task-${task.id}">${task.title}</a> is back in the queue.</p>` };
  }
}
