/**
 * When an app's configured instance is not the one its identity-map links were made against
 * (docs/provisioning.md, "Instances"), the worker acts on none of those links. An admin settles it:
 * - rebind: every such link is matched again, by the matching key of the user's current email,
 *   against the accounts the configured instance reads back; a match becomes the user's link
 *   there, anything else is dropped for the next pass to adopt or create;
 * - forget: every such link is dropped.
 * Planning is pure; applying is one transaction that also writes the audit trail and queues the
 * users, so the worker brings each account to what the rules want.
 */
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import type { IdentityMap } from "../db/identity-map.js";
import type { RemoteAccount } from "../domain/connector.js";
import { matchingKey } from "../domain/folding.js";
import type { AppAccount } from "../domain/model.js";
import type { ProvisioningQueue } from "../domain/readers.js";

export type DropReason = "forget" | "no-account" | "ambiguous" | "held" | "no-email";

export type RelinkStep =
  | { readonly kind: "match"; readonly link: AppAccount; readonly email: string; readonly account: RemoteAccount }
  | { readonly kind: "drop"; readonly link: AppAccount; readonly email: string | null; readonly reason: DropReason; readonly detail: string };

export interface RelinkPlan {
  readonly app: string;
  /** The configured instance: where matched links now point. */
  readonly instance: string;
  readonly steps: readonly RelinkStep[];
}

/** Live links of the app made against any instance but the configured one. */
export function foreignLinks(accounts: IdentityMap, app: string, instance: string): AppAccount[] {
  return accounts.list({ app }).filter((a) => a.instance !== instance);
}

/** The live user holding a remote account, or its email, in an instance (other than `exceptUserId`). */
export function holderIn(accounts: IdentityMap, app: string, instance: string) {
  return (account: RemoteAccount, exceptUserId: string): string | undefined =>
    (accounts.holderOf(app, instance, { externalId: account.externalId }, exceptUserId) ?? accounts.holderOf(app, instance, { email: account.email }, exceptUserId))?.userId;
}

export interface RebindInput {
  readonly app: string;
  readonly instance: string;
  readonly links: readonly AppAccount[];
  /** Every account the configured instance reads back. */
  readonly remote: readonly RemoteAccount[];
  /** The user's current email in the directory (undefined: the user has none or is gone). */
  readonly emailOf: (userId: string) => string | undefined;
  /** The live user already holding this account (or its email) in the configured instance, if any. */
  readonly holderOf: (account: RemoteAccount, exceptUserId: string) => string | undefined;
}

export function planRebind(input: RebindInput): RelinkPlan {
  const byKey = new Map<string, RemoteAccount[]>();
  for (const r of input.remote) {
    if (r.email.trim() === "") continue;
    const key = matchingKey(r.email);
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  const claimed = new Map<string, string>();
  const steps = input.links.map((link): RelinkStep => {
    const email = input.emailOf(link.userId) ?? link.profile?.email ?? null;
    if (email === null || matchingKey(email) === "") return { kind: "drop", link, email, reason: "no-email", detail: "the user has no email to match by" };
    const found = byKey.get(matchingKey(email)) ?? [];
    if (found.length === 0) return { kind: "drop", link, email, reason: "no-account", detail: "no account with this email: the next pass creates or invites one" };
    if (found.length > 1) {
      const ids = found.map((r) => r.externalId).join(", ");
      return { kind: "drop", link, email, reason: "ambiguous", detail: `accounts ${ids} share this email: the next pass adopts one, drift reports them as duplicate` };
    }
    const account = found[0]!;
    const holder = input.holderOf(account, link.userId) ?? claimed.get(account.externalId);
    if (holder !== undefined) {
      return { kind: "drop", link, email, reason: "held", detail: `account ${account.externalId} is linked to user ${holder}: the next pass ends in a conflict` };
    }
    claimed.set(account.externalId, link.userId);
    return { kind: "match", link, email, account };
  });
  return { app: input.app, instance: input.instance, steps };
}

export function planForget(app: string, instance: string, links: readonly AppAccount[]): RelinkPlan {
  return { app, instance, steps: links.map((link) => ({ kind: "drop", link, email: link.profile?.email ?? null, reason: "forget", detail: "dropped: the next pass adopts or creates" })) };
}

export interface RelinkStores {
  readonly db: Db;
  readonly accounts: IdentityMap;
  readonly audit: AuditLog;
  readonly jobs: ProvisioningQueue;
}

/**
 * Applies a plan in one transaction: matched links now point at the configured instance's account
 * (state and role as the app shows them, so the next pass corrects both), dropped links are
 * deleted (the audit event keeps what they were), and every user concerned is queued.
 */
export function applyRelink(stores: RelinkStores, plan: RelinkPlan, how: { action: "apps.rebind" | "apps.forget"; actor: string; requestId: string }): void {
  stores.db
    .transaction(() => {
      for (const step of plan.steps) {
        const { link } = step;
        // Planned from a read outside this transaction: a link that changed since is left alone.
        const now = stores.accounts.get(link.userId, link.app);
        if (!now || now.releasedAt !== null || now.instance !== link.instance || now.externalId !== link.externalId) continue;
        if (step.kind === "match") {
          const a = step.account;
          stores.accounts.record(
            {
              userId: link.userId,
              app: link.app,
              externalId: a.externalId,
              role: a.role,
              state: a.enabled ? "active" : "disabled",
              // What the account holds now, not what was written to the old instance: the next pass writes the difference.
              profile: { userName: link.profile?.userName ?? step.email, email: a.email, givenName: "", familyName: "", displayName: a.name },
              settings: {},
              createdByBridge: false,
            },
            plan.instance,
          );
        } else {
          stores.accounts.drop(link.userId, link.app);
        }
      }
      stores.audit.append({
        actor: how.actor,
        requestId: how.requestId,
        action: how.action,
        resourceType: "App",
        resourceId: plan.app,
        before: { links: plan.steps.map((s) => ({ userId: s.link.userId, instance: s.link.instance, externalId: s.link.externalId, state: s.link.state })) },
        after: {
          instance: plan.instance,
          links: plan.steps.map((s) => (s.kind === "match" ? { userId: s.link.userId, externalId: s.account.externalId } : { userId: s.link.userId, dropped: s.reason })),
        },
      });
      stores.jobs.enqueueUsers(
        plan.steps.map((s) => s.link.userId),
        how.requestId,
      );
    })
    .immediate();
}

/** The plan in words, one line per link and a summary. */
export function formatRelinkPlan(plan: RelinkPlan, userNameOf: (userId: string) => string): string[] {
  const lines = plan.steps.map((s) => {
    const who = `${userNameOf(s.link.userId)} [${s.link.userId}]`;
    const was = `${s.link.externalId ?? "no account"} in ${s.link.instance}`;
    return s.kind === "match"
      ? `  ${who}: ${was} → ${s.account.externalId} (${s.account.email}, ${s.account.enabled ? "enabled" : "disabled"})`
      : `  ${who}: ${was} → dropped (${s.detail})`;
  });
  const matched = plan.steps.filter((s) => s.kind === "match").length;
  return [...lines, `${plan.app}: ${matched} link(s) matched in ${plan.instance}, ${plan.steps.length - matched} dropped.`];
}
