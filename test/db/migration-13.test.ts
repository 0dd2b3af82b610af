import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { migrations } from "../../src/db/migrations.js";

describe("migration 13: member display, unassigned active", () => {
  it("makes a user whose active was removed inactive, leaves asserted values alone, and keeps memberships with no display", () => {
    const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-migrations-")), "v12.db");
    const old = openDatabase(
      file,
      migrations.filter((m) => m.version < 13),
    );
    const insert = old.prepare(
      "INSERT INTO users (id, user_name, user_name_key, external_id, active, data, version, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?, 1, 't', 't')",
    );
    // Before this migration a removed `active` was stored as active (column 1, no key in the data).
    insert.run("removed", "removed", "removed", 1, JSON.stringify({ userName: "removed" }));
    insert.run("on", "on", "on", 1, JSON.stringify({ userName: "on", active: true }));
    insert.run("off", "off", "off", 0, JSON.stringify({ userName: "off", active: false }));
    old.prepare("INSERT INTO groups (id, display_name, display_name_key, external_id, data, version, created_at, updated_at) VALUES ('g', 'G', 'g', NULL, '{}', 1, 't', 't')").run();
    old.prepare("INSERT INTO group_members (group_pk, user_pk) SELECT g.pk, u.pk FROM groups g, users u WHERE u.id = 'on'").run();
    old.close();

    const db = openDatabase(file);
    expect(db.prepare("SELECT id, active FROM users ORDER BY id").all()).toEqual([
      { id: "off", active: 0 },
      { id: "on", active: 1 },
      { id: "removed", active: 0 },
    ]);
    expect(db.prepare("SELECT display FROM group_members").all()).toEqual([{ display: null }]);
    db.close();
  });
});
