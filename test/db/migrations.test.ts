import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { migrations } from "../../src/db/migrations.js";

describe("migrations", () => {
  it("v7 keeps every token of an older database and then accepts the metrics scope and an expiry", () => {
    const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-migrations-")), "old.db");
    const v6 = openDatabase(
      file,
      migrations.filter((m) => m.version <= 6),
    );
    v6.prepare("INSERT INTO tokens (name, scope, hash, created_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)").run(
      "okta",
      "scim",
      "a".repeat(64),
      "2026-01-01T00:00:00.000Z",
      "2026-01-02T00:00:00.000Z",
      null,
    );
    expect(() => v6.prepare("INSERT INTO tokens (name, scope, hash, created_at) VALUES ('p', 'metrics', 'b', 'x')").run()).toThrow(/CHECK/);
    v6.close();

    const db = openDatabase(file);
    expect(db.pragma("user_version", { simple: true })).toBe(migrations.at(-1)!.version);
    expect(db.prepare("SELECT id, name, scope, hash, created_at, last_used_at, revoked_at, expires_at FROM tokens").all()).toEqual([
      { id: 1, name: "okta", scope: "scim", hash: "a".repeat(64), created_at: "2026-01-01T00:00:00.000Z", last_used_at: "2026-01-02T00:00:00.000Z", revoked_at: null, expires_at: null },
    ]);
    db.prepare("INSERT INTO tokens (name, scope, hash, created_at, expires_at) VALUES ('prometheus', 'metrics', 'c', 'x', 'y')").run();
    expect(() => db.prepare("INSERT INTO tokens (name, scope, hash, created_at) VALUES ('q', 'root', 'd', 'x')").run()).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO tokens (name, scope, hash, created_at) VALUES ('r', 'scim', ?, 'x')").run("a".repeat(64))).toThrow(/UNIQUE/);
    db.close();
  });
});

describe("migration 8: one owner per app account", () => {
  it("keeps the account with the user created first, marks the others as conflicts, releases a deleted user's link, and then enforces one owner", () => {
    const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-migrations-")), "v7.db");
    const v7 = openDatabase(
      file,
      migrations.filter((m) => m.version <= 7),
    );
    const addUser = v7.prepare("INSERT INTO users (pk, id, user_name, user_name_key, data, created_at, updated_at) VALUES (?, ?, ?, ?, '{}', 'x', 'x')");
    const link = v7.prepare("INSERT INTO app_accounts (user_id, app, external_id, role, state, profile, updated_at) VALUES (?, 'halopsa', ?, 'agent', ?, ?, 'x')");
    const profile = (email: string) => JSON.stringify({ userName: email, email, givenName: "", familyName: "", displayName: "" });
    // The old store's takeover: "first" and "second" (created later) both link agent 7; "third"
    // holds another agent under first's email in another case; "gone" was deleted but kept its row;
    // "removed" gave its account up long ago.
    for (const [pk, id] of [[1, "first"], [2, "second"], [3, "third"], [4, "removed"]] as const) addUser.run(pk, id, id, id);
    link.run("second", "7", "active", profile("second@example.com"));
    link.run("first", "7", "active", profile("ada@example.com"));
    link.run("third", "8", "active", profile("ADA@Example.com"));
    link.run("gone", "7", "disabled", profile("gone@example.com"));
    link.run("removed", "7", "removed", profile("removed@example.com"));
    v7.close();

    const db = openDatabase(file);
    const rows = db.prepare("SELECT user_id, external_id, external_key, email_key, state, conflict_with, released_at IS NOT NULL AS released, instance FROM app_accounts ORDER BY user_id").all();
    expect(rows).toEqual([
      { user_id: "first", external_id: "7", external_key: "7", email_key: "ada@example.com", state: "active", conflict_with: null, released: 0, instance: "" },
      { user_id: "gone", external_id: "7", external_key: "7", email_key: "gone@example.com", state: "disabled", conflict_with: null, released: 1, instance: "" },
      { user_id: "removed", external_id: "7", external_key: null, email_key: null, state: "removed", conflict_with: null, released: 0, instance: "" },
      { user_id: "second", external_id: "7", external_key: null, email_key: null, state: "error", conflict_with: "first", released: 0, instance: "" },
      { user_id: "third", external_id: "8", external_key: null, email_key: null, state: "error", conflict_with: "first", released: 0, instance: "" },
    ]);
    expect(db.prepare("SELECT last_error FROM app_accounts WHERE user_id = 'second'").pluck().get()).toMatch(/conflict found on upgrade/);

    // From now on the store itself refuses a second live owner, by matching key of id or email.
    const insert = db.prepare(
      "INSERT INTO app_accounts (user_id, app, instance, external_id, external_key, email_key, state, updated_at) VALUES (?, 'halopsa', '', ?, scim_matching_key(?), scim_matching_key(?), 'active', 'x')",
    );
    expect(() => insert.run("newcomer", " 7", " 7", "new@example.com")).toThrow(/UNIQUE/);
    expect(() => insert.run("newcomer", "9", "9", "Ａda@example.com")).toThrow(/UNIQUE/);
    expect(() => insert.run("newcomer", "9", "9", "new@example.com")).not.toThrow();
    db.close();
  });
});

/** A database file as a bridge that knew migrations up to `version` left it. */
function databaseAt(version: number) {
  const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-migrations-")), `v${version}.db`);
  return {
    file,
    db: openDatabase(
      file,
      migrations.filter((m) => m.version <= version),
    ),
  };
}

describe("migration 9: one working token per name, sessions bound to their credential", () => {
  it("keeps the newest active token's name, renames older namesakes (still working) with an audit event, links rotated-out tokens to their successor, ends unbound sessions, and then refuses a second active name", () => {
    const { file, db: v8 } = databaseAt(8);
    const insert = v8.prepare("INSERT INTO tokens (name, scope, hash, created_at, revoked_at, expires_at) VALUES (?, ?, ?, '2026-01-01T00:00:00.000Z', ?, ?)");
    insert.run("okta", "scim", "h1", null, null); // 1: an older duplicate
    insert.run("okta", "scim", "h2", "2026-02-01T00:00:00.000Z", null); // 2: revoked: keeps its name
    insert.run("okta", "scim", "h3", null, null); // 3: the newest active okta keeps the name
    insert.run("entra", "scim", "h4", null, "2099-01-01T00:00:00.000Z"); // 4: rotated out before v9
    insert.run("entra", "scim", "h5", null, null); // 5: its successor
    insert.run("worker", "admin", "h6", null, null); // 6: a reserved name from before: kept, audited as token:worker
    v8.prepare("INSERT INTO sessions (id_hash, token_name, scope, csrf_token, created_at, expires_at) VALUES ('s', 'env:SCIM_BRIDGE_ADMIN_TOKEN', 'admin', 'c', 'x', '2099-01-01')").run();
    v8.close();

    const db = openDatabase(file);
    expect(db.pragma("user_version", { simple: true })).toBe(migrations.at(-1)!.version);
    expect(db.prepare("SELECT id, name, revoked_at IS NOT NULL AS revoked, replaced_by FROM tokens ORDER BY id").all()).toEqual([
      { id: 1, name: "okta#1", revoked: 0, replaced_by: null },
      { id: 2, name: "okta", revoked: 1, replaced_by: null },
      { id: 3, name: "okta", revoked: 0, replaced_by: null },
      { id: 4, name: "entra", revoked: 0, replaced_by: 5 },
      { id: 5, name: "entra", revoked: 0, replaced_by: null },
      { id: 6, name: "worker", revoked: 0, replaced_by: null },
    ]);
    const renamed = db.prepare("SELECT actor, request_id, action, resource_id, before, after FROM audit_events").all() as Record<string, string>[];
    expect(renamed).toHaveLength(1);
    expect(renamed[0]).toMatchObject({ actor: "system", request_id: "migration:9", action: "token.rename", resource_id: "1" });
    expect(JSON.parse(renamed[0]!.before!)).toEqual({ name: "okta" });
    expect(JSON.parse(renamed[0]!.after!)).toMatchObject({ name: "okta#1" });
    expect(db.prepare("SELECT count(*) FROM sessions").pluck().get()).toBe(0);

    expect(() => db.prepare("INSERT INTO tokens (name, scope, hash, created_at) VALUES ('okta', 'scim', 'h7', 'x')").run()).toThrow(/UNIQUE/);
    // A rotated-out token and a revoked one leave their name free.
    db.prepare("INSERT INTO tokens (name, scope, hash, created_at, expires_at) VALUES ('pager', 'scim', 'h8', 'x', '2099-01-01')").run();
    db.prepare("INSERT INTO tokens (name, scope, hash, created_at) VALUES ('pager', 'scim', 'h9', 'x')").run();
    db.close();
  });
});
