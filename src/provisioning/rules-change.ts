/**
 * Changing apps or rules and restarting re-plans everyone: at start the fingerprint of the apps
 * and rules in force is compared with the one last applied, and on a change every user gets a job
 * (in one transaction with the new fingerprint and an audit event).
 *
 * A change that would deactivate, remove or downgrade anyone is previewed first: those actions are
 * held as one change set that waits for an admin (docs/provisioning.md, "Approvals"), with the
 * rule diff that explains them; the additive actions of the same change go ahead.
 */
import { createHash } from "node:crypto";
import type { ChangeSet } from "../db/approvals.js";
import type { BridgeState } from "../db/bridge-state.js";
import type { JobQueue } from "../db/jobs.js";
import { destructiveKind } from "./approvals.js";
import type { AppConfig, Rule } from "./config-schema.js";
import { planUser, type ProvisioningDeps } from "./sync-user.js";

const FINGERPRINT = "rules-fingerprint";
/** The apps and rules last applied, for the diff a person reads before approving. */
const APPLIED = "rules-applied";
const REQUEST_ID = "startup:rules-changed";

export function rulesFingerprint(apps: readonly AppConfig[], rules: readonly Rule[]): string {
  return createHash("sha256").update(JSON.stringify({ apps, rules })).digest("hex");
}

interface Applied {
  readonly apps: readonly AppConfig[];
  readonly rules: readonly Rule[];
}

/** What changed between two configs, in terms a person checks: rules and apps added or removed. */
export function ruleDiff(before: Applied | undefined, after: Applied): Record<string, unknown> {
  if (before === undefined) return { note: "the rules applied before this version were not recorded" };
  const key = (x: unknown) => JSON.stringify(x);
  const minus = <T>(a: readonly T[], b: readonly T[]) => a.filter((x) => !b.some((y) => key(y) === key(x)));
  return {
    rulesRemoved: minus(before.rules, after.rules),
    rulesAdded: minus(after.rules, before.rules),
    appsRemoved: before.apps.filter((a) => !after.apps.some((b) => b.name === a.name)).map((a) => a.name),
    appsAdded: after.apps.filter((a) => !before.apps.some((b) => b.name === a.name)).map((a) => a.name),
    appsChanged: after.apps.filter((a) => before.apps.some((b) => b.name === a.name && key(b) !== key(a))).map((a) => a.name),
  };
}

export interface RulesChangeResult {
  /** Users queued (0 when the rules did not change). */
  readonly queued: number;
  /** The change set holding the change's destructive actions, when there are any. */
  readonly held: ChangeSet | undefined;
}

export function replanOnRulesChange(deps: ProvisioningDeps, jobs: JobQueue, state: BridgeState): RulesChangeResult {
  const fingerprint = rulesFingerprint(deps.apps, deps.rules);
  const previous = state.get(FINGERPRINT);
  if (previous === fingerprint) return { queued: 0, held: undefined };
  const before = state.get(APPLIED);
  const applied: Applied = { apps: deps.apps, rules: deps.rules };
  return deps.db
    .transaction(() => {
      const ids = [...new Set([...deps.directory.userIds(), ...deps.accounts.userIds()])];
      let held: ChangeSet | undefined;
      if (deps.guard?.settings.approveRuleChanges) {
        const preview = ids.flatMap((id) => planUser(deps, id).actions.filter((a) => destructiveKind(a, deps.apps) !== undefined));
        held = deps.guard.holdRulesChange(preview, { diff: ruleDiff(before === undefined ? undefined : (JSON.parse(before) as Applied), applied), fingerprint }, REQUEST_ID);
      }
      jobs.enqueueSweep(ids, REQUEST_ID);
      state.set(FINGERPRINT, fingerprint);
      state.set(APPLIED, JSON.stringify(applied));
      deps.audit.append({
        actor: "system",
        requestId: REQUEST_ID,
        action: "config.rules-changed",
        resourceType: "Config",
        resourceId: null,
        before: previous === undefined ? undefined : { fingerprint: previous },
        after: { fingerprint, usersQueued: ids.length, ...(held ? { heldForApproval: held.waiting, changeSet: held.id } : {}) },
      });
      return { queued: ids.length, held };
    })
    .immediate();
}
