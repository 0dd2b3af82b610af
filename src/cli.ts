#!/usr/bin/env node
/**
 * Command line against the configured database:
 *   scim-bridge token create --scope scim|admin|reviewer --name okta | list | revoke <id|name>
 *   scim-bridge plan [--user <id>] [--json]   what provisioning would do, changing nothing
 *   scim-bridge reconcile                     queue a provisioning pass for every user
 *   scim-bridge config schema
 * Arguments are parsed once here; the stores and the planner do the work.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { issueToken } from "./auth/tokens.js";
import { systemClock } from "./clock.js";
import { appsAndRules, ConfigError, configJsonSchema, loadConfig } from "./config.js";
import { AuditLog } from "./db/audit.js";
import { openDatabase } from "./db/database.js";
import { DirectorySnapshots } from "./db/directory-snapshots.js";
import { IdentityMap } from "./db/identity-map.js";
import { JobQueue } from "./db/jobs.js";
import { SCOPES, TokenStore } from "./db/tokens.js";
import { createLogger } from "./log.js";
import { formatPlanReport } from "./provisioning/plan-report.js";
import { planUser } from "./provisioning/sync-user.js";
import { isMainModule } from "./is-main.js";

const USAGE = `Usage:
  scim-bridge token create --scope <scim|admin|reviewer> --name <name>
  scim-bridge token list
  scim-bridge token revoke <id|name>
  scim-bridge plan [--user <id>] [--json]  (dry run: what provisioning would do, for everyone or one user)
  scim-bridge reconcile                    (queue a provisioning pass for every user; the running bridge applies it)
  scim-bridge config schema                (prints the JSON Schema of the config file)`;

const createArgs = z.object({
  scope: z.enum(SCOPES as [string, ...string[]], { message: `--scope must be one of ${SCOPES.join(", ")}` }),
  name: z.string().trim().min(1, "--name is required").max(100),
});

export function runCli(argv: readonly string[], out: (line: string) => void, env = process.env): number {
  const [group, command, ...rest] = argv;
  if (group === "config" && command === "schema") {
    out(JSON.stringify(configJsonSchema(), null, 2));
    return 0;
  }
  if (group === "plan" || group === "reconcile") return provisioningCommand(group, argv.slice(1), out, env);
  if (group !== "token" || command === undefined) {
    out(USAGE);
    return 2;
  }
  const config = loadConfig(env);
  const db = openDatabase(config.database);
  try {
    const store = new TokenStore(db, systemClock);
    const audit = new AuditLog(db, systemClock);
    switch (command) {
      case "create": {
        const { values } = parseArgs({ args: rest, options: { scope: { type: "string" }, name: { type: "string" } }, strict: true });
        const parsed = createArgs.safeParse(values);
        if (!parsed.success) {
          out(parsed.error.issues.map((i) => i.message).join("\n"));
          return 2;
        }
        const { token, row } = db.transaction(() => {
          const issued = issueToken(store, parsed.data.name, parsed.data.scope as (typeof SCOPES)[number]);
          audit.append({ actor: "cli", requestId: null, action: "token.create", resourceType: "Token", resourceId: String(issued.row.id), after: { name: issued.row.name, scope: issued.row.scope } });
          return issued;
        })();
        out(`Created ${row.scope} token "${row.name}" (id ${row.id}). It is shown once; store it now:`);
        out(token);
        return 0;
      }
      case "list": {
        for (const t of store.list()) {
          out(`${t.id}\t${t.scope}\t${t.name}\tcreated ${t.createdAt}\tlast used ${t.lastUsedAt ?? "never"}${t.revokedAt ? `\tREVOKED ${t.revokedAt}` : ""}`);
        }
        return 0;
      }
      case "revoke": {
        const target = rest[0];
        if (!target) {
          out(USAGE);
          return 2;
        }
        const n = db.transaction(() => {
          const count = store.revoke(target);
          if (count > 0) audit.append({ actor: "cli", requestId: null, action: "token.revoke", resourceType: "Token", resourceId: target });
          return count;
        })();
        out(n > 0 ? `Revoked ${n} token(s) matching "${target}".` : `No active token matches "${target}".`);
        return n > 0 ? 0 : 1;
      }
      default:
        out(USAGE);
        return 2;
    }
  } finally {
    db.close();
  }
}

function provisioningCommand(command: "plan" | "reconcile", args: readonly string[], out: (line: string) => void, env: NodeJS.ProcessEnv): number {
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
      return 0;
    }
    // Planning reads the directory and the identity map only: no connector is called.
    const deps = { db, directory, accounts, audit: new AuditLog(db, systemClock), connectors: new Map(), apps, rules, log: createLogger("error") };
    const ids = values.user !== undefined ? [values.user] : [...new Set([...directory.userIds(), ...accounts.userIds()])];
    const plans = ids.map((id) => planUser(deps, id));
    if (values.json) out(JSON.stringify(plans, null, 2));
    else formatPlanReport(plans).forEach((line) => out(line));
    return 0;
  } finally {
    db.close();
  }
}

if (isMainModule(import.meta.url)) {
  try {
    process.exitCode = runCli(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
  } catch (e: unknown) {
    process.stderr.write(`${e instanceof ConfigError || e instanceof TypeError ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
