/**
 * First start: with no token ever issued and none in the environment, create one SCIM and one admin token so a newcomer can
 * connect at once. The secrets are returned to the caller, which prints them once on a terminal;
 * when stdout is not a terminal (a container's log stream, kept by `docker logs`) they go to a
 * file only the bridge's user can read. They never go to the logger.
 */
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { issueToken, staticToken, type StaticToken } from "./auth/tokens.js";
import type { Config } from "./config.js";
import type { TokenStore } from "./db/tokens.js";

export interface FirstStartTokens {
  readonly scim: string;
  readonly admin: string;
}

export function staticTokensOf(config: Config): StaticToken[] {
  const out: StaticToken[] = [];
  if (config.scimToken) out.push(staticToken("env:SCIM_BRIDGE_SCIM_TOKEN", "scim", config.scimToken));
  if (config.adminToken) out.push(staticToken("env:SCIM_BRIDGE_ADMIN_TOKEN", "admin", config.adminToken));
  return out;
}

export function ensureInitialTokens(store: TokenStore, statics: readonly StaticToken[]): FirstStartTokens | undefined {
  if (statics.length > 0 || store.countAll() > 0) return undefined;
  return {
    scim: issueToken(store, "initial-scim", "scim").token,
    admin: issueToken(store, "initial-admin", "admin").token,
  };
}

/** Where the first-start tokens go when stdout is not a terminal: next to the database. */
export function initialTokensFileOf(database: string): string {
  return resolve(join(database === ":memory:" ? "." : dirname(database), "initial-tokens.txt"));
}

/**
 * Writes the first-start tokens to a new file of mode 0600 and returns its path. A file left by
 * an earlier first start is removed first: the mode given on creation is the only one it ever has.
 */
export function writeInitialTokensFile(database: string, tokens: FirstStartTokens): string {
  const file = initialTokensFileOf(database);
  rmSync(file, { force: true });
  const text = [
    "scim-bridge first start: these tokens are stored in the database only as hashes.",
    "Copy them where they belong, then delete this file.",
    "",
    `SCIM token  (paste into the IdP as the bearer token / secret token): ${tokens.scim}`,
    `Admin token (review queue /admin and admin API /admin/api):         ${tokens.admin}`,
    "",
  ].join("\n");
  writeFileSync(file, text, { mode: 0o600, flag: "wx" });
  return file;
}
