/**
 * Verified by read-back (docs/manual-tasks.md): where an app's accounts can be read, a task is not
 * trusted until the app shows its work. The verifier reads the app through its connector
 * (`readBack`, never SQL in src/apps) and, per task:
 * - a done task whose work the app shows becomes `verified`;
 * - a done task whose work the app does not show reopens, saying what the app shows, and the
 *   identity map is set to it (TaskReview.reopenByReadBack);
 * - an open task whose work the app already shows completes by itself through TaskReview, as
 *   `complete` would (found by read-back), which also raises its follow-up, checked in turn.
 * A read that fails changes nothing: done tasks stay `pending` until a read succeeds.
 *
 * It runs in the user's job right after a task is done (never in the HTTP request) and on every
 * reconcile pass with the read-back the drift report uses.
 */
import type { Clock } from "../clock.js";
import type { TaskStore } from "../db/tasks.js";
import type { IdentityMap } from "../db/identity-map.js";
import type { Connector, RemoteAccount } from "../domain/connector.js";
import { matchingKey } from "../domain/folding.js";
import type { AppAccount } from "../domain/model.js";
import type { Task, TaskAction } from "../domain/task.js";
import { errorText } from "../domain/secret-scrubber.js";
import { isBridgeError } from "../errors.js";
import type { Logger } from "../log.js";
import { raisesTasks, type AppConfig, type TaskAppConfig } from "../apps/app-types.js";
import { taskAppLabel } from "../apps/manual/task-app.js";
import { roleLabel } from "../apps/manual/templates.js";
import type { AccountShown, TaskReview } from "./task-review.js";

export interface TaskVerifierDeps {
  readonly tasks: Pick<TaskStore, "get" | "openFor" | "pendingVerification" | "list">;
  readonly accounts: Pick<IdentityMap, "get">;
  readonly review: Pick<TaskReview, "verified" | "reopenByReadBack" | "completeFoundByReadBack">;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly apps: readonly AppConfig[];
  readonly clock: Clock;
  readonly log: Logger;
  readonly scrub: (text: string) => string;
}

/**
 * How long after "done" the user's own job reads the app back. Later, only the reconcile pass does
 * (one read per app): an invitation nobody accepts stays pending for days, and every pass re-plans
 * every user, so reading per user then would spend the app's rate budget once per waiting task.
 */
const RECENTLY_DONE_MS = 15 * 60_000;

/** What the app shows about a task's work. */
export type Judgement =
  | { readonly kind: "shown"; readonly evidence: string }
  | { readonly kind: "contradicted"; readonly reason: string; readonly shown: AccountShown }
  /** The app cannot tell (a pending invitation is invisible to the API): nothing changes. */
  | { readonly kind: "unknown" };

export interface VerifyCounts {
  readonly verified: number;
  readonly reopened: number;
  readonly found: number;
}

/** A read of an app that failed: the tasks it would have checked stay as they are. */
export interface ReadFailure {
  readonly app: string;
  readonly message: string;
  readonly error: unknown;
}

const REMOVALS: readonly TaskAction[] = ["remove", "delete", "disable"];

export class TaskVerifier {
  constructor(private readonly d: TaskVerifierDeps) {}

  /** The task apps whose connector can read accounts back. */
  private readableApps(): { app: TaskAppConfig; connector: Connector & Required<Pick<Connector, "readBack">> }[] {
    return this.d.apps.filter(raisesTasks).flatMap((app) => {
      const connector = this.d.connectors.get(app.name);
      return connector?.readBack ? [{ app, connector: connector as Connector & Required<Pick<Connector, "readBack">> }] : [];
    });
  }

  /**
   * After a task of the user was done: reads each app holding one of their done tasks that waits
   * for verification (done in the last 15 minutes), once, and checks those tasks and the user's
   * open task there.
   */
  async verifyUser(userId: string, requestId: string | null): Promise<ReadFailure[]> {
    const failures: ReadFailure[] = [];
    for (const { app, connector } of this.readableApps()) {
      const since = this.d.clock.now().getTime() - RECENTLY_DONE_MS;
      const pending = this.d.tasks.pendingVerification(app.name, userId).filter((t) => t.completedAt !== null && Date.parse(t.completedAt) >= since);
      if (pending.length === 0) continue;
      let remote: RemoteAccount[];
      try {
        remote = await connector.readBack();
      } catch (e: unknown) {
        failures.push(this.readFailed(app.name, e, requestId));
        continue;
      }
      const open = this.d.tasks.openFor(userId, app.name);
      this.check(app, [...pending, ...(open ? [open] : [])], remote, requestId);
    }
    return failures;
  }

  /** On the reconcile pass: every pending done task and every open task of the app, against its read-back. */
  verifyApp(appName: string, remote: readonly RemoteAccount[], requestId: string | null): VerifyCounts {
    const app = this.d.apps.filter(raisesTasks).find((a) => a.name === appName);
    if (!app) return { verified: 0, reopened: 0, found: 0 };
    const tasks = [...this.d.tasks.pendingVerification(appName), ...this.d.tasks.list({ app: appName, state: "open", limit: 100_000 })];
    return this.check(app, tasks, remote, requestId);
  }

  readFailed(app: string, e: unknown, requestId: string | null): ReadFailure {
    const message = errorText(e, this.d.scrub);
    this.d.log.warn("read-back to verify tasks failed: they stay pending and are checked again", { requestId, app, error: message });
    return { app, message, error: e };
  }

  private check(app: TaskAppConfig, tasks: readonly Task[], remote: readonly RemoteAccount[], requestId: string | null): VerifyCounts {
    const counts = { verified: 0, reopened: 0, found: 0 };
    const queue = tasks.map((t) => t.id);
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      // Read again: an earlier task of the same user may have moved this one (a reopen supersedes its follow-up).
      const task = this.d.tasks.get(id);
      if (!task) continue;
      try {
        this.checkOne(app, task, remote, requestId, counts, queue);
      } catch (e: unknown) {
        // One task refused (its account belongs to another user): the others are still checked.
        if (!isBridgeError(e)) throw e;
        this.d.log.warn("read-back could not record what it found", { requestId, app: task.app, taskId: task.id, error: e.message });
      }
    }
    return counts;
  }

  private checkOne(app: TaskAppConfig, task: Task, remote: readonly RemoteAccount[], requestId: string | null, counts: { verified: number; reopened: number; found: number }, queue: number[]): void {
    const account = this.d.accounts.get(task.userId, task.app);
    const judgement = judge(app, task, account, remote);
    if (task.state === "done") {
      if (judgement.kind === "shown") {
        this.d.review.verified(task.id, judgement.evidence);
        counts.verified++;
      } else if (judgement.kind === "contradicted") {
        this.d.review.reopenByReadBack(task.id, judgement.reason, judgement.shown);
        counts.reopened++;
      }
      this.log(task, judgement, requestId);
    } else if (task.state === "open" && judgement.kind === "shown" && this.provable(task, account)) {
      this.d.review.completeFoundByReadBack(task.id, judgement.evidence);
      counts.found++;
      this.log(task, judgement, requestId);
      // Its follow-up (an invitation's confirmation) may be shown done too.
      const next = this.d.tasks.openFor(task.userId, task.app);
      if (next && next.id !== task.id) queue.push(next.id);
    }
  }

  /**
   * Absence proves a removal only of an account that was a member: an invitation nobody accepted
   * is invisible to the API, so it may still be pending in the app.
   */
  private provable(task: Task, account: AppAccount | undefined): boolean {
    return !REMOVALS.includes(task.action as TaskAction) || (account?.state !== "invited" && account?.state !== "pending");
  }

  private log(task: Task, j: Judgement, requestId: string | null): void {
    if (j.kind === "unknown") return;
    const what = task.state === "open" ? "found done by read-back" : j.kind === "shown" ? "verified by read-back" : "reopened by read-back";
    this.d.log[j.kind === "shown" ? "info" : "warn"](what, { requestId, app: task.app, taskId: task.id, userId: task.userId, ...(j.kind === "shown" ? { evidence: j.evidence } : { reason: j.reason }) });
  }
}

/**
 * What the app's accounts say about a task's work. Pure. The account is found by the identity
 * map's external id, else by the task's email (matching keys).
 */
export function judge(app: TaskAppConfig, task: Task, account: AppAccount | undefined, remote: readonly RemoteAccount[]): Judgement {
  const label = taskAppLabel(app);
  const email = task.profile.email;
  const byId = account?.externalId ? remote.find((r) => matchingKey(r.externalId) === matchingKey(account.externalId!)) : undefined;
  const found = byId ?? remote.find((r) => matchingKey(r.email) === matchingKey(email));
  const role = (r: string | null) => roleLabel(app.template, r);
  const has = (r: RemoteAccount) => `${label} has ${email} as ${role(r.role)}${r.enabled ? "" : " (disabled)"}`;
  const evidence = (r: RemoteAccount) => `${label} shows ${email} as ${role(r.role)}${r.enabled ? "" : " (disabled)"} (account ${r.externalId})`;
  const shownAs = (r: RemoteAccount): AccountShown => ({ state: r.enabled ? "active" : "disabled", role: r.role, externalId: r.externalId });
  const none = `${label} has no account for ${email}`;
  const gone: AccountShown = { state: "removed", role: null, externalId: null };

  switch (task.action as TaskAction) {
    case "invite":
    case "reinvite":
      // The invitation itself cannot be read: only the membership it becomes once accepted.
      if (!found) return { kind: "unknown" };
      return found.role === task.role ? { kind: "shown", evidence: evidence(found) } : { kind: "contradicted", reason: `${has(found)}, expected ${role(task.role)}`, shown: shownAs(found) };
    case "confirm":
      if (!found) return { kind: "contradicted", reason: `${none} (the invitation is not accepted yet)`, shown: { state: "invited", role: account?.role ?? task.role, externalId: email } };
      return found.role === task.role || task.role === null ? { kind: "shown", evidence: evidence(found) } : { kind: "contradicted", reason: `${has(found)}, expected ${role(task.role)}`, shown: shownAs(found) };
    case "changeRole":
      if (!found) return { kind: "contradicted", reason: none, shown: gone };
      return found.role === task.role ? { kind: "shown", evidence: evidence(found) } : { kind: "contradicted", reason: `${has(found)}, expected ${role(task.role)}`, shown: shownAs(found) };
    case "enable":
      if (!found) return { kind: "contradicted", reason: none, shown: gone };
      return found.enabled ? { kind: "shown", evidence: evidence(found) } : { kind: "contradicted", reason: `${has(found)}, expected enabled`, shown: shownAs(found) };
    case "disable":
      if (!found) return { kind: "shown", evidence: `${none}` };
      return found.enabled ? { kind: "contradicted", reason: `${label} still has ${email} as ${role(found.role)}, enabled`, shown: shownAs(found) } : { kind: "shown", evidence: evidence(found) };
    case "remove":
    case "delete":
      if (!found || !found.enabled) return { kind: "shown", evidence: found ? evidence(found) : none };
      return { kind: "contradicted", reason: `${label} still has ${email} as ${role(found.role)}`, shown: shownAs(found) };
  }
}
