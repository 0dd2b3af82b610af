import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { migrations } from "../../src/db/migrations.js";

describe("migration 14: a ticket the bridge reopens", () => {
  it("keeps every task_tickets row, its close note as the note, and then accepts to-reopen and nothing unknown", () => {
    const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-migrations-")), "v13.db");
    const old = openDatabase(
      file,
      migrations.filter((m) => m.version < 14),
    );
    const task = old.prepare(
      "INSERT INTO tasks (app, user_id, action, title, steps, profile, state, due_at, created_at, updated_at) VALUES ('huntress', ?, 'invite', 'Invite', '[]', '{}', 'done', 't', 't', 't')",
    );
    task.run("u1");
    task.run("u2");
    old.prepare("INSERT INTO task_tickets (task_id, halopsa_app, ticket_id, state, close_note, attempts, run_at, last_error, created_at, updated_at) VALUES (1, 'halopsa', 41, 'to-close', 'Done in scim-bridge by ann', 2, 'r', 'HaloPSA answered 503', 'c', 'u')").run();
    old.prepare("INSERT INTO task_tickets (task_id, halopsa_app, ticket_id, state, attempts, run_at, created_at, updated_at) VALUES (2, 'halopsa', NULL, 'to-create', 0, 'r', 'c', 'u')").run();
    old.close();

    const db = openDatabase(file);
    expect(db.prepare("SELECT task_id, halopsa_app, ticket_id, state, note, attempts, run_at, last_error FROM task_tickets ORDER BY task_id").all()).toEqual([
      { task_id: 1, halopsa_app: "halopsa", ticket_id: 41, state: "to-close", note: "Done in scim-bridge by ann", attempts: 2, run_at: "r", last_error: "HaloPSA answered 503" },
      { task_id: 2, halopsa_app: "halopsa", ticket_id: null, state: "to-create", note: null, attempts: 0, run_at: "r", last_error: null },
    ]);
    db.prepare("UPDATE task_tickets SET state = 'to-reopen' WHERE task_id = 1").run();
    expect(() => db.prepare("UPDATE task_tickets SET state = 'reopened' WHERE task_id = 1").run()).toThrow(/CHECK/);
    // The indexes came back with the table: one row per HaloPSA ticket, due rows found by state.
    expect(() => db.prepare("UPDATE task_tickets SET ticket_id = 41 WHERE task_id = 2").run()).toThrow(/UNIQUE/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'task_tickets' AND type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all()).toEqual(["task_tickets_due", "task_tickets_ticket"]);
    db.close();
  });
});
