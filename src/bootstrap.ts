/**
 * First start: with no token ever issued and none in the environment, create one SCIM and one admin token so a newcomer can
 * connect at once. The secrets are returned to the caller, which prints them to stdout once;
 * they never go to the logger.
 */
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
