/**
 * `scim-bridge token create|list|revoke`: bearer tokens, each change audited with actor "cli".
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { issueToken } from "../auth/tokens.js";
import { systemClock } from "../clock.js";
import { loadConfig } from "../config.js";
import { AuditLog } from "../db/audit.js";
import { openDatabase } from "../db/database.js";
import { SessionStore } from "../db/sessions.js";
import { SCOPES, TokenStore, type Scope } from "../db/tokens.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type Out } from "./output.js";

const createArgs = z.object({
  scope: z.enum(SCOPES as [Scope, ...Scope[]], { message: `--scope must be one of ${SCOPES.join(", ")}` }),
  name: z.string().trim().min(1, "--name is required").max(100),
});

/** Returns undefined for a command it does not know (the dispatcher prints the usage). */
export function tokenCommand(command: string | undefined, rest: readonly string[], out: Out, env: NodeJS.ProcessEnv): number | undefined {
  if (command !== "create" && command !== "list" && command !== "revoke") return undefined;
  const config = loadConfig(env);
  const db = openDatabase(config.database);
  try {
    const store = new TokenStore(db, systemClock);
    const audit = new AuditLog(db, systemClock);
    switch (command) {
      case "create": {
        const { values } = parseArgs({ args: [...rest], options: { scope: { type: "string" }, name: { type: "string" } }, strict: true });
        const parsed = createArgs.safeParse(values);
        if (!parsed.success) {
          out(parsed.error.issues.map((i) => i.message).join("\n"));
          return EXIT_USAGE;
        }
        const { token, row } = db.transaction(() => {
          const issued = issueToken(store, parsed.data.name, parsed.data.scope);
          audit.append({ actor: "cli", requestId: null, action: "token.create", resourceType: "Token", resourceId: String(issued.row.id), after: { name: issued.row.name, scope: issued.row.scope } });
          return issued;
        })();
        out(`Created ${row.scope} token "${row.name}" (id ${row.id}). It is shown once; store it now:`);
        out(token);
        return EXIT_OK;
      }
      case "list": {
        for (const t of store.list()) {
          out(`${t.id}\t${t.scope}\t${t.name}\tcreated ${t.createdAt}\tlast used ${t.lastUsedAt ?? "never"}${t.revokedAt ? `\tREVOKED ${t.revokedAt}` : ""}`);
        }
        return EXIT_OK;
      }
      case "revoke": {
        const target = rest[0];
        if (!target) return undefined;
        const { revoked, sessionsEnded } = db.transaction(() => {
          const names = store.revoke(target);
          // The web sessions opened with the token end with it.
          const ended = new SessionStore(db, systemClock).endForTokens(names);
          if (names.length > 0) {
            audit.append({ actor: "cli", requestId: null, action: "token.revoke", resourceType: "Token", resourceId: target, after: { revoked: names.length, sessionsEnded: ended } });
          }
          return { revoked: names.length, sessionsEnded: ended };
        })();
        if (revoked === 0) {
          out(`No active token matches "${target}".`);
          return EXIT_REFUSED;
        }
        out(`Revoked ${revoked} token(s) matching "${target}"${sessionsEnded > 0 ? `; ended ${sessionsEnded} web session(s) signed in with it` : ""}.`);
        return EXIT_OK;
      }
    }
  } finally {
    db.close();
  }
}
