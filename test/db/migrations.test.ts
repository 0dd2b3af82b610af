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
