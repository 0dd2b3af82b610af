/**
 * What a task's HaloPSA ticket says: the task title as summary (with the marker that finds it
 * again), and as details the numbered steps, the person, the role, the due time and a link back to
 * the task on the review page. HaloPSA renders `details_html` as HTML, so every value is escaped.
 */
import type { Task } from "../domain/task.js";

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value: string): string => value.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** In the summary, so HaloPSA's summary search finds the ticket of a task again. */
export const summaryMarker = (taskId: number): string => `(scim-bridge task ${taskId})`;

/** The ticket's third_party_id_string: the task id and the time it was raised, unique across databases in practice. */
export const ticketTag = (task: Pick<Task, "id" | "createdAt">): string => `scim-bridge:task:${task.id}:${Date.parse(task.createdAt).toString(36)}`;

export function ticketSummary(task: Task): string {
  return `${task.title} ${summaryMarker(task.id)}`;
}

/** `queueUrl`: the review page (…/admin); the task is its anchor there. */
export function ticketDetails(task: Task, queueUrl: string): string {
  const steps = task.steps.map((s) => `<li>${esc(s)}</li>`).join("");
  const person = `${esc(task.profile.displayName)} &lt;${esc(task.profile.email)}&gt;`;
  return [
    `<p>${esc(task.title)}</p>`,
    `<ol>${steps}</ol>`,
    `<p>Person: ${person}<br>Role: ${esc(task.role ?? "none")}<br>Due: ${esc(task.dueAt)}</p>`,
    `<p><a href="${esc(`${queueUrl}#task-${task.id}`)}">Task ${task.id} on the scim-bridge review page</a>. Close this ticket when the work is done: the bridge then completes the task with the last note as evidence.</p>`,
  ].join("");
}
