/**
 * `scim-bridge approvals list|show|approve|reject`: destructive changes waiting for an admin, from a
 * terminal, through the same decision as the admin API and the web page (actor "cli"). Approving
 * queues the users; the running bridge's worker carries out what is still wanted.
 */
import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { openStores } from "../compose.js";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import { decide, describeChangeSet } from "../provisioning/approvals.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type Out } from "./output.js";

export const APPROVALS_USAGE = `  scim-bridge approvals list [--all]                   (destructive changes waiting for an admin)
  scim-bridge approvals show <id>                     (who would lose or change access, and why)
  scim-bridge approvals approve|reject <id> [--note <text>]`;

const ACTOR = "cli";

export function approvalsCommand(command: string | undefined, args: readonly string[], out: Out, env: NodeJS.ProcessEnv): number | undefined {
  if (command !== "list" && command !== "show" && command !== "approve" && command !== "reject") return undefined;
  const { values, positionals } = parseArgs({ args: [...args], options: { all: { type: "boolean" }, note: { type: "string" } }, allowPositionals: true, strict: true });
  const id = positionals[0] === undefined ? undefined : Number(positionals[0]);
  if (command !== "list" && (id === undefined || !Number.isSafeInteger(id) || id < 1 || positionals.length !== 1)) {
    out(`Usage:\n${APPROVALS_USAGE}`);
    return EXIT_USAGE;
  }
  const config = loadConfig(env);
  const db = openDatabase(config.database);
  try {
    const stores = openStores(config, db, systemClock);
    const { approvals, directory } = stores;
    if (command === "list") {
      const sets = approvals.list(values.all ? {} : { state: "pending" });
      if (sets.length === 0) out(values.all ? "No change sets." : "Nothing waits for approval.");
      for (const set of sets) out(`${describeChangeSet(set)} — opened ${set.createdAt}${set.decidedBy ? `, decided by ${set.decidedBy}` : ""}`);
      return EXIT_OK;
    }
    const set = approvals.get(id!);
    if (!set) {
      out(`No change set ${id}.`);
      return EXIT_REFUSED;
    }
    if (command === "approve" || command === "reject") {
      const note = values.note?.trim() || null;
      const result = decide(stores, set.id, command, ACTOR, note, `cli:approvals-${command}`);
      if (result === "decided" || result === "not-found") {
        out(`Change set ${set.id} is ${set.state}: only a pending change set can be decided.`);
        return EXIT_REFUSED;
      }
      out(command === "approve" ? `Approved change set ${set.id}: the running bridge carries out what is still wanted.` : `Rejected change set ${set.id}: everyone keeps their access.`);
      return EXIT_OK;
    }
    out(describeChangeSet(set));
    out(`  summary: ${JSON.stringify(set.summary)}`);
    for (const h of approvals.holdsOf(set.id)) {
      const who = directory.snapshot(h.userId).user?.userName ?? "(deleted user)";
      out(`  ${who} [${h.userId}] ${h.app}: ${String(h.detail["summary"] ?? h.action)} — ${h.state}`);
    }
    return EXIT_OK;
  } finally {
    db.close();
  }
}
