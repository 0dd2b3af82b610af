/**
 * What a planned action means for an app without an API: the task a person must carry out, and
 * where the identity map stands meanwhile. Pure: it reads the action and the worker's read-only
 * views, and returns an outcome with a task intent; the worker writes the task (superseding the
 * open one) in the outcome's transaction. The manual connector is this function; the Huntress API
 * connector falls back to it when the API cannot do the work.
 *
 * The identity map keeps what exists in the portal (a task changes it only when a person completes
 * it); the open task says what is owed. So:
 * - an invite nobody acted on is simply cancelled when access goes away (nothing exists to remove);
 * - the last confirmed holder of the template's `keepOneOf` role (Huntress: Account Admin) is never
 *   removed or downgraded: a blocked task explains why instead (counting every removal already
 *   under way, so a batch that takes several admins away leaves one);
 * - the portal's natural key, the email, serves as the account's external id.
 */
import type { ApplicableAction, ApplyContext, ApplyResult, TaskIntent } from "../../domain/connector.js";
import type { AppAccount, Profile } from "../../domain/model.js";
import type { TaskAction } from "../../domain/task.js";
import { roleLabel, type Template } from "./templates.js";

/** The part of a manual app's config the outcome depends on. */
export interface ManualApp {
  readonly name: string;
  readonly template: Template;
}

export function taskOutcome(app: ManualApp, action: ApplicableAction, ctx: ApplyContext, firstStep?: string): ApplyResult {
  const current = ctx.current;
  const profile = action.profile ?? current?.profile ?? null;
  const keep = {
    externalId: current?.externalId ?? null,
    state: current?.state ?? "pending",
    role: current?.role ?? null,
    profile,
    settings: current?.settings ?? {},
  } as const;
  const raise = (p: Profile, task: TaskAction, role: string | null, previousRole: string | null, blockedReason?: string): Extract<TaskIntent, { kind: "raise" }> => ({
    kind: "raise",
    action: task,
    role,
    previousRole,
    profile: p,
    ...(blockedReason === undefined ? {} : { blockedReason }),
    ...(firstStep === undefined ? {} : { firstStep }),
  });
  const invitation = (role: string, p: Profile): ApplyResult => ({
    externalId: p.email,
    state: "pending",
    role,
    profile: p,
    settings: {},
    createdByBridge: true,
    task: raise(p, "invite", role, null),
  });

  switch (action.kind) {
    case "create":
    case "reactivate": {
      // Disabled in the portal: enable the same account again. Otherwise (nothing there yet, or
      // removed from it): an invitation.
      const disabled = current?.externalId && current.state === "disabled";
      if (disabled && app.template.actions.enable) return { ...keep, task: raise(action.profile, "enable", action.role, current.role) };
      return invitation(action.role, action.profile);
    }
    case "changeRole": {
      // Only an invitation exists: invite with the new role instead ("invite as Standard User,
      // then promoted" becomes "invite as Account Admin").
      if (current?.state === "pending") return invitation(action.role, action.profile);
      const blocked = lastHolderReason(app, current, ctx.keepersOf, action.role);
      return { ...keep, task: raise(action.profile, "changeRole", action.role, action.previousRole, blocked) };
    }
    case "deactivate": {
      if (current?.state === "pending") {
        // Invited before anyone acted, now gone: cancel the invite; there is nothing to remove.
        return {
          externalId: null,
          state: "removed",
          role: null,
          profile,
          settings: {},
          task: { kind: "cancel", reason: `no longer needed: access was withdrawn (${action.reason}) before anyone acted` },
        };
      }
      const blocked = lastHolderReason(app, current, ctx.keepersOf, null);
      const t = app.template;
      // An unconfirmed user is deleted (that also invalidates the invitation); a user the IdP deleted
      // is deleted where the portal can; otherwise access is revoked the template's way.
      const verb: TaskAction = t.actions.delete && (current?.state === "invited" || action.reason === "deleted") ? "delete" : t.revoke;
      return { ...keep, task: { ...raise(profile!, verb, null, current?.role ?? null, blocked), removal: action.reason } };
    }
    case "update":
      // Name and email changes need nothing in an invite portal; the map keeps the new profile.
      return { ...keep, profile: action.profile };
  }
}

/**
 * A Huntress account must always keep one Account Admin (docs/manual-tasks.md): the reason a task
 * that takes the `keepOneOf` role away from `current` is blocked, or undefined when another
 * confirmed holder would remain (or the change keeps the role). `keepersOf` names the others who
 * would still hold it; the task writer asks again inside the transaction that writes the task.
 */
export function lastHolderReason(app: ManualApp, current: AppAccount | undefined, keepersOf: (role: string) => readonly AppAccount[], newRole: string | null): string | undefined {
  const keepRole = app.template.keepOneOf;
  if (keepRole === undefined || current?.role !== keepRole || newRole === keepRole) return undefined;
  if (keepersOf(keepRole).some((a) => a.userId !== current.userId)) return undefined;
  const label = roleLabel(app.template, keepRole);
  return (
    `${current.profile?.displayName ?? "This user"} is the last ${label} of ${app.template.label}: no other ${label} who has accepted their invitation would remain ` +
    `(any other is being removed or downgraded too, or has not accepted yet), and an account must always keep one. ` +
    `Grant ${label} to someone else and confirm they accepted; this task unblocks by itself.`
  );
}
