/**
 * Opens the SQLite file with the pragmas the bridge relies on and applies migrations.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { fold, matchingKey } from "../domain/folding.js";
import { migrations, type Migration } from "./migrations.js";

export type Db = Database.Database;


export function openDatabase(file: string, all: readonly Migration[] = migrations): Db {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // WAL lets readers run during a write; NORMAL sync in WAL mode survives a process crash
  // (kill -9) without losing a committed transaction, only an OS crash can lose the last ones.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  // A backup or a second process may hold the write lock briefly: wait instead of failing.
  db.pragma("busy_timeout = 5000");
  db.function("scim_fold", { deterministic: true }, (v: unknown) => (typeof v === "string" ? fold(v) : v));
  // The identity map's matching key (src/domain/folding.ts), for migrations that compute it in SQL.
  db.function("scim_matching_key", { deterministic: true }, (v: unknown) => (typeof v === "string" ? matchingKey(v) : v));
  migrate(db, all);
  return db;
}

function migrate(db: Db, all: readonly Migration[]): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (const m of all) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
