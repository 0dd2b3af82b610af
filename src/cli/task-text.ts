/**
 * Tasks as terminal text: one line per task for `tasks list`, a block for `tasks show`.
 */
import { type TaskStore } from "../db/tasks.js";
import { isOverdue, stateLabel, type Task } from "../domain/task.js";
import { raisesTasks, type AppConfig } from "../apps/app-types.js";

/** "2026-11-23 19:46Z": minutes are enough to plan work by. */
const shortTime = (iso: string): string => `${iso.slice(0, 16).replace("T", " ")}Z`;

/** The columns of `tasks list`. */
export const TASK_LINE_HEADER = "TASK\tAPP\tSTATE\tDUE\tWHAT <EMAIL>";

export function formatTaskLine(t: Task, now: Date): string {
  const flags = [stateLabel(t), ...(isOverdue(t, now) ? ["OVERDUE"] : [])].join(" ");
  const who = t.assignee ? `  claimed by ${t.assignee}` : "";
  return `#${t.id}\t${t.app}\t${flags}\tdue ${shortTime(t.dueAt)}\t${t.title} <${t.profile.email}>${who}`;
}

export function formatTask(t: Task, now: Date): string[] {
  const lines = [
    `Task #${t.id}: ${t.title}`,
    `  app:     ${t.app}`,
    `  state:   ${stateLabel(t)}${isOverdue(t, now) ? " (OVERDUE)" : ""}`,
    `  user:    ${t.profile.displayName} <${t.profile.email}> (id ${t.userId})`,
    `  action:  ${t.action}${t.role ? ` as ${t.role}` : ""}`,
    `  due:     ${t.dueAt}`,
  ];
  if (t.assignee) lines.push(`  claimed: by ${t.assignee} at ${t.claimedAt ?? "?"}`);
  if (t.reason) lines.push(`  reason:  ${t.reason}`);
  if (t.completedBy) lines.push(`  closed:  by ${t.completedBy} at ${t.completedAt ?? "?"}`);
  if (t.note) lines.push(`  note:    ${t.note}`);
  if (t.verifiedHow !== null) lines.push(`  verified: ${t.verifiedHow} at ${t.verifiedAt ?? "?"}`);
  if (t.supersededBy !== null) lines.push(`  replaced by task #${t.supersededBy}`);
  lines.push("  steps:");
  t.steps.forEach((s, i) => lines.push(`    ${i + 1}. ${s}`));
  return lines;
}

/** " huntress: 2 open (1 overdue), 0 blocked; portal: …" for every manual app. */
export function formatCounts(counts: ReturnType<TaskStore["counts"]>, apps: readonly AppConfig[]): string {
  const names = [...new Set([...apps.filter(raisesTasks).map((a) => a.name), ...Object.keys(counts)])];
  if (names.length === 0) return "";
  const parts = names.map((n) => {
    const c = counts[n] ?? { open: 0, blocked: 0, overdue: 0 };
    return `${n}: ${c.open} open (${c.overdue} overdue), ${c.blocked} blocked`;
  });
  return ` ${parts.join("; ")}.`;
}
