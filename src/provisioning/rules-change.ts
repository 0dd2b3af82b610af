/**
 * Changing apps or rules and restarting re-plans everyone: at start the fingerprint of the apps
 * and rules in force is compared with the one last applied, and on a change every user gets a job
 * (in one transaction with the new fingerprint and an audit event).
 */
import { createHash } from "node:crypto";
import type { BridgeState } from "../db/bridge-state.js";
import type { JobQueue } from "../db/jobs.js";
import type { AppConfig, Rule } from "./config-schema.js";
import type { ProvisioningDeps } from "./sync-user.js";

const KEY = "rules-fingerprint";

export function rulesFingerprint(apps: readonly AppConfig[], rules: readonly Rule[]): string {
  return createHash("sha256").update(JSON.stringify({ apps, rules })).digest("hex");
}

/** Returns how many users were queued (0 when the rules did not change). */
export function replanOnRulesChange(deps: ProvisioningDeps, jobs: JobQueue, state: BridgeState): number {
  const fingerprint = rulesFingerprint(deps.apps, deps.rules);
  const previous = state.get(KEY);
  if (previous === fingerprint) return 0;
  return deps.db.transaction(() => {
    const ids = [...new Set([...deps.directory.userIds(), ...deps.accounts.userIds()])];
    jobs.enqueueUsers(ids, "startup:rules-changed");
    state.set(KEY, fingerprint);
    deps.audit.append({
      actor: "system",
      requestId: "startup:rules-changed",
      action: "config.rules-changed",
      resourceType: "Config",
      resourceId: null,
      before: previous === undefined ? undefined : { fingerprint: previous },
      after: { fingerprint, usersQueued: ids.length },
    });
    return ids.length;
  }).immediate();
}
