/**
 * Huntress with API credentials: the manual tasks' work, done through the memberships API where
 * the account allows it. Manual tasks are the default way to reach Huntress and the API an
 * optional accelerator whose failures fall back to a manual task (docs/manual-tasks.md). So:
 * - create / reactivate → POST an invitation (Account Admin → Admin, Standard User → User); the
 *   account is `invited`, its external id the email until the membership id is known;
 * - changeRole → PATCH the membership's permissions; deactivate → DELETE the membership, and a
 *   membership already gone (not listed, or a DELETE 404 while the list holds neither its id nor
 *   its email) is `removed` with nothing to do;
 * - the keep-one-Account-Admin guard is asked first: a blocked task explains why, and the API is
 *   never called to remove or downgrade the last admin;
 * - refresh() reads memberships back: an invited email that now has a membership becomes `active`
 *   with the membership id as its external id; readBack() lists them all for drift and for
 *   verifying done tasks (docs/manual-tasks.md, "Verified by read-back");
 * - with `writes: false` (a key without write permission) every change is the manual task, as in
 *   plain manual mode, and the API is only read;
 * - any API failure (401/403/404, a 4xx, or one that outlived the client's retries) becomes the
 *   manual task instead, whose first step says why, so the work is never lost. A membership that
 *   belongs to another user of the bridge is a conflict, never adopted and never a task.
 * Pure like every connector: it calls the API and returns the outcome with its task intent.
 */
import { ConnectorError } from "../../domain/connector-error.js";
import type { AccountProgress, ApplicableAction, ApplyContext, ApplyResult, Connector, EventIntent, RemoteAccount } from "../../domain/connector.js";
import { matchingKey } from "../../domain/folding.js";
import type { AppAccount, Profile } from "../../domain/model.js";
import type { Logger } from "../../log.js";
import { lastHolderReason, taskOutcome, type ManualApp } from "../manual/task-outcome.js";
import { refuseOwned } from "../ownership.js";
import type { HuntressClient } from "./client.js";
import { fallbackReason, PENDING_INVITATION, permissionsOf, roleOf } from "./permissions.js";
import type { HuntressMembership } from "./wire.js";

export interface HuntressApiConnectorOptions {
  readonly app: ManualApp;
  readonly client: HuntressClient;
  /** The client `check` uses (no retries, a short timeout); `client` when none is given. */
  readonly checkClient?: HuntressClient | undefined;
  /** The API URL and account the identity map's links are bound to. */
  readonly instance: string;
  /** The managed account the client acts on (reseller keys), to tell its memberships from others. */
  readonly accountId?: number | undefined;
  readonly log: Logger;
  /** False for a key without write permission: every change is a manual task; the API is only read. */
  readonly writes: boolean;
}

/** A membership id (the API's) rather than an email (the portal's natural key, used until the id is known). */
const isMembershipId = (externalId: string | null): externalId is string => externalId !== null && /^\d+$/.test(externalId);

export class HuntressApiConnector implements Connector {
  readonly app: string;
  readonly instance: string;

  constructor(private readonly o: HuntressApiConnectorOptions) {
    this.app = o.app.name;
    this.instance = o.instance;
  }

  /** The memberships list: the one read this connector relies on, with the key and secret. */
  async check(): Promise<void> {
    await (this.o.checkClient ?? this.o.client).listMemberships();
  }

  async apply(action: ApplicableAction, ctx: ApplyContext): Promise<ApplyResult> {
    if (!this.o.writes) return taskOutcome(this.o.app, action, ctx);
    switch (action.kind) {
      case "update":
        // Huntress keys a person by email and the API has no user update: nothing to send.
        return taskOutcome(this.o.app, action, ctx);
      case "create":
      case "reactivate":
        return this.invite(action, action.role, action.profile, ctx);
      case "changeRole":
        return this.changeRole(action, ctx);
      case "deactivate":
        return this.remove(action, ctx);
    }
  }

  /** POST an invitation; an email that already is a member (422) is adopted instead, unless someone else owns it. */
  private async invite(action: ApplicableAction, role: string, profile: Profile, ctx: ApplyContext): Promise<ApplyResult> {
    const permissions = permissionsOf(role);
    const { first, last } = namesOf(profile);
    try {
      try {
        await this.o.client.invite(profile.email, first, last, permissions);
      } catch (e: unknown) {
        if (!(e instanceof ConnectorError && e.status === 422)) throw e;
        // Already a member (an invitation accepted earlier, or added by hand): adopt that membership.
        const member = await this.findMembership(profile.email);
        if (!member) throw e;
        refuseOwned(ctx, "Huntress", String(member.id), `the Huntress membership ${member.id} of ${profile.email}`);
        if (member.permissions !== permissions) await this.o.client.updatePermissions(member.id, permissions);
        return this.done(action, { externalId: String(member.id), state: "active", role, profile, settings: {}, createdByBridge: false }, ctx, "adopted the existing Huntress membership", {
          action: "huntress.api.adopt",
          detail: { email: profile.email, membershipId: member.id, permissions, previousPermissions: member.permissions },
        });
      }
      return this.done(action, { externalId: profile.email, state: "invited", role, profile, settings: {}, createdByBridge: true }, ctx, "invited through the Huntress API", {
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
    if (lastHolderReason(this.o.app, current, ctx.keepersOf, action.role) !== undefined) return taskOutcome(this.o.app, action, ctx);
    const permissions = permissionsOf(action.role);
    try {
      const member = await this.membershipOf(current, action.profile.email);
      if (!member) {
        // Invited but not accepted yet: send the invitation again with the new permissions.
        if (current.state === "invited") return await this.invite(action, action.role, action.profile, ctx);
        return this.fallbackWith(PENDING_OR_GONE(action.profile.email), action, ctx, { operation: "changeRole" });
      }
      await this.o.client.updatePermissions(member.id, permissions);
      return this.done(action, { externalId: String(member.id), state: "active", role: action.role, profile: action.profile, settings: current.settings }, ctx, "role changed through the Huntress API", {
        action: "huntress.api.permissions",
        detail: { membershipId: member.id, permissions, previousRole: action.previousRole },
      });
    } catch (e: unknown) {
      return this.fallback(e, action, ctx);
    }
  }

  private async remove(action: Extract<ApplicableAction, { kind: "deactivate" }>, ctx: ApplyContext): Promise<ApplyResult> {
    const current = ctx.current;
    // Nobody acted on the invite task: it is cancelled (nothing exists to remove).
    if (!current || current.state === "pending") return taskOutcome(this.o.app, action, ctx);
    // Always keep at least one Account Admin: never ask the API to remove the last one.
    if (lastHolderReason(this.o.app, current, ctx.keepersOf, null) !== undefined) return taskOutcome(this.o.app, action, ctx);
    const email = action.profile?.email ?? current.profile?.email ?? current.externalId ?? "";
    try {
      const member = await this.membershipOf(current, email);
      if (!member) {
        if (current.state === "invited") return this.fallbackWith(PENDING_INVITATION, action, ctx, { operation: "deactivate" });
        // The list was read and the email holds no membership: whatever was there is gone already.
        return this.absent(action, current, ctx, email);
      }
      try {
        await this.o.client.deleteMembership(member.id);
      } catch (e: unknown) {
        // Reference, DELETE 404: "Membership not found, possibly because it has already been
        // deleted." (removed in the portal by hand). It may also be one this key cannot reach, so
        // it counts as gone only if the same key's list holds neither the id nor the email.
        if (!(e instanceof ConnectorError && e.status === 404) || (await this.stillListed(member.id, email))) throw e;
        return this.absent(action, current, ctx, email);
      }
      return this.done(action, { externalId: null, state: "removed", role: null, profile: current.profile, settings: {} }, ctx, "removed through the Huntress API", {
        action: "huntress.api.delete",
        detail: { membershipId: member.id, email, reason: action.reason },
      });
    } catch (e: unknown) {
      return this.fallback(e, action, ctx);
    }
  }

  /**
   * Reads memberships back: an account the bridge knows by email only (invited through the API,
   * or by a person through a task) whose email now holds a membership is reported `active`, keyed
   * by the membership id, with the role its permissions stand for, and any task still asking to
   * invite or confirm is withdrawn. The reconciler records each report only if the row is unchanged.
   */
  async refresh(accounts: readonly AppAccount[]): Promise<AccountProgress[]> {
    const waiting = accounts.filter((a) => (a.state === "invited" || a.state === "pending" || a.state === "active") && a.externalId !== null && !isMembershipId(a.externalId));
    if (waiting.length === 0) return [];
    const byKey = new Map<string, HuntressMembership>();
    for (const m of await this.o.client.listMemberships()) if (this.isOurs(m) && !byKey.has(matchingKey(m.user.email))) byKey.set(matchingKey(m.user.email), m);
    const out: AccountProgress[] = [];
    for (const seen of waiting) {
      const email = seen.profile?.email ?? seen.externalId!;
      const member = byKey.get(matchingKey(email));
      if (!member) continue;
      out.push({
        seen,
        externalId: String(member.id),
        state: "active",
        role: roleOf(member.permissions),
        events: [{ action: "huntress.api.confirmed", detail: { email, membershipId: member.id, permissions: member.permissions } }],
        task: { kind: "cancel", reason: `no longer needed: the Huntress API shows ${email} as a member (membership ${member.id})`, onlyActions: ["invite", "confirm"] },
      });
    }
    return out;
  }

  /**
   * Every membership of the account, for drift and for verifying tasks: keyed by the membership
   * id, with the role its permissions stand for (the permissions label itself where the template
   * has no role for it, e.g. Read-only). A membership is always enabled: removal deletes it.
   */
  async readBack(): Promise<RemoteAccount[]> {
    return (await this.o.client.listMemberships())
      .filter((m) => this.isOurs(m))
      .map((m) => ({ externalId: String(m.id), email: m.user.email, name: m.user.name ?? m.user.email, enabled: true, role: roleOf(m.permissions) ?? m.permissions, lastLoginAt: null }));
  }

  // --- Plumbing ---

  /** Nothing to remove: the outcome says so (and withdraws any task asking for it). */
  private absent(action: ApplicableAction, current: AppAccount, ctx: ApplyContext, email: string): ApplyResult {
    return this.done(action, { externalId: null, state: "removed", role: null, profile: current.profile, settings: {} }, ctx, "no Huntress membership left to remove", {
      action: "huntress.api.absent",
      detail: { email },
    });
  }

  private async stillListed(id: number, email: string): Promise<boolean> {
    const wanted = matchingKey(email);
    return (await this.o.client.listMemberships()).some((m) => this.isOurs(m) && (m.id === id || matchingKey(m.user.email) === wanted));
  }

  /** The membership behind an account: its id when known, else looked up by email. */
  private async membershipOf(current: AppAccount, email: string): Promise<Pick<HuntressMembership, "id"> | undefined> {
    if (isMembershipId(current.externalId)) return { id: Number(current.externalId) };
    return this.findMembership(email);
  }

  private async findMembership(email: string): Promise<HuntressMembership | undefined> {
    const wanted = matchingKey(email);
    return (await this.o.client.listMemberships()).find((m) => this.isOurs(m) && matchingKey(m.user.email) === wanted);
  }

  /** A membership of the account (not of one of its organizations; of the configured account for a reseller key). */
  private isOurs(m: HuntressMembership): boolean {
    return m.scope?.kind === "account" && (this.o.accountId === undefined || m.scope.id === this.o.accountId);
  }

  /** The API did the work: an open task asking for it (or for an older plan) is withdrawn, saying so. */
  private done(action: ApplicableAction, result: ApplyResult, ctx: ApplyContext, what: string, event: EventIntent): ApplyResult {
    this.o.log.info("huntress api", { app: this.app, userId: action.userId, requestId: ctx.requestId, action: event.action, ...event.detail });
    return { ...result, events: [event], task: { kind: "cancel", reason: `no longer needed: ${what}` } };
  }

  /** An API failure becomes the manual task; a conflict or a bug is not the API's to fall back from. */
  private fallback(e: unknown, action: ApplicableAction, ctx: ApplyContext): ApplyResult {
    if (!(e instanceof ConnectorError) || e.kind === "conflict") throw e;
    return this.fallbackWith(fallbackReason(e), action, ctx, { operation: action.kind, status: e.status, kind: e.kind, attempts: e.attempts, error: e.message });
  }

  /** The manual task for the action, its first step saying why the API did not do it. */
  private fallbackWith(reason: string, action: ApplicableAction, ctx: ApplyContext, detail: Record<string, unknown>): ApplyResult {
    this.o.log.warn("huntress api fallback: raising a manual task", { app: this.app, userId: action.userId, requestId: ctx.requestId, reason, ...detail });
    const result = taskOutcome(this.o.app, action, ctx, reason);
    return { ...result, events: [{ action: "huntress.api.fallback", detail: { reason, ...detail } }, ...(result.events ?? [])] };
  }
}

const PENDING_OR_GONE = (email: string): string => `The Huntress API shows no membership for ${email} (removed, or never accepted): check the portal and do it by hand.`;

/** MembershipCreationParameters requires first_name and last_name: derive both from whatever the IdP sent. */
function namesOf(p: Profile): { first: string; last: string } {
  const [head, ...rest] = p.displayName.trim().split(/\s+/);
  const first = p.givenName.trim() || head || p.email.split("@")[0]!;
  const last = p.familyName.trim() || rest.join(" ") || first;
  return { first, last };
}
