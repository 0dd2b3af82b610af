/**
 * `scim-bridge token create|list|rotate|revoke`: bearer tokens, each change audited with actor "cli"
 * (token-lifecycle.ts, the same path as the admin API). A name picks out one token or is refused
 * with the ids it matches.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_OVERLAP_MS, MAX_OVERLAP_MS, TokenLifecycle, tokenName, type Caller } from "../auth/token-lifecycle.js";
import { systemClock } from "../clock.js";
import { loadConfig } from "../config.js";
import { openStores } from "../compose.js";
import { openDatabase } from "../db/database.js";
import { SCOPES, tokenState, type Scope, type TokenRow } from "../db/tokens.js";
import { isBridgeError } from "../errors.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type Out } from "./output.js";

export const TOKENS_USAGE = `  scim-bridge token create --scope <${SCOPES.join("|")}> --name <name>
  scim-bridge token list                   (id, scope, name, created, last used, expiry or revocation, successor)
  scim-bridge token rotate <id|name> [--overlap 24h]
                                           (new secret, same name and scope; the old one works for the overlap: 30m, 24h, 7d; 0 revokes it now)
  scim-bridge token revoke <id|name>       (at once; ends the web sessions signed in with it; a name a rotated-out
                                            token shares with its successor is refused: give the id)`;

const createArgs = z.object({
  scope: z.enum(SCOPES as [Scope, ...Scope[]], { message: `--scope must be one of ${SCOPES.join(", ")}` }),
  name: z.string({ message: "is required" }).pipe(tokenName),
});

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `0`, or a whole number with a unit: `90s`, `30m`, `24h`, `7d`. */
const overlap = z
  .string()
  .regex(/^(0|\d+[smhd])$/, "--overlap takes 0 or a duration such as 30m, 24h or 7d")
  .transform((v) => (v === "0" ? 0 : Number(v.slice(0, -1)) * UNIT_MS[v.at(-1) as keyof typeof UNIT_MS]))
  .pipe(z.number().max(MAX_OVERLAP_MS, "--overlap must be at most 30d"));

const CLI: Caller = { actor: "cli", requestId: null };

/** The columns of `token list`; the last two appear only on a token that has them. */
const LIST_HEADER = "ID\tSCOPE\tNAME\tCREATED\tLAST USED\tEXPIRY OR REVOCATION\tREPLACED BY";

function listLine(t: TokenRow, now: Date): string {
  const state = tokenState(t, now);
  const end = t.revokedAt ? `\tREVOKED ${t.revokedAt}` : state === "expiring" ? `\texpires ${t.expiresAt}` : state === "expired" ? `\tEXPIRED ${t.expiresAt}` : "";
  const successor = t.replacedBy === null ? "" : `\treplaced by ${t.replacedBy}`;
  return `${t.id}\t${t.scope}\t${t.name}\tcreated ${t.createdAt}\tlast used ${t.lastUsedAt ?? "never"}${end}${successor}`;
}

/** Runs a change that may be refused (unknown, ambiguous or revoked token): the refusal is printed, exit 1. */
function refusable(out: Out, change: () => number): number {
  try {
    return change();
  } catch (e: unknown) {
    if (!isBridgeError(e)) throw e;
    out(e.message);
    return EXIT_REFUSED;
  }
}

/** Returns undefined for a command it does not know (the dispatcher prints the usage). */
export function tokenCommand(command: string | undefined, rest: readonly string[], out: Out, env: NodeJS.ProcessEnv): number | undefined {
  if (command !== "create" && command !== "list" && command !== "rotate" && command !== "revoke") return undefined;
  const config = loadConfig(env);
  const db = openDatabase(config.database);
  try {
    const tokens = new TokenLifecycle(db, openStores(config, db, systemClock).audit, systemClock);
    switch (command) {
      case "create": {
        const { values } = parseArgs({ args: [...rest], options: { scope: { type: "string" }, name: { type: "string" } }, strict: true });
        const parsed = createArgs.safeParse(values);
        if (!parsed.success) {
          out(parsed.error.issues.map((i) => (i.path[0] === "name" ? `--name ${i.message}` : i.message)).join("\n"));
          return EXIT_USAGE;
        }
        const { name, scope } = parsed.data;
        return refusable(out, () => {
          const { token, row } = tokens.create(name, scope, CLI);
          out(`Created ${row.scope} token "${row.name}" (id ${row.id}). It is shown once; store it now:`);
          out(token);
          return EXIT_OK;
        });
      }
      case "list": {
        const now = systemClock.now();
        const list = tokens.list();
        if (list.length === 0) {
          out("No tokens yet. Create one with: scim-bridge token create --scope scim --name okta");
          return EXIT_OK;
        }
        out(LIST_HEADER);
        for (const t of list) out(listLine(t, now));
        return EXIT_OK;
      }
      case "rotate":
        return rotate(tokens, rest, out);
      case "revoke": {
        const target = rest[0];
        if (!target) return undefined;
        return refusable(out, () => {
          const { token, sessionsEnded } = tokens.revoke(tokens.resolve(target, "revoke").id, CLI);
          out(`Revoked token ${token.id} ("${token.name}")${sessionsEnded > 0 ? `; ended ${sessionsEnded} web session(s) signed in with it` : ""}.`);
          return EXIT_OK;
        });
      }
    }
  } finally {
    db.close();
  }
}

function rotate(tokens: TokenLifecycle, rest: readonly string[], out: Out): number | undefined {
  const { values, positionals } = parseArgs({ args: [...rest], options: { overlap: { type: "string" } }, allowPositionals: true, strict: true });
  const target = positionals[0];
  if (!target || positionals.length > 1) return undefined;
  const parsedOverlap = values.overlap === undefined ? { success: true as const, data: DEFAULT_OVERLAP_MS } : overlap.safeParse(values.overlap);
  if (!parsedOverlap.success) {
    out(parsedOverlap.error.issues.map((i) => i.message).join("\n"));
    return EXIT_USAGE;
  }
  const overlapMs = parsedOverlap.data;
  return refusable(out, () => {
    // resolve() refuses the environment's tokens with the way to change them.
    const { token, row, previous, sessionsEnded } = tokens.rotate(tokens.resolve(target, "rotate").id, overlapMs, CLI);
    out(`Created ${row.scope} token "${row.name}" (id ${row.id}) to replace token ${previous.id}. It is shown once; store it now:`);
    out(token);
    out(
      previous.revokedAt
        ? `Token ${previous.id} is revoked${sessionsEnded > 0 ? `; ended ${sessionsEnded} web session(s) signed in with it` : ""}.`
        : `Token ${previous.id} keeps working until ${previous.expiresAt}; give the new token to its user before then.`,
    );
    return EXIT_OK;
  });
}
