/**
 * One provisioning pass for one user: read the directory and the identity map, plan, and apply
 * each action through its app's connector, recording every outcome in the identity map and the
 * audit log. Shared by the worker (apply) and `plan --dry-run` (plan only).
 */
import type { DirectoryReader } from "../domain/readers.js";
import type { Connector } from "../domain/connector.js";
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import type { IdentityMap } from "../db/identity-map.js";
import type { Logger } from "../log.js";
import type { AppConfig, Rule } from "./config-schema.js";
import type { Action, AppAccount, RemovalReason, WantedAccess } from "../domain/model.js";
import { describeAction, plan, sameProfile, sameSettings } from "./plan.js";
import { wantedAccess } from "./rules.js";


export interface ProvisioningDeps {
  readonly db: Db;
  readonly directory: DirectoryReader;
  readonly accounts: IdentityMap;
  readonly audit: AuditLog;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly apps: readonly AppConfig[];
  readonly rules: readonly Rule[];
  readonly log: Logger;
}

export interface UserPlan {
  readonly userId: string;
  readonly userName: string | null;
  readonly wanted: readonly WantedAccess[];
  readonly accounts: readonly AppAccount[];
  readonly actions: readonly Action[];
}

export function planUser(deps: ProvisioningDeps, userId: string): UserPlan {
  const { user, groups } = deps.directory.snapshot(userId);
  const wanted = user ? wantedAccess(user, groups, deps.apps, deps.rules) : [];
  const removal: RemovalReason = !user ? "deleted" : !user.active ? "inactive" : "not-granted";
  const accounts = deps.accounts.forUser(userId);
  const actions = plan(
    userId,
    deps.apps.map((a) => a.name),
    wanted,
    accounts,
    removal,
  );
  return { userId, userName: user?.userName ?? null, wanted, accounts, actions };
}

export interface SyncFailure {
  readonly app: string;
  readonly message: string;
  /** False when retrying cannot help (e.g. a team name HaloPSA does not know): fix the config. */
  readonly retryable: boolean;
}

export interface SyncOutcome {
  readonly applied: number;
  readonly failures: readonly SyncFailure[];
}

/** Errors say whether a retry can help with a `retryable` flag (HaloPsaError does); unknown errors can. */
function isRetryable(e: unknown): boolean {
  return !(typeof e === "object" && e !== null && "retryable" in e && e.retryable === false);
}

/**
 * Plans and applies. Every action is tried even when an earlier one failed (apps are independent);
 * the failures are returned so the job can be retried, and a retry re-plans, so what succeeded is
 * not repeated.
 */
export async function syncUser(deps: ProvisioningDeps, userId: string, requestId: string | null): Promise<SyncOutcome> {
  const { actions } = planUser(deps, userId);
  const failures: SyncFailure[] = [];
  let applied = 0;
  for (const action of actions) {
    try {
      await applyAction(deps, action, requestId);
      applied++;
    } catch (e: unknown) {
      const message = e instanceof Error ? e.message : String(e);
      failures.push({ app: action.app, message, retryable: isRetryable(e) });
      deps.db.transaction(() => {
        deps.accounts.recordError(action.userId, action.app, message);
        deps.audit.append({
          actor: "worker",
          requestId,
          action: `provision.${action.kind}.failed`,
          resourceType: "AppAccount",
          resourceId: `${action.userId}/${action.app}`,
          after: { action: describeAction(action), error: message },
        });
      })();
      deps.log.warn("provisioning action failed", { requestId, userId, app: action.app, action: action.kind, error: message });
    }
  }
  return { applied, failures };
}

async function applyAction(deps: ProvisioningDeps, action: Action, requestId: string | null): Promise<void> {
  const app = deps.apps.find((a) => a.name === action.app);
  const before = deps.accounts.get(action.userId, action.app);
  const audit = (name: string, after: unknown) =>
    deps.audit.append({ actor: "worker", requestId, action: name, resourceType: "AppAccount", resourceId: `${action.userId}/${action.app}`, before, after });

  if (app?.mode === "dry-run") {
    // Dry-run apps: the plan is recorded, the app is never called and the map does not move.
    deps.audit.append({ actor: "worker", requestId, action: "provision.dry-run", resourceType: "AppAccount", resourceId: `${action.userId}/${action.app}`, after: { action, summary: describeAction(action) } });
    return;
  }
  if (action.kind === "discard") {
    deps.db.transaction(() => {
      deps.accounts.record({ userId: action.userId, app: action.app, externalId: null, role: null, state: "removed", profile: before?.profile ?? null, settings: {}, createdByBridge: false });
      audit("provision.discard", { state: "removed", reason: action.reason });
    })();
    return;
  }
  const connector = deps.connectors.get(action.app);
  if (!connector) throw new Error(`no connector for app "${action.app}" (is it still configured?)`);
  const result = await connector.apply(action, { requestId, current: before });
  const account = {
    userId: action.userId,
    app: action.app,
    externalId: result.externalId,
    role: result.role,
    state: result.state,
    profile: result.profile,
    settings: result.settings,
    createdByBridge: result.createdByBridge ?? before?.createdByBridge ?? false,
  };
  // Re-applying a plan whose work is already under way (an open manual task) changes nothing:
  // no write and no audit noise.
  if (before && sameAccount(before, account) && before.lastError === null && (result.events ?? []).length === 0) return;
  deps.db.transaction(() => {
    deps.accounts.record(account);
    audit(`provision.${action.kind}`, { ...account, summary: describeAction(action) });
    for (const event of result.events ?? []) audit(event.action, event.detail);
  })();
  deps.log.info("provisioned", { requestId, userId: action.userId, app: action.app, action: action.kind, state: result.state });
}

function sameAccount(a: AppAccount, b: Omit<AppAccount, "lastSyncAt" | "lastError">): boolean {
  return (
    a.externalId === b.externalId &&
    a.state === b.state &&
    a.role === b.role &&
    a.createdByBridge === b.createdByBridge &&
    sameProfile(a.profile, b.profile) &&
    sameSettings(a.settings, b.settings)
  );
}
