/**
 * Huntress in `mode: api`: the manual connector's work, done through the memberships API where
 * the account allows it. domain.md: "manual tasks are the default way to reach Huntress; the API
 * is an optional accelerator whose failures fall back to a manual task." So:
 * - create / reactivate → POST an invitation (Account Admin → Admin, Standard User → User); the
 *   account is `invited`, its external id the email until the membership id is known;
 * - changeRole → PATCH the membership's permissions; deactivate → DELETE the membership;
 * - the keep-one-Account-Admin guard is asked first (the manual connector's own): a blocked task
 *   explains why, and the API is never called to remove or downgrade the last admin;
 * - refresh() (called by the reconciler) reads memberships back: an invited email that now has a
 *   membership becomes `active` with the membership id as its external id;
 * - any HuntressError (401/403/404, a 4xx, or a failure that outlived the client's retries) raises
 *   the manual task instead, whose first step says why, so the work is never lost.
 */
import type { Clock } from "../../clock.js";
import type { AuditLog } from "../../db/audit.js";
import { type Db } from "../../db/database.js";
import { fold } from "../../domain/folding.js";
import type { IdentityMap } from "../../db/identity-map.js";
import type { TaskStore } from "../../db/tasks.js";
import type { Task } from "../../domain/task.js";
import type { Logger } from "../../log.js";
import type { ManualAppConfig } from "../../provisioning/config-schema.js";
import type { Action, AppAccount, Profile } from "../../domain/model.js";
import type { ApplyContext, ApplyResult, Capability, Connector, RefreshReport } from "../../domain/connector.js";
import { ManualConnector } from "../manual/connector.js";
import type { HuntressClient } from "./client.js";
import { HuntressError } from "./errors.js";
import { fallbackReason, PENDING_INVITATION, permissionsOf, roleOf } from "./permissions.js";
import type { HuntressMembership } from "./wire.js";

type ApplicableAction = Exclude<Action, { kind: "discard" }>;
type Event = { readonly action: string; readonly detail: Record<string, unknown> };

export interface HuntressApiConnectorOptions {
  readonly app: ManualAppConfig;
  readonly client: HuntressClient;
  /** The managed account the client acts on (reseller keys), to tell its memberships from others. */
  readonly accountId?: number | undefined;
  readonly db: Db;
  readonly tasks: TaskStore;
  readonly accounts: IdentityMap;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onTask?: (task: Task) => void;
}

/** A membership id (the API's) rather than an email (the portal's natural key, used until the id is known). */
const isMembershipId = (externalId: string | null): externalId is string => externalId !== null && /^\d+$/.test(externalId);

export class HuntressApiConnector implements Connector {
  readonly app: string;
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(["create", "update", "deactivate", "reactivate", "delete"]);
  private readonly manual: ManualConnector;

  constructor(private readonly o: HuntressApiConnectorOptions) {
    this.app = o.app.name;
    this.manual = this.manualWith(o.app);
  }

  async apply(action: ApplicableAction, ctx: ApplyContext): Promise<ApplyResult> {
    switch (action.kind) {
      case "update":
        // Huntress keys a person by email and the API has no user update: nothing to send.
        return this.manual.apply(action, ctx);
      case "create":
      case "reactivate":
        return this.invite(action, action.role, action.profile, ctx);
      case "changeRole":
        return this.changeRole(action, ctx);
      case "deactivate":
        return this.remove(action, ctx);
    }
  }

  /** POST an invitation; an email that already is a member (422) is adopted instead. */
  private async invite(action: ApplicableAction, role: string, profile: Profile, ctx: ApplyContext): Promise<ApplyResult> {
    const permissions = permissionsOf(role);
    const { first, last } = namesOf(profile);
    try {
      try {
        await this.o.client.invite(profile.email, first, last, permissions);
      } catch (e: unknown) {
        if (!(e instanceof HuntressError && e.status === 422)) throw e;
        // Already a member (an invitation accepted earlier, or added by hand): adopt that membership.
        const member = await this.findMembership(profile.email);
        if (!member) throw e;
        if (member.permissions !== permissions) await this.o.client.updatePermissions(member.id, permissions);
        return this.done(action.userId, { externalId: String(member.id), state: "active", role, profile, settings: {}, createdByBridge: false }, ctx, "adopted the existing Huntress membership", {
          action: "huntress.api.adopt",
          detail: { email: profile.email, membershipId: member.id, permissions, previousPermissions: member.permissions },
        });
      }
      return this.done(action.userId, { externalId: profile.email, state: "invited", role, profile, settings: {}, createdByBridge: true }, ctx, "invited through the Huntress API", {
        action: "huntress.api.invite",
        detail: { email: profile.email, permissions },
      });
    } catch (e: unknown) {
      return this.fallback(e, action, ctx);
    }
  }

  private async changeRole(action: Extract<ApplicableAction, { kind: "changeRole" }>, ctx: ApplyContext): Promise<ApplyResult> {
    const current = ctx.current;
    // Only a manual invitation exists (nobody acted on it): invite with the new role instead.
    if (!current || current.state === "pending") return this.invite(action, action.role, action.profile, ctx);
    if (this.manual.guard(action.userId, current, action.role) !== undefined) return this.manual.apply(action, ctx);
    const permissions = permissionsOf(action.role);
    try {
      const member = await this.membershipOf(current, action.profile.email);
      if (!member) {
        // Invited but not accepted yet: send the invitation again with the new permissions.
        if (current.state === "invited") return await this.invite(action, action.role, action.profile, ctx);
        return await this.fallbackWith(PENDING_OR_GONE(action.profile.email), action, ctx, { operation: "changeRole" });
      }
      await this.o.client.updatePermissions(member.id, permissions);
      return this.done(action.userId, { externalId: String(member.id), state: "active", role: action.role, profile: action.profile, settings: current.settings }, ctx, "role changed through the Huntress API", {
        action: "huntress.api.permissions",
        detail: { membershipId: member.id, permissions, previousRole: action.previousRole },
      });
    } catch (e: unknown) {
      return this.fallback(e, action, ctx);
    }
  }

  private async remove(action: Extract<ApplicableAction, { kind: "deactivate" }>, ctx: ApplyContext): Promise<ApplyResult> {
    const current = ctx.current;
    // Nobody acted on the invite task: the manual connector cancels it (nothing exists to remove).
    if (!current || current.state === "pending") return this.manual.apply(action, ctx);
    // domain.md: always keep at least one Account Admin. Never ask the API to remove the last one.
    if (this.manual.guard(action.userId, current, null) !== undefined) return this.manual.apply(action, ctx);
    const email = action.profile?.email ?? current.profile?.email ?? current.externalId ?? "";
    try {
      const member = await this.membershipOf(current, email);
      if (!member) {
        if (current.state === "invited") return await this.fallbackWith(PENDING_INVITATION, action, ctx, { operation: "deactivate" });
        // The list was read and the email holds no membership: whatever was there is gone already.
        return this.done(action.userId, { externalId: null, state: "removed", role: null, profile: current.profile, settings: {} }, ctx, "no Huntress membership left to remove", {
          action: "huntress.api.absent",
          detail: { email },
        });
      }
      await this.o.client.deleteMembership(member.id);
      return this.done(action.userId, { externalId: null, state: "removed", role: null, profile: current.profile, settings: {} }, ctx, "removed through the Huntress API", {
        action: "huntress.api.delete",
        detail: { membershipId: member.id, email, reason: action.reason },
      });
    } catch (e: unknown) {
      return this.fallback(e, action, ctx);
    }
  }

  /**
   * Reads memberships back and confirms what it finds: an account the bridge knows by email only
   * (invited through the API, or by a person through a task) whose email now holds a membership
   * becomes `active`, keyed by the membership id, with the role its permissions stand for. Any
   * task still asking to invite or confirm is cancelled. Each change and its audit events are one
   * transaction; an account the worker moved meanwhile is left for the next pass.
   */
  async refresh(requestId: string): Promise<RefreshReport> {
    const waiting = this.o.accounts
      .list({ app: this.app })
      .filter((a) => (a.state === "invited" || a.state === "pending" || a.state === "active") && a.externalId !== null && !isMembershipId(a.externalId));
    if (waiting.length === 0) return { changed: 0 };
    const byEmail = new Map<string, HuntressMembership>();
    for (const m of await this.o.client.listMemberships()) if (this.isOurs(m) && !byEmail.has(fold(m.user.email))) byEmail.set(fold(m.user.email), m);
    return this.o.db
      .transaction((): RefreshReport => {
        let changed = 0;
        for (const seen of waiting) {
          const now = this.o.accounts.get(seen.userId, this.app);
          if (!now || now.state !== seen.state || now.externalId !== seen.externalId || now.role !== seen.role) continue;
          const email = now.profile?.email ?? now.externalId!;
          const member = byEmail.get(fold(email));
          if (!member) continue;
          const after = { ...accountOf(now), state: "active" as const, externalId: String(member.id), role: roleOf(member.permissions) };
          this.o.accounts.record(after);
          const resourceId = `${now.userId}/${this.app}`;
          this.o.audit.append({ actor: "reconciler", requestId, action: "huntress.api.confirmed", resourceType: "AppAccount", resourceId, before: now, after: { ...after, permissions: member.permissions } });
          const open = this.o.tasks.openFor(now.userId, this.app);
          if (open && (open.action === "invite" || open.action === "confirm")) {
            this.o.tasks.cancel(open.id, `no longer needed: the Huntress API shows ${email} as a member (membership ${member.id})`);
            this.o.audit.append({ actor: "reconciler", requestId, action: "task.cancelled", resourceType: "Task", resourceId: String(open.id), after: { reason: "confirmed through the Huntress API" } });
          }
          changed++;
        }
        return { changed };
      })
      .immediate();
  }

  // --- Plumbing ---

  /** The membership behind an account: its id when known, else looked up by email. */
  private async membershipOf(current: AppAccount, email: string): Promise<Pick<HuntressMembership, "id"> | undefined> {
    if (isMembershipId(current.externalId)) return { id: Number(current.externalId) };
    return this.findMembership(email);
  }

  private async findMembership(email: string): Promise<HuntressMembership | undefined> {
    const wanted = fold(email);
    return (await this.o.client.listMemberships()).find((m) => this.isOurs(m) && fold(m.user.email) === wanted);
  }

  /** A membership of the account (not of one of its organizations; of the configured account for a reseller key). */
  private isOurs(m: HuntressMembership): boolean {
    return m.scope?.kind === "account" && (this.o.accountId === undefined || m.scope.id === this.o.accountId);
  }

  /** The API did the work: an open task asking for it (or for an older plan) is cancelled, saying so. */
  private done(userId: string, result: ApplyResult, ctx: ApplyContext, what: string, event: Event): ApplyResult {
    const cancelled = this.o.db
      .transaction(() => {
        const open = this.o.tasks.openFor(userId, this.app);
        if (open) this.o.tasks.cancel(open.id, `no longer needed: ${what}`);
        return open;
      })
      .immediate();
    this.o.log.info("huntress api", { app: this.app, userId, requestId: ctx.requestId, action: event.action, ...event.detail });
    return { ...result, events: [event, ...(cancelled ? [{ action: "task.cancelled", detail: { taskId: cancelled.id, reason: what } }] : [])] };
  }

  private async fallback(e: unknown, action: ApplicableAction, ctx: ApplyContext): Promise<ApplyResult> {
    if (!(e instanceof HuntressError)) throw e;
    return this.fallbackWith(fallbackReason(e), action, ctx, { operation: action.kind, status: e.status, kind: e.kind, attempts: e.attempts, error: e.message });
  }

  /** The manual task for the action, its first step saying why the API did not do it. */
  private async fallbackWith(reason: string, action: ApplicableAction, ctx: ApplyContext, detail: Record<string, unknown>): Promise<ApplyResult> {
    this.o.log.warn("huntress api fallback: raising a manual task", { app: this.app, userId: action.userId, requestId: ctx.requestId, reason, ...detail });
    const result = await this.manualWith(withFirstStep(this.o.app, reason)).apply(action, ctx);
    return { ...result, events: [{ action: "huntress.api.fallback", detail: { reason, ...detail } }, ...(result.events ?? [])] };
  }

  private manualWith(app: ManualAppConfig): ManualConnector {
    const { db, tasks, accounts, clock, onTask } = this.o;
    return new ManualConnector({ app, db, tasks, accounts, clock, ...(onTask ? { onTask } : {}) });
  }
}

const PENDING_OR_GONE = (email: string): string => `The Huntress API shows no membership for ${email} (removed, or never accepted): check the portal and do it by hand.`;

/** The app's template with `step` first in every action's instructions. */
function withFirstStep(app: ManualAppConfig, step: string): ManualAppConfig {
  const actions = Object.fromEntries(
    Object.entries(app.template.actions).map(([name, s]) => [name, s === undefined ? s : { ...s, steps: [step, ...s.steps] }]),
  ) as ManualAppConfig["template"]["actions"];
  return { ...app, template: { ...app.template, actions } };
}

/** MembershipCreationParameters requires first_name and last_name: derive both from whatever the IdP sent. */
function namesOf(p: Profile): { first: string; last: string } {
  const [head, ...rest] = p.displayName.trim().split(/\s+/);
  const first = p.givenName.trim() || head || p.email.split("@")[0]!;
  const last = p.familyName.trim() || rest.join(" ") || first;
  return { first, last };
}

function accountOf(a: AppAccount): Omit<AppAccount, "lastSyncAt" | "lastError"> {
  return { userId: a.userId, app: a.app, externalId: a.externalId, role: a.role, state: a.state, profile: a.profile, settings: a.settings, createdByBridge: a.createdByBridge };
}
