/**
 * `scim-bridge plan [--user <id>] [--json]` (a dry run: what provisioning would do, changing
 * nothing) and `scim-bridge reconcile` (queue a pass for every user; the running bridge applies it).
 */
import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { appsAndRules, loadConfig } from "../config.js";
import { AuditLog } from "../db/audit.js";
import { openDatabase } from "../db/database.js";
import { DirectorySnapshots } from "../db/directory-snapshots.js";
import { IdentityMap } from "../db/identity-map.js";
import { JobQueue } from "../db/jobs.js";
import { createLogger } from "../log.js";
import { formatPlanReport } from "../provisioning/plan-report.js";
import { planUser } from "../provisioning/sync-user.js";
import { EXIT_OK, type Out } from "./output.js";

export function provisioningCommand(command: "plan" | "reconcile", args: readonly string[], out: Out, env: NodeJS.ProcessEnv): number {
  const { values } = parseArgs({ args: [...args], options: { user: { type: "string" }, json: { type: "boolean" } }, strict: true });
  const config = loadConfig(env);
  const db = openDatabase(config.database);
  try {
    const { apps, rules } = appsAndRules(config);
    const directory = new DirectorySnapshots(db);
    const accounts = new IdentityMap(db, systemClock);
    if (command === "reconcile") {
      const ids = [...new Set([...directory.userIds(), ...accounts.userIds()])];
      const jobs = new JobQueue(db, systemClock, { maxAttempts: config.provisioning.maxAttempts, backoffBaseMs: 1000, maxDelayMs: 1000 });
      db.transaction(() => jobs.enqueueUsers(ids, "cli:reconcile")).immediate();
      out(`Queued a provisioning pass for ${ids.length} user(s); the running bridge's worker applies it.`);
      return EXIT_OK;
    }
    // Planning reads the directory and the identity map only: no connector is called.
    const deps = { db, directory, accounts, audit: new AuditLog(db, systemClock), connectors: new Map(), apps, rules, log: createLogger("error") };
    const ids = values.user !== undefined ? [values.user] : [...new Set([...directory.userIds(), ...accounts.userIds()])];
    const plans = ids.map((id) => planUser(deps, id));
    if (values.json) out(JSON.stringify(plans, null, 2));
    else formatPlanReport(plans).forEach((line) => out(line));
    return EXIT_OK;
  } finally {
    db.close();
  }
}
