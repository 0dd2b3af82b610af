/**
 * What a reviewer does with a task, the same from the admin API, the web page and the CLI:
 * claim, complete (with an optional note as evidence), fail with a reason, reopen. Completing a
 * task moves the identity map to what now exists in the portal, records who and when, raises the
 * follow-up (an invitation is confirmed once accepted), and re-plans the user in case the world
 * moved on meanwhile. Each outcome is one transaction with its audit event.
 *
 * Where the app's accounts can be read, a done task is not trusted until the app shows it
 * (docs/manual-tasks.md, "Verified by read-back"): it is done with verification `pending`, and the
 * read-back (./task-verifier.ts) then verifies it or reopens it with what the app shows. Work found
 * done in the app before anyone marked the task completes it through the same `complete`.
 */
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import { OwnershipConflict, type IdentityMap } from "../db/identity-map.js";
import type { TaskStore } from "../db/tasks.js";
import type { AccountState, AppAccount } from "../domain/model.js";
import type { Task, TaskAction, VerifiedHow } from "../domain/task.js";
import { BridgeError } from "../errors.js";
import { raisesTasks, type AppConfig, type TaskAppConfig } from "../apps/app-types.js";
import type { TaskWriter } from "./task-writer.js";

export interface TaskReviewDeps {
  readonly db: Db;
  readonly tasks: TaskStore;
  readonly accounts: IdentityMap;
  readonly audit: AuditLog;
  readonly jobs: { enqueueUsers(userIds: Iterable<string>, requestId: string | null): void };
  readonly apps: readonly AppConfig[];
  readonly taskWriter: TaskWriter;
  /** The instance each app's connector talks to: a completed task records its link against it. */
  readonly instances: ReadonlyMap<string, string>;
  /** Whether the bridge can read the app's accounts (its connector has `readBack`): its done tasks wait for verification. */
  readonly readable: (app: string) => boolean;
}

/** Where the app showed an account to be, when a read-back reopens a task: the identity map is set to it. */
export type AccountShown = Pick<AppAccount, "state" | "role" | "externalId">;

/** The actor recorded for what the bridge finds by reading an app. */
export const READ_BACK_ACTOR = "read-back";

/** Where the portal stands after a task of each kind is done. */
const OUTCOME: Record<TaskAction, (t: Task, before: AppAccount | undefined) => Pick<AppAccount, "state" | "role" | "externalId">> = {
  invite: (t) => ({ state: "invited", role: t.role, externalId: t.profile.email }),
  reinvite: (t, b) => ({ state: "invited", role: b?.role ?? t.role, externalId: t.profile.email }),
  confirm: (t, b) => ({ state: "active", role: b?.role ?? t.role, externalId: b?.externalId ?? t.profile.email }),
  changeRole: (t, b) => ({ state: b?.state ?? "active", role: t.role, externalId: b?.externalId ?? t.profile.email }),
  enable: (t, b) => ({ state: "active", role: b?.role ?? t.role, externalId: b?.externalId ?? t.profile.email }),
  disable: (t, b) => ({ state: "disabled", role: b?.role ?? null, externalId: b?.externalId ?? t.profile.email }),
  remove: () => ({ state: "removed", role: null, externalId: null }),
  delete: () => ({ state: "removed", role: null, externalId: null }),
};

export class TaskReview {
  constructor(private readonly d: TaskReviewDeps) {}

  private find(id: number): Task {
    const task = this.d.tasks.get(id);
    if (!task) throw new BridgeError("notFound", `task ${id} not found`);
    return task;
  }

  private appOf(task: Task): TaskAppConfig | undefined {
    return this.d.apps.filter(raisesTasks).find((a) => a.name === task.app);
  }

  private event(actor: string, action: string, task: Task, before: unknown, after: unknown): void {
    this.d.audit.append({ actor, requestId: task.requestId, action, resourceType: "Task", resourceId: String(task.id), before, after });
  }

  claim(id: number, actor: string): Task {
    return this.d.db.transaction(() => {
      const task = this.find(id);
      if (!this.d.tasks.claim(id, actor)) throw new BridgeError("preconditionFailed", `task ${id} is ${task.state}; only open tasks can be claimed`);
      this.event(actor, "task.claim", task, { assignee: task.assignee }, { assignee: actor });
      return this.find(id);
    }).immediate();
  }

  complete(id: number, actor: string, note: string | null): Task {
    return this.completeTask(id, actor, note, undefined);
  }

  /**
   * Completes an open task whose work the app already shows (found by read-back): the same outcome
   * as `complete`, verified in the same transaction.
   */
  completeFoundByReadBack(id: number, note: string): Task {
    return this.completeTask(id, READ_BACK_ACTOR, note, "found by read-back");
  }

  private completeTask(id: number, actor: string, note: string | null, found: VerifiedHow | undefined): Task {
    return this.d.db.transaction(() => {
      const task = this.find(id);
      const verification = this.d.readable(task.app) ? "pending" : "unverifiable";
      if (!this.d.tasks.close(id, "done", actor, note, null, verification)) {
        // A cancelled task says why, so a person who already did the work in the portal knows what to undo.
        const why = task.state === "cancelled" && task.reason !== null ? ` (${task.reason})` : "";
        throw new BridgeError("preconditionFailed", `task ${id} is ${task.state}${why}; only open tasks can be completed`);
      }
      const before = this.d.accounts.get(task.userId, task.app);
      const outcome = OUTCOME[task.action as TaskAction](task, before);
      const account = {
        userId: task.userId,
        app: task.app,
        ...outcome,
        state: outcome.state as AccountState,
        profile: before?.profile ?? task.profile,
        settings: before?.settings ?? {},
        createdByBridge: before?.createdByBridge ?? true,
      };
      const instance = before?.instance || (this.d.instances.get(task.app) ?? "");
      try {
        this.d.accounts.record(account, instance);
      } catch (e: unknown) {
        // One owner per account: a task done for an account another user holds does not move the map.
        if (e instanceof OwnershipConflict) throw new BridgeError("preconditionFailed", `task ${id} cannot be completed: ${e.message}`);
        throw e;
      }
      if (found) this.d.tasks.verify(id, found);
      this.event(actor, "task.done", task, before ?? null, { ...account, note, verification: found ? "verified" : verification, ...(found ? { verifiedHow: found } : {}) });
      const app = this.appOf(task);
      // An invitation counts once accepted: a person confirms it (Huntress: the invitee must accept).
      if (app && (task.action === "invite" || task.action === "reinvite")) {
        this.d.taskWriter.write(task.app, { userId: task.userId, profile: task.profile, action: "confirm", role: task.role, previousRole: null, requestId: task.requestId }, undefined);
      }
      // Re-plan the user, and anyone blocked by the keep-one guard: this change may unblock them.
      const blocked = app?.template.keepOneOf !== undefined ? this.d.tasks.blockedUserIds(task.app) : [];
      this.d.jobs.enqueueUsers([task.userId, ...blocked], task.requestId);
      return this.find(id);
    }).immediate();
  }

  /** The app shows a done task's work: it is verified. */
  verified(id: number, evidence: string): Task {
    return this.d.db.transaction(() => {
      const task = this.find(id);
      if (!this.d.tasks.verify(id, "read-back")) throw new BridgeError("preconditionFailed", `task ${id} is ${task.state}; only a done task waiting for verification can be verified`);
      this.event(READ_BACK_ACTOR, "task.verified", task, { verification: "pending" }, { verification: "verified", verifiedHow: "read-back", evidence });
      return this.find(id);
    }).immediate();
  }

  /**
   * Reopens a done task that is not verified (its HaloPSA ticket was reopened, or a person says
   * it was not done), saying why. Refuses a verified task: the app showed the work.
   */
  reopenDone(id: number, actor: string, reason: string): Task {
    return this.reopenDoneTask(id, actor, reason, "task.reopen", undefined);
  }

  /**
   * The app does not show a done task's work: the task reopens saying what the app shows, and
   * the identity map is set to what the app shows, so the next plan starts from the truth.
   */
  reopenByReadBack(id: number, reason: string, shown: AccountShown): Task {
    return this.reopenDoneTask(id, READ_BACK_ACTOR, reason, "task.reopened-by-read-back", shown);
  }

  private reopenDoneTask(id: number, actor: string, reason: string, action: string, shown: AccountShown | undefined): Task {
    if (reason.trim() === "") throw new BridgeError("invalidValue", "a reason is required to reopen a done task");
    return this.d.db.transaction(() => {
      const task = this.find(id);
      if (task.state !== "done" || task.verification === "verified") {
        const what = task.state === "done" ? "done and verified (the app shows the work)" : task.state;
        throw new BridgeError("preconditionFailed", `task ${id} is ${what}; only a done task that is not verified can be reopened`);
      }
      // The work is owed again: the reopened task replaces whatever followed it (a confirmation).
      const followUp = this.d.tasks.openFor(task.userId, task.app);
      if (followUp) this.d.tasks.cancel(followUp.id, `superseded: task ${id} was reopened (${reason})`, id);
      if (!this.d.tasks.reopenDone(id, reason, actor)) throw new BridgeError("preconditionFailed", `task ${id} could not be reopened`);
      const before = this.d.accounts.get(task.userId, task.app);
      if (shown && before) this.recordShown(before, shown);
      // Reopened by read-back, the event says the app contradicted the work, as task.verified says it showed it.
      const found = shown ? { account: shown, verification: "contradicted" } : {};
      this.event(actor, action, task, { state: "done", verification: task.verification, account: before ?? null }, { state: "open", reason, ...found, ...(followUp ? { supersededTask: followUp.id } : {}) });
      this.d.jobs.enqueueUsers([task.userId], task.requestId);
      return this.find(id);
    }).immediate();
  }

  /** Moves the identity map to what the app shows; an account another user holds is left as it was (drift reports it). */
  private recordShown(before: AppAccount, shown: AccountShown): void {
    try {
      this.d.accounts.record({ ...before, ...shown }, before.instance);
    } catch (e: unknown) {
      if (!(e instanceof OwnershipConflict)) throw e;
    }
  }

  fail(id: number, actor: string, reason: string): Task {
    if (reason.trim() === "") throw new BridgeError("invalidValue", "a reason is required to fail a task");
    return this.d.db.transaction(() => {
      const task = this.find(id);
      if (!this.d.tasks.close(id, "failed", actor, null, reason)) throw new BridgeError("preconditionFailed", `task ${id} is ${task.state}; only open tasks can be failed`);
      this.d.accounts.recordError(task.userId, task.app, `task ${id} (${task.title}) failed: ${reason}`);
      this.event(actor, "task.failed", task, null, { reason });
      return this.find(id);
    }).immediate();
  }

  reopen(id: number, actor: string): Task {
    return this.d.db.transaction(() => {
      const task = this.find(id);
      if (task.state !== "failed") throw new BridgeError("preconditionFailed", `task ${id} is ${task.state}; only failed tasks can be reopened`);
      if (!this.d.tasks.reopen(id)) throw new BridgeError("preconditionFailed", `another task is open for this user in ${task.app}`);
      this.event(actor, "task.reopen", task, { state: "failed" }, { state: "open" });
      return this.find(id);
    }).immediate();
  }
}
