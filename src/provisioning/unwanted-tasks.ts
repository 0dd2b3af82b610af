/**
 * The plan and the task queue never disagree. A manual task is the plan's wish made before a
 * person acted; when the plan changes its mind (the user is back in the group, a misspelt rule is
 * fixed), the open or blocked task it no longer wants is cancelled on the user's next pass, saying
 * why in words. Otherwise a Remove task stays open while the plan says "up to date", and a person
 * completing it takes away access the rules grant (docs/manual-tasks.md, "When the plan changes
 * its mind").
 *
 * The pass runs after the user's actions are applied: a task an action replaced is already
 * superseded, so what is left and contradicts the wanted access is stale.
 */
import type { RemovalReason, WantedAccess } from "../domain/model.js";
import type { Task, TaskAction } from "../domain/task.js";
import { roleLabel } from "../apps/manual/templates.js";
import { raisesTasks, type TaskAppConfig } from "../apps/app-types.js";
import type { ProvisioningDeps, UserPlan } from "./sync-user.js";

const REVOKES: readonly string[] = ["remove", "disable", "delete"] satisfies readonly TaskAction[];
const GRANTS: readonly string[] = ["invite", "reinvite", "enable", "changeRole"] satisfies readonly TaskAction[];

/**
 * Why the plan no longer wants an open or blocked task, or undefined while it still does. A task
 * that takes access away is unwanted once a rule grants it again (or grants another role than a
 * role change asks for); one that gives access is unwanted once nothing grants it.
 */
export function unwantedReason(app: TaskAppConfig, task: Pick<Task, "action" | "role">, wanted: WantedAccess | undefined, removal: RemovalReason): string | undefined {
  const label = (role: string | null) => roleLabel(app.template, role);
  if (wanted) {
    const grant = wanted.reasons[0] ? `the rule for '${wanted.reasons[0].group}' grants ${label(wanted.role)}` : `the rules grant ${label(wanted.role)}`;
    if (REVOKES.includes(task.action)) return `no longer wanted: ${grant} again`;
    if (task.action === "changeRole" && task.role !== wanted.role) return `no longer wanted: ${grant}, not ${label(task.role)}`;
    return undefined;
  }
  if (!GRANTS.includes(task.action)) return undefined;
  if (removal === "inactive") return "no longer wanted: the user is deactivated in the directory";
  if (removal === "deleted") return "no longer wanted: the user was deleted from the directory";
  return `no longer wanted: no rule grants ${app.template.label} any more`;
}

/**
 * Cancels, for each app that raises tasks, the user's open or blocked task the plan no longer
 * wants, each with its audit event, in one transaction. Returns how many were cancelled.
 */
export function withdrawUnwantedTasks(deps: Pick<ProvisioningDeps, "db" | "apps" | "taskWriter" | "audit" | "log">, plan: UserPlan, requestId: string | null): number {
  const unwanted = (app: TaskAppConfig) => (task: Task) => unwantedReason(app, task, plan.wanted.find((w) => w.app === app.name), plan.removal);
  const apps = deps.apps.filter(raisesTasks);
  // Most passes find nothing: look first, and take the write lock only when there is something to cancel.
  if (!apps.some((app) => deps.taskWriter.wouldWithdraw(app.name, plan.userId, unwanted(app)))) return 0;
  const cancelled = deps.db
    .transaction(() => {
      let n = 0;
      for (const app of apps) {
        for (const event of deps.taskWriter.withdraw(app.name, plan.userId, unwanted(app), requestId)) {
          deps.audit.append({ actor: "worker", requestId, action: event.action, resourceType: "AppAccount", resourceId: `${plan.userId}/${app.name}`, after: event.detail });
          n++;
        }
      }
      return n;
    })
    .immediate();
  if (cancelled > 0) deps.log.info("cancelled tasks the plan no longer wants", { requestId, userId: plan.userId, cancelled });
  return cancelled;
}
