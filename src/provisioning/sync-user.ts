/**
 * One provisioning pass for one user: read the directory and the identity map, plan, and apply
 * each action through its app's connector, recording every outcome (identity map, tasks, audit)
 * in one transaction. Shared by the worker (apply) and `plan --dry-run` (plan only).
 *
 * The worker is the only writer for provisioning, and it keeps the identity invariants
 * (docs/provisioning.md) before any app is written to:
 * - the email a user is about to be given in an app is reserved in the store first, so two users
 *   whose emails share a matching key can never both be provisioned (the second is a conflict);
 * - a connector adopting an account it found asks who holds it (`ownerOf`) and refuses another's;
 * - links made against another app instance are never acted on (`scim-bridge apps rebind|forget`);
 * - a deleted user's released link is deprovisioned only while nobody else holds the account.
 */
import type { Clock } from "../clock.js";
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import { OwnershipConflict, type IdentityMap } from "../db/identity-map.js";
import { ConnectorError } from "../domain/connector-error.js";
import { errorText } from "../domain/secret-scrubber.js";
import { matchingKey } from "../domain/folding.js";
import type { ApplyContext, ApplyResult, Connector, EventIntent } from "../domain/connector.js";
import type { AccountOutcome, Action, AppAccount, RemovalReason, WantedAccess } from "../domain/model.js";
import type { DirectoryReader } from "../domain/readers.js";
import type { Logger } from "../log.js";
import { destructiveKind, type DeprovisionGuard } from "./approvals.js";
import type { AppConfig, Rule } from "./config-schema.js";
import { describeAction, plan, sameProfile, sameSettings } from "./plan.js";
import { wantedAccess } from "./rules.js";
import type { KeptRoleLock } from "./kept-role-lock.js";
import type { TaskWriter } from "./task-writer.js";
import type { TaskVerifier } from "./task-verifier.js";
import { withdrawUnwantedTasks } from "./unwanted-tasks.js";

export interface ProvisioningDeps {
  readonly db: Db;
  readonly directory: DirectoryReader;
  readonly accounts: IdentityMap;
  readonly audit: AuditLog;
  readonly taskWriter: TaskWriter;
  /** Serializes per app the actions that may take its kept role (the keep-one guard, ./kept-role-lock.ts). */
  readonly keptRoleLock: KeptRoleLock;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly apps: readonly AppConfig[];
  readonly rules: readonly Rule[];
  readonly clock: Clock;
  readonly log: Logger;
  /** Holds destructive actions for approval (docs/provisioning.md, "Approvals"); none: all run. */
  readonly guard?: DeprovisionGuard | undefined;
  /** The bridge's one secret scrubber: every error text goes through it before it is stored or logged. */
  readonly scrub: (text: string) => string;
  /** Reads apps back to verify the user's done tasks (./task-verifier.ts); none: tasks are not verified here. */
  readonly verifier?: Pick<TaskVerifier, "verifyUser" | "verifyApp"> | undefined;
}

/** How long a job waits before reading an app back again after a transient read failure. */
const VERIFY_RETRY_MS = 30_000;

export interface UserPlan {
  readonly userId: string;
  readonly userName: string | null;
  readonly wanted: readonly WantedAccess[];
  readonly accounts: readonly AppAccount[];
  readonly actions: readonly Action[];
  /** Why access goes where it is not wanted. */
  readonly removal: RemovalReason;
}

export function planUser(deps: Pick<ProvisioningDeps, "directory" | "accounts" | "apps" | "rules">, userId: string): UserPlan {
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
  return { userId, userName: user?.userName ?? null, wanted, accounts, actions, removal };
}

export interface SyncFailure {
  readonly app: string;
  readonly message: string;
  /** False when retrying cannot help (a team HaloPSA does not know, a conflict): a person must act. */
  readonly retryable: boolean;
  /** Do not retry before this many ms (an unsettled create, a Retry-After). */
  readonly retryAfterMs: number | null;
  /**
   * Only waiting for an earlier create to settle: not a failure of this attempt, so it neither
   * counts as one nor replaces the error that caused the wait.
   */
  readonly settling: boolean;
}

export interface SyncOutcome {
  readonly applied: number;
  readonly failures: readonly SyncFailure[];
  /** Destructive actions not carried out: waiting for approval, or rejected. */
  readonly held: number;
}

/**
 * Plans and applies. Every action is tried even when an earlier one failed (apps are independent);
 * the failures are returned so the job can be retried, and a retry re-plans, so what succeeded is
 * not repeated.
 */
export async function syncUser(deps: ProvisioningDeps, userId: string, requestId: string | null): Promise<SyncOutcome> {
  // First what the apps show of tasks just done: a task reopened by it moves the map the plan starts from.
  const failures: SyncFailure[] = await verifyDoneTasks(deps, userId, requestId);
  const userPlan = planUser(deps, userId);
  const { actions } = userPlan;
  let applied = 0;
  let held = 0;
  for (const action of actions) {
    try {
      const gate = deps.guard?.admit(action, requestId) ?? { go: true };
      if (!gate.go) {
        held++;
        deps.log.info("destructive action held", { requestId, userId, app: action.app, action: action.kind, why: gate.why });
        continue;
      }
      await deps.keptRoleLock.run(action, () => applyAction(deps, action, requestId));
      if (gate.hold) deps.guard!.carriedOut(gate.hold);
      applied++;
    } catch (e: unknown) {
      failures.push(recordFailure(deps, action, e, requestId));
    }
  }
  deps.guard?.settleUnwanted(userId, new Set(actions.filter((a) => destructiveKind(a, deps.apps) !== undefined).map((a) => a.app)));
  // The plan and the task queue never disagree: a task it no longer wants is cancelled now.
  withdrawUnwantedTasks(deps, userPlan, requestId);
  return { applied, failures, held };
}

/**
 * A transient read failure keeps the done task pending and runs the job again a little later
 * without counting an attempt (the plan itself did not fail); any other is left to the reconcile pass.
 */
async function verifyDoneTasks(deps: ProvisioningDeps, userId: string, requestId: string | null): Promise<SyncFailure[]> {
  const failed = (await deps.verifier?.verifyUser(userId, requestId)) ?? [];
  return failed
    .filter((f) => f.error instanceof ConnectorError && f.error.retryable)
    .map((f) => ({
      app: f.app,
      message: `reading the app back to verify a done task failed: ${f.message}`,
      retryable: true,
      retryAfterMs: Math.max(VERIFY_RETRY_MS, (f.error as ConnectorError).retryAfterMs ?? 0),
      settling: true,
    }));
}

/** The read-only views a connector gets for one user and app instance. */
export function applyContext(deps: Pick<ProvisioningDeps, "accounts">, app: string, instance: string, userId: string, requestId: string | null, current?: AppAccount): ApplyContext {
  return {
    requestId,
    current,
    ownerOf: (externalId) => deps.accounts.holderOf(app, instance, { externalId }, userId),
    keepersOf: (role) => deps.accounts.keepersOf(app, instance, role, userId),
  };
}

async function applyAction(deps: ProvisioningDeps, action: Action, requestId: string | null): Promise<void> {
  const app = deps.apps.find((a) => a.name === action.app);
  const before = deps.accounts.get(action.userId, action.app);
  const resourceId = `${action.userId}/${action.app}`;

  if (app?.mode === "dry-run") {
    // Dry-run apps: the plan is recorded, the app is never called and the map does not move.
    deps.audit.append({ actor: "worker", requestId, action: "provision.dry-run", resourceType: "AppAccount", resourceId, after: { action, summary: describeAction(action) } });
    return;
  }
  const connector = deps.connectors.get(action.app);
  if (!connector) throw new Error(`no connector for app "${action.app}" (is it still configured?)`);
  const instance = connector.instance;
  if (before && before.instance !== "" && before.instance !== instance) {
    // Made against another instance of the app: its ids mean nothing here (docs/provisioning.md).
    deps.log.warn("link made against another app instance: not acted on (scim-bridge apps rebind|forget)", { requestId, userId: action.userId, app: action.app, linkedTo: before.instance, configured: instance });
    return;
  }
  const keep = (result: Omit<ApplyResult, "events" | "task">, events: readonly EventIntent[] = []) => record(deps, action, before, instance, { ...result, events }, requestId);

  if (action.kind === "discard") {
    return keep({ externalId: null, role: null, state: "removed", profile: before?.profile ?? null, settings: {}, createdByBridge: false }, [{ action: "provision.discard", detail: { reason: action.reason } }]);
  }
  if (before?.releasedAt && action.kind === "deactivate") {
    // A deleted user's link: deprovision it unless the account went to someone else meanwhile
    // (a user created again with the same email adopted it).
    const holder = deps.accounts.holderOf(action.app, instance, { externalId: action.externalId }, action.userId);
    if (holder) {
      return keep({ ...before, state: "removed", role: null }, [{ action: "provision.deactivate.skipped", detail: { reason: "the account now belongs to another user", holder } }]);
    }
  }
  if (action.kind !== "deactivate" && !holdsEmail(before, instance, action.profile.email)) {
    deps.db.transaction(() => deps.accounts.reserveEmail(action.userId, action.app, instance, action.profile)).immediate();
  }
  const result = await connector.apply(action, applyContext(deps, action.app, instance, action.userId, requestId, before));
  record(deps, action, before, instance, result, requestId);
}

/** What the identity map records for a user's account after a connector's result. */
export function outcomeOf(action: Pick<Action, "userId" | "app">, result: ApplyResult, before: AppAccount | undefined): AccountOutcome {
  return {
    userId: action.userId,
    app: action.app,
    externalId: result.externalId,
    role: result.role,
    state: result.state,
    profile: result.profile,
    settings: result.settings,
    createdByBridge: result.createdByBridge ?? before?.createdByBridge ?? false,
  };
}

/** The outcome, its task intent and its events: one transaction. Nothing at all when nothing changed. */
function record(deps: ProvisioningDeps, action: Action, before: AppAccount | undefined, instance: string, result: ApplyResult, requestId: string | null): void {
  const outcome = outcomeOf(action, result, before);
  const wrote = deps.db
    .transaction(() => {
      const taskEvents = result.task ? deps.taskWriter.apply(action.app, action.userId, result.task, requestId) : [];
      const events = [...(result.events ?? []), ...taskEvents];
      // Re-applying a plan whose work is already under way (an open manual task) changes nothing:
      // no write and no audit noise.
      const unchanged = before && sameAccount(before, outcome) && before.lastError === null && before.instance === instance && events.length === 0;
      if (unchanged) return false;
      deps.accounts.record(outcome, instance);
      const audit = (name: string, after: unknown) =>
        deps.audit.append({ actor: "worker", requestId, action: name, resourceType: "AppAccount", resourceId: `${action.userId}/${action.app}`, before, after });
      if (action.kind !== "discard") audit(`provision.${action.kind}`, { ...outcome, summary: describeAction(action) });
      for (const event of events) audit(event.action, event.detail);
      return true;
    })
    .immediate();
  if (wrote) deps.log.info("provisioned", { requestId, userId: action.userId, app: action.app, action: action.kind, state: result.state });
}

/**
 * Records why an action failed, in one transaction with its audit event: a conflict names the
 * user who holds the account; a create whose effect is unknown is marked so that no second one is
 * made until it settles.
 */
function recordFailure(deps: ProvisioningDeps, action: Action, e: unknown, requestId: string | null): SyncFailure {
  const message = errorText(e, deps.scrub);
  if (e instanceof ConnectorError && e.kind === "unsettled") {
    deps.log.info("waiting for an earlier create to settle", { requestId, userId: action.userId, app: action.app, retryAfterMs: e.retryAfterMs });
    return { app: action.app, message, retryable: true, retryAfterMs: e.retryAfterMs, settling: true };
  }
  const conflict =
    e instanceof OwnershipConflict ? e.holder.userId : e instanceof ConnectorError && e.kind === "conflict" ? (e.owner?.userId ?? null) : null;
  const connectorError = e instanceof ConnectorError ? e : undefined;
  const unsettled = action.kind === "create" && connectorError?.effectUnknown === true;
  const instance = deps.connectors.get(action.app)?.instance;
  deps.db
    .transaction(() => {
      deps.accounts.recordError(action.userId, action.app, message, {
        ...(conflict === null ? {} : { conflictWith: conflict }),
        ...(unsettled ? { unsettledAt: deps.clock.now().toISOString() } : {}),
        ...(instance === undefined ? {} : { instance }),
      });
      deps.audit.append({
        actor: "worker",
        requestId,
        action: `provision.${action.kind}.${conflict === null ? "failed" : "conflict"}`,
        resourceType: "AppAccount",
        resourceId: `${action.userId}/${action.app}`,
        after: { action: describeAction(action), error: message, ...(conflict === null ? {} : { heldBy: conflict }) },
      });
    })
    .immediate();
  deps.log.warn(conflict === null ? "provisioning action failed" : "provisioning refused: the account belongs to another user", {
    requestId,
    userId: action.userId,
    app: action.app,
    action: action.kind,
    error: message,
  });
  // Unknown errors (a bug, the database) may pass: retry them. A conflict waits for a person.
  const retryable = conflict === null && (connectorError?.retryable ?? true);
  return { app: action.app, message, retryable, retryAfterMs: connectorError?.retryAfterMs ?? null, settling: false };
}

/**
 * The row already holds this email in this instance (record() keeps the reserved key in step with
 * the profile), so no reservation and no write lock are needed: most passes change nothing.
 */
function holdsEmail(before: AppAccount | undefined, instance: string, email: string): boolean {
  if (!before || before.releasedAt !== null || before.conflictWith !== null) return false;
  return before.instance === instance && before.state !== "removed" && before.profile !== null && matchingKey(before.profile.email) === matchingKey(email);
}

function sameAccount(a: AppAccount, b: Omit<AppAccount, "lastSyncAt" | "lastError" | "instance" | "conflictWith" | "createUnsettledAt" | "releasedAt">): boolean {
  return (
    a.externalId === b.externalId &&
    a.state === b.state &&
    a.role === b.role &&
    a.createdByBridge === b.createdByBridge &&
    sameProfile(a.profile, b.profile) &&
    sameSettings(a.settings, b.settings)
  );
}
