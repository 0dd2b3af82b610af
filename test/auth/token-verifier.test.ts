/**
 * TokenVerifier against a real SQLite file with a hand-moved clock: why a token is refused, and
 * that last_used_at keeps its once-a-minute write throttle through rotation and expiry.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TokenLifecycle } from "../../src/auth/token-lifecycle.js";
import { staticToken, TokenVerifier } from "../../src/auth/tokens.js";
import { AuditLog } from "../../src/db/audit.js";
import { openDatabase, type Db } from "../../src/db/database.js";
import { TokenStore } from "../../src/db/tokens.js";

const CLI = { actor: "cli", requestId: null };

describe("TokenVerifier", () => {
  let dir: string;
  let db: Db;
  let nowMs: number;
  const clock = { now: () => new Date(nowMs) };
  let tokens: TokenLifecycle;
  let store: TokenStore;
  let verifier: TokenVerifier;
  const lastUsed = (id: number) => store.get(id)!.lastUsedAt;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "scim-bridge-verifier-"));
    db = openDatabase(join(dir, "bridge.db"));
    nowMs = Date.parse("2026-03-02T09:00:00.000Z");
    tokens = new TokenLifecycle(db, new AuditLog(db, clock), clock);
    store = new TokenStore(db, clock);
    verifier = new TokenVerifier(store, [staticToken("env:SCIM_BRIDGE_SCIM_TOKEN", "scim", "from-the-environment-0123456789")], () => nowMs);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("says why a token is refused: unknown, revoked, or expired after its overlap", () => {
    expect(verifier.check("scimbridge_never-issued")).toEqual({ ok: false, reason: "unknown" });
    expect(verifier.check("from-the-environment-0123456789")).toEqual({
      ok: true,
      principal: { name: "env:SCIM_BRIDGE_SCIM_TOKEN", scope: "scim" },
      credential: { tokenId: null, tokenHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const gone = tokens.create("gone", "admin", CLI);
    tokens.revoke(gone.row.id, CLI);
    expect(verifier.check(gone.token)).toEqual({ ok: false, reason: "revoked", tokenName: "gone" });

    const okta = tokens.create("okta", "scim", CLI);
    tokens.rotate(okta.row.id, 600_000, CLI);
    nowMs += 599_999;
    expect(verifier.check(okta.token)).toEqual({ ok: true, principal: { name: "okta", scope: "scim" }, credential: { tokenId: okta.row.id, tokenHash: expect.any(String) } });
    nowMs += 1;
    expect(verifier.check(okta.token)).toEqual({ ok: false, reason: "expired", tokenName: "okta" });
    expect(verifier.verify(okta.token)).toBeUndefined();
  });

  it("writes last_used_at at most once a minute per token, the rotated-out token and its successor apart, and never for a refused one", () => {
    const old = tokens.create("okta", "scim", CLI);
    expect(verifier.verify(old.token)).toBeDefined();
    expect(lastUsed(old.row.id)).toBe("2026-03-02T09:00:00.000Z");
    nowMs += 30_000;
    verifier.verify(old.token);
    expect(lastUsed(old.row.id)).toBe("2026-03-02T09:00:00.000Z"); // throttled

    const successor = tokens.rotate(old.row.id, 120_000, CLI);
    verifier.verify(successor.token);
    // The successor shares the name but not the throttle: its first use is written at once.
    expect(lastUsed(successor.row.id)).toBe("2026-03-02T09:00:30.000Z");
    nowMs += 31_000;
    verifier.verify(old.token); // still inside the overlap, a minute after its last write
    expect(lastUsed(old.row.id)).toBe("2026-03-02T09:01:01.000Z");

    nowMs += 120_000; // the overlap is over
    expect(verifier.verify(old.token)).toBeUndefined();
    expect(lastUsed(old.row.id)).toBe("2026-03-02T09:01:01.000Z");
    verifier.verify(successor.token);
    expect(lastUsed(successor.row.id)).toBe("2026-03-02T09:03:01.000Z");
  });
});
