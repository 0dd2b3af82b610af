/**
 * No token can pass for the bridge in the audit log: every actor the bridge writes for itself is a
 * bare word that token names may not take, and a stored token is always recorded as token:<name>.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isReservedTokenName, RESERVED_TOKEN_NAMES, tokenActor } from "../../src/auth/actors.js";
import { tokenName } from "../../src/auth/token-lifecycle.js";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

describe("actors", () => {
  it("reserves as token names every actor word the bridge writes for itself", () => {
    const words = new Set<string>();
    for (const file of sources("src")) {
      for (const m of readFileSync(file, "utf8").matchAll(/\b(?:actor|ACTOR)\s*[:=]\s*"([^"]+)"/g)) words.add(m[1]!);
    }
    expect([...words].sort()).toEqual(expect.arrayContaining(["cli", "reconciler", "system", "worker"]));
    for (const word of words) {
      expect(word, `"${word}" has a colon: bridge actors are bare words`).not.toContain(":");
      expect(RESERVED_TOKEN_NAMES, `add "${word}" to RESERVED_TOKEN_NAMES in src/auth/actors.ts`).toContain(word);
    }
  });

  it("refuses reserved names in any case and spacing, and records a token named like the bridge apart from it", () => {
    for (const name of ["worker", "Worker", " CLI ", "system"]) {
      expect(isReservedTokenName(name)).toBe(true);
      expect(tokenName.safeParse(name).success).toBe(false);
    }
    expect(tokenName.safeParse("okta").success).toBe(true);
    expect(tokenActor("worker")).toBe("token:worker");
    expect(tokenActor("env:SCIM_BRIDGE_ADMIN_TOKEN")).toBe("env:SCIM_BRIDGE_ADMIN_TOKEN");
  });
});
