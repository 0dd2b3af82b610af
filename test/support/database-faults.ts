/**
 * A full database and a database locked by another process, made on a real SQLite file for the
 * fault tests (test/faults/database-*.test.ts).
 */
import Database from "better-sqlite3";
import type { Db } from "../../src/db/database.js";

function insertUntilFull(db: Db, bytes: number): void {
  const insert = db.prepare("INSERT INTO disk_filler VALUES (randomblob(?))");
  for (;;) {
    try {
      insert.run(bytes);
    } catch (e: unknown) {
      if ((e as { code?: unknown }).code === "SQLITE_FULL") return;
      throw e;
    }
  }
}

/**
 * Makes the bridge's database full without a small file system, and returns how to free it.
 * PRAGMA max_page_count (sqlite.org/pragma.html#pragma_max_page_count) caps the file at its
 * current size; it belongs to a connection, so it is set on the bridge's own, the one every
 * write goes through. A filler table then takes every free page and the room left in its own
 * pages, so any write that needs a new page fails with SQLITE_FULL, as on a full disk. (A write
 * that fits into room left in an existing page still succeeds: so it does in the slack of a
 * WAL file on a real full disk.) Freeing lifts the cap and drops the filler.
 */
export function fillDatabase(db: Db): () => void {
  const cap = db.pragma("max_page_count", { simple: true }) as number;
  db.exec("CREATE TABLE disk_filler (b BLOB)");
  db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true }) as number}`);
  for (const bytes of [3000, 500, 50, 1]) insertUntilFull(db, bytes);
  return () => {
    db.pragma(`max_page_count = ${cap}`);
    db.exec("DROP TABLE disk_filler");
  };
}

/**
 * Another connection (as a backup tool or `sqlite3` in a shell would) takes the write lock and
 * holds it until the returned function is called.
 */
export function holdWriteLock(file: string): () => void {
  const other = new Database(file);
  other.exec("BEGIN IMMEDIATE");
  return () => {
    other.exec("ROLLBACK");
    other.close();
  };
}
