#!/usr/bin/env node
/**
 * Command line against the configured database. A dispatcher: each command lives in src/cli/.
 *   scim-bridge token create --scope scim|admin|reviewer --name okta | list | revoke <id|name>
 *   scim-bridge plan [--user <id>] [--json]   what provisioning would do, changing nothing
 *   scim-bridge reconcile                     queue a provisioning pass for every user
 *   scim-bridge tasks list|show|done|fail|reopen   the manual-task queue
 *   scim-bridge config schema
 */
import { provisioningCommand } from "./cli/provisioning.js";
import { EXIT_OK, EXIT_USAGE, type Out } from "./cli/output.js";
import { TASKS_USAGE, tasksCommand } from "./cli/tasks.js";
import { tokenCommand } from "./cli/tokens.js";
import { ConfigError, configJsonSchema } from "./config.js";
import { isMainModule } from "./is-main.js";

const USAGE = `Usage:
  scim-bridge token create --scope <scim|admin|reviewer> --name <name>
  scim-bridge token list
  scim-bridge token revoke <id|name>
  scim-bridge plan [--user <id>] [--json]  (dry run: what provisioning would do, for everyone or one user)
  scim-bridge reconcile                    (queue a provisioning pass for every user; the running bridge applies it)
${TASKS_USAGE}
  scim-bridge config schema                (prints the JSON Schema of the config file)`;

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
  }
  if (code !== undefined) return code;
  out(USAGE);
  return EXIT_USAGE;
}

if (isMainModule(import.meta.url)) {
  try {
    process.exitCode = runCli(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
  } catch (e: unknown) {
    process.stderr.write(`${e instanceof ConfigError || e instanceof TypeError ? e.message : String(e)}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
