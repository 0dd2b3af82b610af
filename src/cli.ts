#!/usr/bin/env node
/**
 * Command line against the configured database. A dispatcher: each command lives in src/cli/.
 *   scim-bridge token create --scope scim|admin|reviewer|metrics --name okta | list | rotate <id|name> | revoke <id|name>
 *   scim-bridge plan [--user <id|userName|email>] [--json]   what provisioning would do, changing nothing
 *   scim-bridge reconcile                     queue a provisioning pass for every user
 *   scim-bridge tasks list|show|done|fail|reopen   the manual-task queue
 *   scim-bridge apps rebind|forget <app> [--dry-run]   links made against another app instance
 *   scim-bridge approvals list|show|approve|reject      destructive changes waiting for an admin
 *   scim-bridge config schema
 *   scim-bridge backup <file> [--force] | restore <file>   online backup; restore while stopped
 */
import { APPROVALS_USAGE, approvalsCommand } from "./cli/approvals.js";
import { APPS_USAGE, appsCommand } from "./cli/apps.js";
import { backupCommand } from "./cli/backup.js";
import { provisioningCommand } from "./cli/provisioning.js";
import { EXIT_OK, EXIT_USAGE, type Out } from "./cli/output.js";
import { restoreCommand } from "./cli/restore.js";
import { TASKS_USAGE, tasksCommand } from "./cli/tasks.js";
import { TOKENS_USAGE, tokenCommand } from "./cli/tokens.js";
import { ConfigError, configJsonSchema } from "./config.js";
import { isMainModule } from "./is-main.js";

const USAGE = `Usage:
${TOKENS_USAGE}
  scim-bridge plan [--user <id|userName|email>] [--json]  (dry run: what provisioning would do, for everyone or one user)
  scim-bridge reconcile                    (queue a provisioning pass for every user; the running bridge applies it)
${TASKS_USAGE}
${APPS_USAGE}
${APPROVALS_USAGE}
  scim-bridge config schema                (prints the JSON Schema of the config file)
  scim-bridge backup <file> [--force]      (consistent copy of the database while the bridge runs)
  scim-bridge restore <file>               (replace the database with a backup; the bridge must be stopped)`;

export function runCli(argv: readonly string[], out: Out, env = process.env): number {
  const [group, command, ...rest] = argv;
  let code: number | undefined;
  switch (group) {
    case "config":
      if (command === "schema") {
        out(JSON.stringify(configJsonSchema(), null, 2));
        code = EXIT_OK;
      }
      break;
    case "plan":
    case "reconcile":
      code = provisioningCommand(group, argv.slice(1), out, env);
      break;
    case "token":
      code = tokenCommand(command, rest, out, env);
      break;
    case "tasks":
      code = tasksCommand(command, rest, out, env);
      break;
    case "approvals":
      code = approvalsCommand(command, rest, out, env);
      break;
    case "restore":
      code = restoreCommand(argv.slice(1), out, env);
      break;
  }
  return code ?? usage(out);
}

/** `--help`, `-h` or `help` anywhere before a `--`: the usage, and success. */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h") || argv[0] === "help";
}

function usage(out: Out): number {
  out(USAGE);
  return EXIT_USAGE;
}

/**
 * The program's dispatcher. Two commands are asynchronous: `backup` (better-sqlite3 runs the
 * online backup between event-loop turns) and `apps` (rebind reads the app back over its API).
 * Every other command goes through runCli.
 */
export async function runCliAsync(argv: readonly string[], out: Out, env = process.env): Promise<number> {
  if (asksForHelp(argv)) {
    out(USAGE);
    return EXIT_OK;
  }
  if (argv[0] === "backup") return backupCommand(argv.slice(1), out, env);
  if (argv[0] === "apps") return (await appsCommand(argv[1], argv.slice(2), out, env)) ?? usage(out);
  return runCli(argv, out, env);
}

if (isMainModule(import.meta.url)) {
  try {
    process.exitCode = await runCliAsync(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
  } catch (e: unknown) {
    process.stderr.write(`${e instanceof ConfigError || e instanceof TypeError ? e.message : String(e)}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
