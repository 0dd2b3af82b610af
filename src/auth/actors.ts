/**
 * Who did something, as the audit log, task assignees and task completions record it. Three kinds,
 * told apart by the text alone so no token can pass for the bridge:
 *
 * - the bridge itself: a bare word (`worker`, `reconciler`, `system`, `cli`), never with a colon;
 * - a stored token: `token:<name>` (`token:okta`, even for a token named `worker`);
 * - a token from the environment: its name, `env:<VARIABLE>` (`env:SCIM_BRIDGE_ADMIN_TOKEN`).
 *
 * The bridge's own actor words are also refused as token names (RESERVED_TOKEN_NAMES), so a
 * token name read on its own, in a log line or on the review page, is never one of them either.
 */

/** Names of tokens from the environment (bootstrap.ts) start with this; no stored token may. */
export const ENV_TOKEN_PREFIX = "env:";
/** Actors that are stored tokens start with this. */
export const TOKEN_ACTOR_PREFIX = "token:";

/**
 * Words the bridge records as its own actor, or could: a test checks that every actor string
 * literal under src/ is in this list. Compared case-insensitively with token names.
 */
export const RESERVED_TOKEN_NAMES: readonly string[] = ["worker", "cli", "system", "reconciler", "startup", "scheduler", "bridge", "scim-bridge", "migration", "unknown"];

export function isReservedTokenName(name: string): boolean {
  return RESERVED_TOKEN_NAMES.includes(name.trim().toLowerCase());
}

/** The actor recorded for what a token (stored or from the environment) does. */
export function tokenActor(tokenName: string): string {
  return tokenName.startsWith(ENV_TOKEN_PREFIX) ? tokenName : `${TOKEN_ACTOR_PREFIX}${tokenName}`;
}
