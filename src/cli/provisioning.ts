/**
 * `scim-bridge plan [--user <id>] [--json]` (a dry run: what provisioning would do, changing
 * nothing) and `scim-bridge reconcile` (queue a pass for every user; the running bridge applies it).
 */
import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { openStores } from "../compose.js";
import { appsAndRules, loadConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import { formatPlanReport } from "../provisioning/plan-report.js";
import { planUser } from "../provisioning/sync-user.js";
import { EXIT_OK, type Out } from "./output.js";

export function provisioningCommand(command: "plan" | "reconcile", args: readonly string[], out: Out, env: NodeJS.ProcessEnv): number {
  const { values } = parseArgs({ args: [...args], options: { user: { type: "string" }, json: { type: "boolean" } }, strict: true });
  const config = loadConfig(env);
  const db = openDatabase(config.database);
  try {
    const { directory, accounts, jobs } = openStores(config, db, systemClock);
    const everyone = () => [...new Set([...directory.userIds(), ...accounts.userIds()])];
    if (command === "reconcile") {
      const ids = everyone();
      db.transaction(() => jobs.enqueueUsers(ids, "cli:reconcile")).immediate();
      out(`Queued a provisioning pass for ${ids.length} user(s); the running bridge's worker applies it.`);
      return EXIT_OK;
    }
    // Planning reads the directory and the identity map only: no connector is called.
    const plans = (values.user !== undefined ? [values.user] : everyone()).map((id) => planUser({ directory, accounts, ...appsAndRules(config) }, id));
    if (values.json) out(JSON.stringify(plans, null, 2));
    else formatPlanReport(plans).forEach((line) => out(line));
    return EXIT_OK;
  } finally {
    db.close();
  }
}
