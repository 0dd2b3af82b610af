/**
 * The one writer of manual tasks for provisioning: turns a connector's task intent into rows.
 * Fills the title and steps from the app's template, sets the due time from the app's SLA, and
 * supersedes the open task it replaces (cancelled, with the reason and a link to the new one).
 * Re-applying the same plan finds the same open task and changes nothing; a task a person failed
 * waits for them to reopen it rather than coming back on every pass. Callers hold the transaction.
 *
 * The keep-one guard has the last word here: a task that takes an app's kept role (Huntress:
 * Account Admin) from someone is raised open only while another confirmed holder would remain,
 * asked of the store inside the caller's write transaction. A connector's own answer was read
 * before it; two removals of the same batch, or of two users processed at once, would each have
 * counted the other as staying (docs/manual-tasks.md, "Keep one Account Admin").
 */
import type { Clock } from "../clock.js";
import type { EventIntent, TaskIntent } from "../domain/connector.js";
import type { Profile, RemovalReason } from "../domain/model.js";
import type { Task, TaskAction } from "../domain/task.js";
import type { IdentityMap } from "../db/identity-map.js";
import type { TaskStore } from "../db/tasks.js";
import { lastHolderReason } from "../apps/manual/task-outcome.js";
import { fill, roleLabel } from "../apps/manual/templates.js";
import { raisesTasks, type AppConfig, type TaskAppConfig } from "../apps/app-types.js";
import type { Rule } from "./config-schema.js";
import { whyLost } from "./grant-loss.js";

export interface TaskRequest {
  readonly userId: string;
  readonly profile: Profile;
  readonly action: TaskAction;
  readonly role: string | null;
  readonly previousRole: string | null;
  readonly blockedReason?: string | undefined;
  /** Goes before the template's steps: why an API could not do it. */
  readonly firstStep?: string | undefined;
  /** Why access goes, when the task takes it all away. */
  readonly removal?: RemovalReason | undefined;
  readonly requestId: string | null;
}

export interface TaskWriterDeps {
  readonly tasks: TaskStore;
  /** Read for the keep-one guard: the account a task is about, and who else keeps the role. */
  readonly accounts: Pick<IdentityMap, "get" | "keepersOf">;
  readonly clock: Clock;
  readonly apps: readonly AppConfig[];
  /** The rules in force: a removal or downgrade task names the rule and group whose grant went. */
  readonly rules: readonly Rule[];
  /** Re-plans users: those with a blocked task, when a withdrawn removal leaves someone keeping the role. */
  readonly jobs: { enqueueUsers(userIds: Iterable<string>, requestId: string | null): void };
  /** Told about every task raised (notifications), inside the caller's transaction. */
  readonly onTask?: ((task: Task) => void) | undefined;
}

export class TaskWriter {
  constructor(private readonly d: TaskWriterDeps) {}

  /** Carries a task intent out for a user and app; returns the audit events of what it changed. */
  apply(app: string, userId: string, intent: TaskIntent, requestId: string | null): EventIntent[] {
    const open = this.d.tasks.openFor(userId, app);
    if (intent.kind === "cancel") {
      if (!open || (intent.onlyActions && !intent.onlyActions.includes(open.action as TaskAction))) return [];
      this.d.tasks.cancel(open.id, intent.reason);
      return [{ action: "task.cancelled", detail: { taskId: open.id, reason: intent.reason } }];
    }
    const blockedReason = this.blockedReason(app, userId, intent);
    const state = blockedReason ? "blocked" : "open";
    if (open && open.action === intent.action && open.role === intent.role && open.state === state) return [];
    if (!open) {
      const latest = this.d.tasks.latestFor(userId, app);
      if (latest?.state === "failed" && latest.action === intent.action && latest.role === intent.role) return [];
    }
    const task = this.write(app, { userId, requestId, ...intent, blockedReason }, open);
    return [{ action: task.state === "blocked" ? "task.blocked" : "task.raised", detail: { taskId: task.id, title: task.title } }];
  }

  /** True when the user's open or blocked task in the app is one `unwanted` gives a reason to cancel. */
  wouldWithdraw(app: string, userId: string, unwanted: (task: Task) => string | undefined): boolean {
    const open = this.d.tasks.openFor(userId, app);
    return open !== undefined && unwanted(open) !== undefined;
  }

  /**
   * Cancels the user's open or blocked task in the app when `unwanted` gives a reason, with it;
   * returns the audit events. A withdrawn removal of the app's kept role leaves one more holder
   * staying: the users whose removal the keep-one guard blocked are re-planned.
   */
  withdraw(app: string, userId: string, unwanted: (task: Task) => string | undefined, requestId: string | null): EventIntent[] {
    const open = this.d.tasks.openFor(userId, app);
    const reason = open && unwanted(open);
    if (!open || reason === undefined) return [];
    this.d.tasks.cancel(open.id, reason);
    if (this.manualApp(app).template.keepOneOf !== undefined && open.state === "open") this.d.jobs.enqueueUsers(this.d.tasks.blockedUserIds(app), requestId);
    return [{ action: "task.cancelled", detail: { taskId: open.id, title: open.title, reason } }];
  }

  /** Writes a task from the app's template, superseding `open`. */
  write(appName: string, r: TaskRequest, open: Task | undefined): Task {
    const app = this.manualApp(appName);
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
    const why = this.why(app, r, open);
    if (open) this.d.tasks.cancel(open.id, `superseded by a newer plan: ${title}`);
    // One reading of the clock: due exactly one SLA after it was raised.
    const raisedAt = this.d.clock.now();
    const task = this.d.tasks.insert({
      app: app.name,
      userId: r.userId,
      action: r.action,
      role: r.role,
      title,
      steps: [...(why === undefined ? [] : [why]), ...(r.firstStep === undefined ? [] : [r.firstStep]), ...step.steps.map((s) => fill(s, values))],
      profile: r.profile,
      state: r.blockedReason ? "blocked" : "open",
      reason: r.blockedReason ?? null,
      dueAt: new Date(raisedAt.getTime() + app.slaHours * 3_600_000).toISOString(),
      raisedAt: raisedAt.toISOString(),
      requestId: r.requestId,
    });
    if (open) this.d.tasks.setSupersededBy(open.id, task.id);
    this.d.onTask?.(task);
    return task;
  }

  /**
   * The first line of a removal or downgrade task: why the grant went. A task that replaces one
   * asking for the same (a blocked removal unblocked) keeps its line, and so the time it began.
   */
  private why(app: TaskAppConfig, r: TaskRequest, open: Task | undefined): string | undefined {
    const earlier = open?.action === r.action && open.role === r.role ? open.steps[0] : undefined;
    if (earlier?.startsWith("Why: ")) return earlier;
    return whyLost({
      app,
      rules: this.d.rules,
      name: r.profile.displayName,
      action: r.action,
      role: r.role,
      previousRole: r.previousRole,
      removal: r.removal,
      requestId: r.requestId,
      at: this.d.clock.now(),
    });
  }

  /**
   * Why the task must wait. For a task that takes the app's kept role away, the keep-one guard
   * asked of the store now (the caller's transaction), which replaces the connector's answer to
   * the same question asked earlier; for any other task, the connector's reason.
   */
  private blockedReason(appName: string, userId: string, intent: Extract<TaskIntent, { kind: "raise" }>): string | undefined {
    const app = this.manualApp(appName);
    const keepRole = app.template.keepOneOf;
    const takesAway = intent.action === "remove" || intent.action === "disable" || intent.action === "delete" || (intent.action === "changeRole" && intent.role !== keepRole);
    if (keepRole === undefined || !takesAway) return intent.blockedReason;
    const current = this.d.accounts.get(userId, appName);
    return lastHolderReason(app, current, (role) => (current ? this.d.accounts.keepersOf(appName, current.instance, role, userId) : []), intent.action === "changeRole" ? intent.role : null);
  }

  private manualApp(name: string): TaskAppConfig {
    const app = this.d.apps.find((a) => a.name === name);
    if (!app || !raisesTasks(app)) throw new Error(`app "${name}" has no task template`);
    return app;
  }
}
