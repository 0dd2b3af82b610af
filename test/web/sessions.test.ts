/**
 * Review-page sessions: stored as a hash, valid for 12 hours, gone on sign-out.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.js";
import { openDatabase, type Db } from "../../src/db/database.js";
import { SESSION_TTL_MS, SessionStore } from "../../src/db/sessions.js";

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
    const { id, session } = store.create("rita", "reviewer");
    expect(store.find(id)).toEqual(session);
    expect(session).toMatchObject({ tokenName: "rita", scope: "reviewer", expiresAt: "2026-05-06T20:00:00.000Z" });
    expect(Buffer.from(id, "base64url")).toHaveLength(32);
    expect(session.csrfToken).not.toBe(id);
  });

  it("stores only a hash of the session id", () => {
    const { id } = store.create("ops", "admin");
    const rows = db.prepare("SELECT * FROM sessions").all() as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(id);
    expect(rows[0]!["id_hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(store.find(rows[0]!["id_hash"] as string)).toBeUndefined();
  });

  it("expires a session 12 hours after sign-in", () => {
    const { id } = store.create("ops", "admin");
    nowMs += SESSION_TTL_MS - 1;
    expect(store.find(id)).toBeDefined();
    nowMs += 1;
    expect(store.find(id)).toBeUndefined();
  });

  it("deletes expired sessions when someone signs in", () => {
    store.create("old", "admin");
    nowMs += SESSION_TTL_MS + 1;
    const { id } = store.create("new", "reviewer");
    expect(db.prepare("SELECT token_name FROM sessions").pluck().all()).toEqual(["new"]);
    expect(store.find(id)?.tokenName).toBe("new");
  });

  it("forgets a session on sign-out, and only that one", () => {
    const a = store.create("ops", "admin");
    const b = store.create("ops", "admin");
    store.delete(a.id);
    expect(store.find(a.id)).toBeUndefined();
    expect(store.find(b.id)).toBeDefined();
  });

  it("does not find an unknown id", () => {
    store.create("ops", "admin");
    expect(store.find("not-a-session")).toBeUndefined();
    expect(store.find("")).toBeUndefined();
  });

  it("refuses a SCIM scope at the database level", () => {
    expect(() => store.create("okta", "scim" as never)).toThrow(/CHECK constraint/);
  });
});
