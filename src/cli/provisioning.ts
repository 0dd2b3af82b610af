/**
 * `scim-bridge plan [--user <id|userName|email>] [--json]` (a dry run: what provisioning would do,
 * changing nothing) and `scim-bridge reconcile` (queue a pass for every user; the running bridge applies it).
 */
import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { openStores } from "../compose.js";
import { appsAndRules, loadConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import { formatPlanReport } from "../provisioning/plan-report.js";
import { planUser } from "../provisioning/sync-user.js";
import type { DirectorySnapshots } from "../db/directory-snapshots.js";
import type { IdentityMap } from "../db/identity-map.js";
import { EXIT_OK, EXIT_REFUSED, type Out } from "./output.js";

/**
 * The one user `--user` names: a SCIM id (also of a user the IdP deleted whose app accounts the
 * bridge still holds), else a userName, else an email; a message instead when nobody or more than
 * one user matches. A plan for an id nobody has would be an empty plan that reads "up to date".
 */
function userOf(reference: string, directory: DirectorySnapshots, accounts: IdentityMap): { id: string } | { refusal: string } {
  if (directory.snapshot(reference).user !== undefined || accounts.userIds().includes(reference)) return { id: reference };
  const named = directory.usersNamed(reference);
  if (named.length === 1) return { id: named[0]!.id };
  if (named.length === 0) return { refusal: `No user has the id, userName or email "${reference}".` };
  return { refusal: `${named.length} users have the email "${reference}": ${named.map((u) => `${u.userName} [${u.id}]`).join(", ")}; name one by id or userName.` };
}

export function provisioningCommand(command: "plan" | "reconcile", args: readonly string[], out: Out, env: NodeJS.ProcessEnv): number {
  const { values } = parseArgs({ args: [...args], options: { user: { type: "string" }, json: { type: "boolean" } }, strict: true });
  const config = loadConfig(env);
  const db = openDatabase(config.database);
  try {
    const { directory, accounts, jobs } = openStores(config, db, systemClock);
    const everyone = () => [...new Set([...directory.userIds(), ...accounts.userIds()])];
    if (command === "reconcile") {
      const ids = everyone();
      db.transaction(() => jobs.enqueueSweep(ids, "cli:reconcile")).immediate();
      out(`Queued a provisioning pass for ${ids.length} user(s); the running bridge's worker applies it.`);
      return EXIT_OK;
    }
    let ids: string[];
    if (values.user === undefined) ids = everyone();
    else {
      const user = userOf(values.user, directory, accounts);
      if ("refusal" in user) {
        out(user.refusal);
        return EXIT_REFUSED;
      }
      ids = [user.id];
    }
    // Planning reads the directory and the identity map only: no connector is called.
    const plans = ids.map((id) => planUser({ directory, accounts, ...appsAndRules(config) }, id));
    if (values.json) out(JSON.stringify(plans, null, 2));
    else formatPlanReport(plans).forEach((line) => out(line));
    return EXIT_OK;
  } finally {
    db.close();
  }
}
