/**
 * `totalResults` for list queries, remembered until the database changes. A walk through a
 * 100,000-user directory asks for the same total on every page, and counting it costs about
 * 4 ms there: more than reading and rendering the page itself.
 *
 * The stamp that says "nothing changed" is this connection's change counter (`total_changes()`,
 * which moves with every row it writes, SQLite "C/C++ Interface: Total Number Of Rows Modified")
 * together with `PRAGMA data_version` (which moves when another connection, such as the CLI,
 * commits; SQLite "Pragma statements: data_version"). Inside an open transaction nothing is
 * remembered: a rollback undoes rows without moving the counter back.
 */
import type Database from "better-sqlite3";
import type { Db } from "./database.js";

/** Distinct filters are few (IdPs page with none, or look up one userName); the cap bounds abuse. */
const MAX_ENTRIES = 200;

export class CountCache {
  private readonly stampStmt: Database.Statement<unknown[]>;
  private stamp = "";
  private readonly counts = new Map<string, number>();

  constructor(private readonly db: Db) {
    this.stampStmt = db.prepare("SELECT total_changes() || ':' || (SELECT data_version FROM pragma_data_version)").pluck();
  }

  /** The count for `key` (the query's SQL and parameters), from `count()` when the data may have changed. */
  get(key: string, count: () => number): number {
    if (this.db.inTransaction) return count();
    const stamp = this.stampStmt.get() as string;
    if (stamp !== this.stamp) {
      this.counts.clear();
      this.stamp = stamp;
    }
    let n = this.counts.get(key);
    if (n === undefined) {
      n = count();
      if (this.counts.size >= MAX_ENTRIES) this.counts.clear();
      this.counts.set(key, n);
    }
    return n;
  }
}
