/**
 * The connector for apps without an API: it carries a planned action out by raising a manual task
 * from the app's template. The identity map keeps what exists in the portal (a task changes it only
 * when a person completes it, see review.ts); the open task says what is owed. So:
 * - at most one open task per user and app: a newer plan supersedes it and says so on the old one;
 * - an invite nobody acted on is simply cancelled when access goes away (nothing exists to remove);
 * - the last holder of the template's `keepOneOf` role (Huntress: Account Admin) is never removed
 *   or downgraded: a blocked task explains why instead;
 * - re-applying the same plan finds the same open task and changes nothing.
 * The portal's natural key, the email, serves as the account's external id.
 */
import type { Clock } from "../../clock.js";
import type { Db } from "../../db/database.js";
import type { IdentityMap } from "../../db/identity-map.js";
import type { TaskStore } from "../../db/tasks.js";
import type { Task } from "../../domain/task.js";
import type { ManualAppConfig } from "../../provisioning/config-schema.js";
import type { Action, AppAccount, Profile } from "../../domain/model.js";
import type { ApplyContext, ApplyResult, Capability, Connector } from "../../domain/connector.js";
import { writeTask } from "./task-writer.js";
import { roleLabel, type TaskAction } from "./templates.js";

type ApplicableAction = Exclude<Action, { kind: "discard" }>;

export interface ManualConnectorOptions {
  readonly app: ManualAppConfig;
  readonly db: Db;
  readonly tasks: TaskStore;
  readonly accounts: IdentityMap;
  readonly clock: Clock;
  /** Told about every task raised (notifications). */
  readonly onTask?: (task: Task) => void;
}

/** The task a plan calls for, before it is written. */
interface Wanted {
  readonly action: TaskAction;
  readonly role: string | null;
  readonly previousRole: string | null;
  readonly blockedReason?: string;
}

export class ManualConnector implements Connector {
  readonly app: string;
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(["create", "update", "deactivate", "reactivate", "delete"]);

  constructor(private readonly o: ManualConnectorOptions) {
    this.app = o.app.name;
  }

  apply(action: ApplicableAction, ctx: ApplyContext): Promise<ApplyResult> {
    return Promise.resolve(this.o.db.transaction(() => this.applyNow(action, ctx)).immediate());
  }

  private applyNow(action: ApplicableAction, ctx: ApplyContext): ApplyResult {
    const current = ctx.current;
    const open = this.o.tasks.openFor(action.userId, this.app);
    const profile = action.profile ?? current?.profile ?? null;
    const keep = (): ApplyResult => ({
      externalId: current?.externalId ?? null,
      state: current?.state ?? "pending",
      role: current?.role ?? null,
      profile,
      settings: current?.settings ?? {},
    });

    switch (action.kind) {
      case "create":
      case "reactivate": {
        const state = current?.externalId ? current.state : undefined;
        // Nothing in the portal yet (or removed from it): an invitation. Disabled: enable it again.
        const wanted: Wanted =
          state === "disabled" && this.o.app.template.actions.enable
            ? { action: "enable", role: action.role, previousRole: current?.role ?? null }
            : { action: "invite", role: action.role, previousRole: null };
        const task = this.raise(action.userId, action.profile, wanted, open, ctx);
        if (wanted.action === "invite") {
          return { externalId: action.profile.email, state: "pending", role: action.role, profile: action.profile, settings: {}, createdByBridge: true, ...events(task) };
        }
        return { ...keep(), ...events(task) };
      }
      case "changeRole": {
        if (current?.state === "pending") {
          // Only an invitation exists: invite with the new role instead ("invite as Standard User,
          // then promoted" becomes "invite as Account Admin").
          const task = this.raise(action.userId, action.profile, { action: "invite", role: action.role, previousRole: null }, open, ctx);
          return { externalId: action.profile.email, state: "pending", role: action.role, profile: action.profile, settings: {}, createdByBridge: true, ...events(task) };
        }
        const blockedReason = this.guard(action.userId, current, action.role);
        const wanted: Wanted = { action: "changeRole", role: action.role, previousRole: action.previousRole, ...(blockedReason ? { blockedReason } : {}) };
        return { ...keep(), ...events(this.raise(action.userId, action.profile, wanted, open, ctx)) };
      }
      case "deactivate": {
        if (current?.state === "pending") {
          // Invited before anyone acted, now gone: cancel the invite; there is nothing to remove.
          if (open) this.o.tasks.cancel(open.id, `no longer needed: access was withdrawn (${action.reason}) before anyone acted`);
          return { externalId: null, state: "removed", role: null, profile, settings: {}, events: open ? [{ action: "task.cancelled", detail: { taskId: open.id } }] : [] };
        }
        const blockedReason = this.guard(action.userId, current, null);
        const t = this.o.app.template;
        // An unconfirmed user is deleted (that also invalidates the invitation); a user the IdP deleted
        // is deleted where the portal can; otherwise access is revoked the template's way.
        const verb: TaskAction =
          t.actions.delete && (current?.state === "invited" || action.reason === "deleted") ? "delete" : t.revoke;
        const wanted: Wanted = { action: verb, role: null, previousRole: current?.role ?? null, ...(blockedReason ? { blockedReason } : {}) };
        return { ...keep(), ...events(this.raise(action.userId, profile!, wanted, open, ctx)) };
      }
      case "update":
        // Name and email changes need nothing in an invite portal; the map keeps the new profile.
        return { ...keep(), profile: action.profile };
    }
  }

  /**
   * Raises the wanted task unless the open one already is it, or a person already failed exactly
   * this task (it waits for them to reopen it rather than coming back on every pass).
   */
  private raise(userId: string, profile: Profile, w: Wanted, open: Task | undefined, ctx: ApplyContext): Task | undefined {
    const state = w.blockedReason ? "blocked" : "open";
    if (open && open.action === w.action && open.role === w.role && open.state === state) return undefined;
    if (!open) {
      const latest = this.o.tasks.latestFor(userId, this.app);
      if (latest?.state === "failed" && latest.action === w.action && latest.role === w.role) return undefined;
    }
    const task = writeTask(this.o.app, this.o.tasks, this.o.clock, { userId, profile, ...w, requestId: ctx.requestId }, open);
    this.o.onTask?.(task);
    return task;
  }

  /**
   * domain.md: a Huntress account must always keep one Account Admin. Refuses (with the reason for
   * a blocked task) to take the role away from its last confirmed holder. Public so the Huntress
   * API mode (src/apps/huntress/api-connector.ts) asks the same question before it calls the API.
   */
  guard(userId: string, current: AppAccount | undefined, newRole: string | null): string | undefined {
    const keep = this.o.app.template.keepOneOf;
    if (keep === undefined || current?.role !== keep || newRole === keep) return undefined;
    const others = this.o.accounts
      .list({ app: this.app })
      .filter((a) => a.userId !== userId && a.role === keep && (a.state === "active" || a.state === "invited"));
    if (others.length > 0) return undefined;
    const label = roleLabel(this.o.app.template, keep);
    return `${current.profile?.displayName ?? "This user"} is the last ${label} of ${this.o.app.template.label}; an account must always keep one. Grant ${label} to someone else first; this task unblocks by itself.`;
  }
}

function events(task: Task | undefined): Pick<ApplyResult, "events"> {
  return task ? { events: [{ action: task.state === "blocked" ? "task.blocked" : "task.raised", detail: { taskId: task.id, title: task.title } }] } : {};
}
