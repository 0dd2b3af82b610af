/**
 * Writes a task from an app's template: fills the title and steps for the user, sets the due time
 * from the app's SLA, and supersedes the open task it replaces (cancelled, with the reason and a
 * link to the new one). Callers hold the transaction.
 */
import type { Clock } from "../../clock.js";
import type { TaskStore } from "../../db/tasks.js";
import type { Task } from "../../domain/task.js";
import type { ManualAppConfig } from "../../provisioning/config-schema.js";
import type { Profile } from "../../domain/model.js";
import { fill, roleLabel, type TaskAction } from "./templates.js";

export interface TaskRequest {
  readonly userId: string;
  readonly profile: Profile;
  readonly action: TaskAction;
  readonly role: string | null;
  readonly previousRole: string | null;
  readonly blockedReason?: string | undefined;
  readonly requestId: string | null;
}

export function writeTask(app: ManualAppConfig, tasks: TaskStore, clock: Clock, r: TaskRequest, open: Task | undefined): Task {
  const t = app.template;
  const step = t.actions[r.action];
  if (!step) throw new Error(`the ${app.name} template has no "${r.action}" action`);
  const values = {
    name: r.profile.displayName,
    email: r.profile.email,
    userName: r.profile.userName,
    role: roleLabel(t, r.role),
    previousRole: roleLabel(t, r.previousRole),
    portalUrl: t.portalUrl ?? "the portal",
    label: t.label,
  };
  const title = fill(step.title, values);
  if (open) tasks.cancel(open.id, `superseded by a newer plan: ${title}`);
  const task = tasks.insert({
    app: app.name,
    userId: r.userId,
    action: r.action,
    role: r.role,
    title,
    steps: step.steps.map((s) => fill(s, values)),
    profile: r.profile,
    state: r.blockedReason ? "blocked" : "open",
    reason: r.blockedReason ?? null,
    dueAt: new Date(clock.now().getTime() + app.slaHours * 3_600_000).toISOString(),
    requestId: r.requestId,
  });
  if (open) tasks.setSupersededBy(open.id, task.id);
  return task;
}
