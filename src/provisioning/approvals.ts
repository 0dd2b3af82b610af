/**
 * Destructive actions wait for a person when they could be a mistake (docs/provisioning.md,
 * "Approvals"):
 * - a change of apps or rules that would deactivate, remove or downgrade anyone is previewed at
 *   start and held as one change set; its additive actions go ahead;
 * - past `deprovisionLimit.count` IdP-driven deprovisions in an app within the window, the rest are
 *   held in one change set for the app (a circuit breaker against a bad day in the IdP).
 * The worker asks `admit` before every action; a held action is simply not carried out, and the
 * user's job completes. Approving re-queues the users: the worker re-plans and carries out what is
 * still wanted (a user the IdP restored meanwhile has nothing left to do, and the hold is voided).
 */
import type { Clock } from "../clock.js";
import type { ActiveHold, ApprovalStore, ChangeSet, HoldAction } from "../db/approvals.js";
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import type { Action } from "../domain/model.js";
import type { ProvisioningQueue } from "../domain/readers.js";
import type { Logger } from "../log.js";
import type { AppConfig } from "./config-schema.js";
import { describeAction } from "./plan.js";

export interface GuardSettings {
  readonly approveRuleChanges: boolean;
  readonly deprovisionLimit: { readonly count: number; readonly windowMinutes: number };
}

export interface GuardDeps {
  readonly db: Db;
  readonly approvals: ApprovalStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly log: Logger;
  readonly apps: readonly AppConfig[];
  readonly settings: GuardSettings;
  /** The directory version of a user (null once deleted): a rejected hold lasts while it is unchanged. */
  readonly userVersion: (userId: string) => number | null;
  /** Told once when a change set opens: a tripped limit or a held rules change (inside the transaction: queue, do not send). */
  readonly onOpened?: ((set: ChangeSet) => void) | undefined;
}

/** Whether an action may run now; `hold` is the approved hold it carries out. */
export type Gate = { readonly go: true; readonly hold?: ActiveHold } | { readonly go: false; readonly why: string };

/** The destructive kind of an action, or undefined for one that only adds or keeps access. */
export function destructiveKind(action: Action, apps: readonly AppConfig[]): HoldAction | undefined {
  if (action.kind === "deactivate") return "deactivate";
  if (action.kind !== "changeRole" || action.previousRole === null) return undefined;
  // An app's roles are ordered by precedence: a later role grants less.
  const roles = apps.find((a) => a.name === action.app)?.roles.map((r) => r.name) ?? [];
  const from = roles.indexOf(action.previousRole);
  const to = roles.indexOf(action.role);
  return from !== -1 && to > from ? "downgrade" : undefined;
}

/** What a hold shows a person: the action in words, and why. */
export function holdDetail(action: Action): Record<string, unknown> {
  return {
    summary: describeAction(action),
    ...(action.kind === "deactivate" ? { reason: action.reason } : {}),
    ...(action.kind === "changeRole" ? { from: action.previousRole, to: action.role } : {}),
  };
}

const GO: Gate = { go: true };

/** One line for the banner, the CLI and the web page: "change set 3 (rules change): 2 action(s) wait for approval". */
export function describeChangeSet(set: ChangeSet): string {
  const what = set.kind === "rules-change" ? "a change of apps or rules" : `more than ${String(set.summary["limit"])} deactivations in ${set.app ?? "?"} within ${String(set.summary["windowMinutes"])} minutes`;
  return `change set ${set.id} (${what}): ${set.waiting} destructive action(s) ${set.state === "pending" ? "wait for approval" : set.state}`;
}

export class DeprovisionGuard {
  constructor(private readonly d: GuardDeps) {}

  get settings(): GuardSettings {
    return this.d.settings;
  }

  /** Decides one planned action; a destructive one past the limit is held here (one write transaction). */
  admit(action: Action, requestId: string | null): Gate {
    const kind = destructiveKind(action, this.d.apps);
    // A dry-run app is never called: its plan is only recorded, so there is nothing to protect.
    if (kind === undefined || this.d.apps.find((a) => a.name === action.app)?.mode === "dry-run") return GO;
    return this.d.db
      .transaction((): Gate => {
        const hold = this.d.approvals.activeHold(action.userId, action.app);
        if (hold) {
          if (hold.changeState === "approved") return { go: true, hold };
          if (hold.changeState === "pending") return { go: false, why: `waiting for approval (change set ${hold.changeId})` };
          // Rejected. A rules change stays rejected until the rules change again; a held deprovision
          // until the IdP changes that user again.
          if (hold.changeKind === "rules-change" || hold.userVersion === this.d.userVersion(action.userId)) {
            return { go: false, why: `rejected (change set ${hold.changeId})` };
          }
          this.d.approvals.settle(hold.changeId, hold.userId, hold.app, "void");
        }
        const { count, windowMinutes } = this.d.settings.deprovisionLimit;
        if (kind !== "deactivate" || count === 0) return GO;
        const since = new Date(this.d.clock.now().getTime() - windowMinutes * 60_000).toISOString();
        if (this.d.approvals.admitDeprovision(action.app, action.userId, since, count)) return GO;
        return this.trip(action, kind, requestId);
      })
      .immediate();
  }

  private trip(action: Action, kind: HoldAction, requestId: string | null): Gate {
    const { approvals, audit } = this.d;
    const { count, windowMinutes } = this.d.settings.deprovisionLimit;
    let set = approvals.pending("deprovision-limit", action.app);
    if (!set) {
      set = approvals.open("deprovision-limit", action.app, { limit: count, windowMinutes });
      audit.append({ actor: "worker", requestId, action: "approval.opened", resourceType: "ChangeSet", resourceId: String(set.id), after: { kind: set.kind, app: action.app, limit: count, windowMinutes } });
      this.d.log.warn("deprovision limit reached: further deactivations in this app wait for approval", { requestId, app: action.app, limit: count, windowMinutes, changeSet: set.id });
      this.d.onOpened?.(set);
    }
    approvals.hold(set.id, { userId: action.userId, app: action.app, action: kind, detail: holdDetail(action), userVersion: this.d.userVersion(action.userId) });
    audit.append({ actor: "worker", requestId, action: "approval.held", resourceType: "AppAccount", resourceId: `${action.userId}/${action.app}`, after: { changeSet: set.id, ...holdDetail(action) } });
    return { go: false, why: `held: more than ${count} deprovisions in ${action.app} within ${windowMinutes} minutes (change set ${set.id})` };
  }

  /**
   * A rules change's destructive actions, previewed at start: held as one pending change set (any
   * earlier one still pending is superseded by it). Undefined when the change removes nothing.
   */
  holdRulesChange(preview: readonly Action[], summary: Record<string, unknown>, requestId: string): ChangeSet | undefined {
    const { approvals, audit } = this.d;
    const earlier = approvals.pending("rules-change", null);
    if (earlier) {
      approvals.decide(earlier.id, "superseded", "system", "the apps or rules changed again before a decision");
      audit.append({ actor: "system", requestId, action: "approval.superseded", resourceType: "ChangeSet", resourceId: String(earlier.id), after: { by: "a later rules change" } });
    }
    if (preview.length === 0) return undefined;
    const set = approvals.open("rules-change", null, summary);
    for (const action of preview) {
      approvals.hold(set.id, { userId: action.userId, app: action.app, action: destructiveKind(action, this.d.apps)!, detail: holdDetail(action), userVersion: this.d.userVersion(action.userId) });
    }
    audit.append({ actor: "system", requestId, action: "approval.opened", resourceType: "ChangeSet", resourceId: String(set.id), after: { kind: set.kind, held: preview.length, ...summary } });
    this.d.log.warn("the apps or rules changed in a way that removes or downgrades access: those actions wait for approval", { changeSet: set.id, held: preview.length });
    const opened = approvals.get(set.id)!;
    this.d.onOpened?.(opened);
    return opened;
  }

  /**
   * Drift enforcement (an app's `enforceDrift`) deactivating an account no rule grants counts
   * against the same limit as IdP-driven deprovisions: past it, the account is left as it is (still
   * reported as drift) until the window has room. An orphan has no user to hold, so nothing waits
   * for approval; the reconciler tries again on its next pass.
   */
  admitDriftDeactivation(app: string, externalId: string, requestId: string): boolean {
    const { count, windowMinutes } = this.d.settings.deprovisionLimit;
    if (count === 0) return true;
    const since = new Date(this.d.clock.now().getTime() - windowMinutes * 60_000).toISOString();
    const admitted = this.d.db.transaction(() => this.d.approvals.admitDeprovision(app, `drift:${externalId}`, since, count)).immediate();
    if (!admitted) this.d.log.warn("deprovision limit reached: drift enforcement leaves this account enabled for now", { requestId, app, externalId, limit: count, windowMinutes });
    return admitted;
  }

  /** An approved hold was carried out. */
  carriedOut(hold: ActiveHold): void {
    this.d.db.transaction(() => {
      this.d.approvals.settle(hold.changeId, hold.userId, hold.app, "done");
    })();
  }

  /**
   * After a pass: holds of the user whose action the plan no longer wants are void (the IdP or the
   * rules restored the access), and a change set left with nothing to decide closes.
   */
  settleUnwanted(userId: string, stillWanted: ReadonlySet<string>): void {
    const stale = this.d.approvals.activeHoldsOf(userId).filter((h) => !stillWanted.has(h.app));
    if (stale.length === 0) return;
    this.d.db
      .transaction(() => {
        for (const h of stale) {
          this.d.approvals.settle(h.changeId, h.userId, h.app, "void");
          this.d.approvals.closeIfEmpty(h.changeId);
        }
      })
      .immediate();
  }
}

/** An admin's decision on a change set: one transaction with its audit event; approval re-queues the users. */
export function decide(
  d: { db: Db; approvals: ApprovalStore; audit: AuditLog; jobs: ProvisioningQueue },
  id: number,
  decision: "approve" | "reject",
  actor: string,
  note: string | null,
  requestId: string | null,
): ChangeSet | "not-found" | "decided" {
  return d.db
    .transaction(() => {
      const set = d.approvals.get(id);
      if (!set) return "not-found" as const;
      if (!d.approvals.decide(id, decision === "approve" ? "approved" : "rejected", actor, note)) return "decided" as const;
      const users = d.approvals.holdsOf(id).filter((h) => h.state === "held").map((h) => h.userId);
      d.audit.append({ actor, requestId, action: `approval.${decision}`, resourceType: "ChangeSet", resourceId: String(id), before: { state: set.state }, after: { state: decision === "approve" ? "approved" : "rejected", note, users: users.length } });
      if (decision === "approve") d.jobs.enqueueUsers(users, requestId);
      return d.approvals.get(id)!;
    })
    .immediate();
}
