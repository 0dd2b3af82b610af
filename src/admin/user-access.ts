/**
 * A directory user's access per app: the wanted role with the rule that grants it, what exists in
 * the app (the identity map), what provisioning would do next, the manual task owed and any hold.
 * The admin API (users-api.ts), its CSV export and the users page all read it from here.
 */
import type { Clock } from "../clock.js";
import type { ApprovalStore } from "../db/approvals.js";
import type { TaskStore } from "../db/tasks.js";
import { isOverdue } from "../domain/task.js";
import { describeAction } from "../provisioning/plan.js";
import { explain } from "../provisioning/rules.js";
import { planUser, type ProvisioningDeps } from "../provisioning/sync-user.js";

export interface UserAccessSources {
  readonly provisioning: ProvisioningDeps;
  readonly tasks: Pick<TaskStore, "list">;
  readonly approvals: Pick<ApprovalStore, "activeHoldsOf">;
  readonly clock: Clock;
}

export type UserAccess = NonNullable<ReturnType<typeof userAccess>>;
export type AppAccessRow = UserAccess["apps"][number];

/** A user's access per app; undefined when neither the directory nor the identity map knows the user. */
export function userAccess(o: UserAccessSources, userId: string, active: boolean | undefined) {
  const deps = o.provisioning;
  const p = planUser(deps, userId);
  if (p.userName === null && p.accounts.length === 0) return undefined;
  const apps = [...new Set([...deps.apps.map((a) => a.name), ...p.accounts.map((a) => a.app)])];
  const owed = o.tasks.list({ userId }).filter((t) => t.state === "open" || t.state === "blocked");
  const holds = o.approvals.activeHoldsOf(userId);
  const now = o.clock.now();
  return {
    userId,
    userName: p.userName,
    active: active ?? (p.userName === null ? false : deps.directory.snapshot(userId).user?.active === true),
    apps: apps.map((app) => {
      const w = p.wanted.find((x) => x.app === app);
      const account = p.accounts.find((a) => a.app === app);
      const action = p.actions.find((a) => a.app === app);
      const task = owed.find((t) => t.app === app);
      const hold = holds.find((h) => h.app === app);
      return {
        app,
        wanted: w ? { role: w.role, because: explain(w), reasons: w.reasons } : null,
        account: account ?? null,
        pendingAction: action ? describeAction(action) : null,
        // Present only while a manual task is owed in this app.
        ...(task ? { openTask: { id: task.id, title: task.title, state: task.state, dueAt: task.dueAt, overdue: isOverdue(task, now) } } : {}),
        // Present only while the pending action is destructive and waits for (or was refused) approval.
        ...(hold ? { held: { changeSet: hold.changeId, state: hold.changeState, action: hold.action, detail: hold.detail } } : {}),
      };
    }),
  };
}
