/**
 * Review-page sessions: stored as a hash, valid for 12 hours, gone on sign-out.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.js";
import { openDatabase, type Db } from "../../src/db/database.js";
import { SESSION_TTL_MS, SessionStore } from "../../src/db/sessions.js";

/** The stored token 7, as TokenVerifier.currentHash gives it while the token works. */
const CREDENTIAL = { tokenId: 7, tokenHash: "ab".repeat(32) };
const current = () => CREDENTIAL.tokenHash;

describe("session store", () => {
  let db: Db;
  let nowMs: number;
  const clock: Clock = { now: () => new Date(nowMs) };
  let store: SessionStore;

  beforeEach(() => {
    db = openDatabase(":memory:");
    nowMs = Date.parse("2026-05-06T08:00:00.000Z");
    store = new SessionStore(db, clock);
  });
  afterEach(() => db.close());

  it("finds a session by the id in the cookie, with its token name, scope and CSRF token", () => {
    const { id, session } = store.create("rita", "reviewer", CREDENTIAL);
    expect(store.find(id, current)).toEqual(session);
    expect(session).toMatchObject({ tokenName: "rita", scope: "reviewer", expiresAt: "2026-05-06T20:00:00.000Z" });
    expect(Buffer.from(id, "base64url")).toHaveLength(32);
    expect(session.csrfToken).not.toBe(id);
  });

  it("stores only a hash of the session id", () => {
    const { id } = store.create("ops", "admin", CREDENTIAL);
    const rows = db.prepare("SELECT * FROM sessions").all() as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(id);
    expect(rows[0]!["id_hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(store.find(rows[0]!["id_hash"] as string, current)).toBeUndefined();
  });

  it("expires a session 12 hours after sign-in", () => {
    const { id } = store.create("ops", "admin", CREDENTIAL);
    nowMs += SESSION_TTL_MS - 1;
    expect(store.find(id, current)).toBeDefined();
    nowMs += 1;
    expect(store.find(id, current)).toBeUndefined();
  });

  it("deletes expired sessions when someone signs in", () => {
    store.create("old", "admin", CREDENTIAL);
    nowMs += SESSION_TTL_MS + 1;
    const { id } = store.create("new", "reviewer", CREDENTIAL);
    expect(db.prepare("SELECT token_name FROM sessions").pluck().all()).toEqual(["new"]);
    expect(store.find(id, current)?.tokenName).toBe("new");
  });

  it("forgets a session on sign-out, and only that one", () => {
    const a = store.create("ops", "admin", CREDENTIAL);
    const b = store.create("ops", "admin", CREDENTIAL);
    store.delete(a.id);
    expect(store.find(a.id, current)).toBeUndefined();
    expect(store.find(b.id, current)).toBeDefined();
  });

  it("does not find an unknown id", () => {
    store.create("ops", "admin", CREDENTIAL);
    expect(store.find("not-a-session", current)).toBeUndefined();
    expect(store.find("", current)).toBeUndefined();
  });

  it("ends a session whose credential no longer matches: revoked (no hash) or changed (another hash)", () => {
    const kept = store.create("rita", "reviewer", CREDENTIAL).id;
    const gone = store.create("ops", "admin", CREDENTIAL).id;
    expect(store.find(gone, () => undefined)).toBeUndefined();
    expect(store.find(gone, current)).toBeUndefined(); // deleted, not just refused once
    const changed = store.create("env:SCIM_BRIDGE_ADMIN_TOKEN", "admin", { tokenId: null, tokenHash: "cd".repeat(32) }).id;
    expect(store.find(changed, () => "cd".repeat(32))).toMatchObject({ tokenId: null });
    expect(store.find(changed, () => "ef".repeat(32))).toBeUndefined();
    expect(store.find(kept, current)).toBeDefined();
    // The stored binding is an HMAC keyed by the cookie id: the token's hash is not in the row.
    const rows = db.prepare("SELECT * FROM sessions").all() as { credential: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.credential).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain("ab".repeat(32));
  });

  it("refuses a SCIM scope at the database level", () => {
    expect(() => store.create("okta", "scim" as never, CREDENTIAL)).toThrow(/CHECK constraint/);
  });
});
