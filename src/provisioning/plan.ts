/**
 * plan(wanted, actual) → actions. Pure: no I/O, no clock. Every transition of the identity map is
 * decided here, unit-tested exhaustively, printed by `plan --dry-run`, and applied by a thin loop.
 */
import type { AppAccount, Action, Profile, RemovalReason, Settings, WantedAccess } from "../domain/model.js";

/** JSON with sorted keys, so two equal settings objects compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

export function sameProfile(a: Profile | null, b: Profile | null): boolean {
  return canonical(a) === canonical(b);
}

export function sameSettings(a: Settings, b: Settings): boolean {
  return canonical(a) === canonical(b);
}

/** The action that brings one app from `actual` to `wanted`, or undefined when they agree. */
export function planApp(userId: string, app: string, wanted: WantedAccess | undefined, actual: AppAccount | undefined, removal: RemovalReason): Action | undefined {
  const state = actual?.state;
  const externalId = actual?.externalId ?? null;

  if (!wanted) {
    if (!actual || state === "removed" || state === "disabled") return undefined;
    // Nothing ever reached the app (a first create failed, or a task was never acted on): forget it here.
    if (externalId === null) return { kind: "discard", app, userId, reason: removal };
    return { kind: "deactivate", app, userId, externalId, reason: removal, profile: actual.profile };
  }

  const { role, settings, profile } = wanted;
  if (!actual || externalId === null) return { kind: "create", app, userId, role, settings, profile };
  if (state === "removed" || state === "disabled" || state === "error") {
    // The same account comes back (never a second one); `error` means the last write to an existing
    // account failed, so its remote state is unknown: re-assert everything, enabled.
    return { kind: "reactivate", app, userId, externalId, role, settings, profile };
  }
  if (actual.role !== role) {
    return { kind: "changeRole", app, userId, externalId, role, previousRole: actual.role, settings, profile };
  }
  if (!sameProfile(actual.profile, profile) || !sameSettings(actual.settings, settings)) {
    return { kind: "update", app, userId, externalId, role, settings, profile, previous: { profile: actual.profile, settings: actual.settings } };
  }
  return undefined;
}

/**
 * Actions for one user across apps: every app that is configured or still holds an account.
 * `removal` says why access goes where it is not wanted (user deleted, inactive, or no rule).
 */
export function plan(
  userId: string,
  apps: readonly string[],
  wanted: readonly WantedAccess[],
  actual: readonly AppAccount[],
  removal: RemovalReason,
): Action[] {
  const names = [...new Set([...apps, ...actual.map((a) => a.app)])];
  const actions: Action[] = [];
  for (const app of names) {
    const action = planApp(
      userId,
      app,
      wanted.find((w) => w.app === app),
      actual.find((a) => a.app === app),
      removal,
    );
    if (action) actions.push(action);
  }
  return actions;
}

/** One line per action for logs, the CLI and the admin page: "create halopsa agent (role agent)". */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case "create":
      return `create in ${a.app} as ${a.role} (${a.profile.email})`;
    case "update":
      return `update ${a.app} account ${a.externalId}`;
    case "changeRole":
      return `change ${a.app} role ${a.previousRole ?? "none"} → ${a.role}`;
    case "deactivate":
      return `deactivate ${a.app} account ${a.externalId} (${a.reason})`;
    case "reactivate":
      return `reactivate ${a.app} account ${a.externalId} as ${a.role}`;
    case "discard":
      return `forget ${a.app} account that was never created (${a.reason})`;
  }
}
