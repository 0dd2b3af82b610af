/**
 * The last database failure the provisioning worker ran into, for /readyz. A full disk does not
 * show in a probe that only takes the write lock (`BEGIN IMMEDIATE; ROLLBACK` succeeds on a full
 * database, and in WAL mode small writes may still fit into the log while larger ones fail), so
 * readiness also reports what real work has hit. The record is cleared by the worker's next
 * successful turn. One object per running bridge, made in main.ts.
 */
import type { Db } from "./database.js";
import { databaseFailureOf, describeFailure, type DatabaseFailure } from "./database-failure.js";

export interface DatabaseProblem extends DatabaseFailure {
  /** When this run of failures of the same code began (ISO 8601). */
  readonly since: string;
  /** e.g. "database full (SQLITE_FULL)". */
  readonly reason: string;
}

export class DatabaseHealth {
  private current: DatabaseProblem | undefined;

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Records `e` if it is a failure of the database itself; returns it, or undefined for anything else. */
  failed(e: unknown): DatabaseFailure | undefined {
    const failure = databaseFailureOf(e);
    if (failure) {
      const since = this.current?.code === failure.code ? this.current.since : this.now().toISOString();
      this.current = { ...failure, since, reason: describeFailure(failure) };
    }
    return failure;
  }

  succeeded(): void {
    this.current = undefined;
  }

  get problem(): DatabaseProblem | undefined {
    return this.current;
  }
}

/** How long the probe waits for the write lock: /readyz must answer well within a load balancer's timeout. */
const PROBE_BUSY_MS = 250;

/**
 * Throws the SqliteError a write would meet now: takes the write lock (busy, read-only) and
 * allocates pages for a 64 KiB row (full), then rolls back, so nothing reaches the disk. The page
 * allocation sees a database at its size limit (PRAGMA max_page_count), but not a full file
 * system: SQLite only finds that out when it writes the log at commit.
 */
export function probeDatabase(db: Db): void {
  const busyMs = db.pragma("busy_timeout", { simple: true }) as number;
  // better-sqlite3 is synchronous: no other statement can run between setting and restoring.
  db.pragma(`busy_timeout = ${Math.min(busyMs, PROBE_BUSY_MS)}`);
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec("CREATE TABLE readiness_probe (b BLOB); INSERT INTO readiness_probe VALUES (zeroblob(65536))");
    } finally {
      // SQLITE_FULL and SQLITE_IOERR may already have rolled the transaction back (sqlite.org/lang_transaction.html).
      if (db.inTransaction) db.exec("ROLLBACK");
    }
  } finally {
    db.pragma(`busy_timeout = ${busyMs}`);
  }
}
