/**
 * What a database error means for the service: the disk is full, another connection holds the
 * write lock, or the file cannot be read or written. The one place better-sqlite3's SqliteError
 * codes are classified (SQLite result codes, sqlite.org/rescode.html); the HTTP edges, the worker
 * and /readyz all go through it. Any other SqliteError (a constraint, a type mismatch) is a bug in
 * the bridge, not a state of the database, and is left to the callers' generic handling.
 */
import Database from "better-sqlite3";

export type DatabaseFailureKind = "full" | "busy" | "unavailable";

export interface DatabaseFailure {
  readonly kind: DatabaseFailureKind;
  /** The extended result code, e.g. SQLITE_FULL, SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_WRITE. */
  readonly code: string;
  readonly message: string;
}

/** Primary result codes (the part before any `_EXTENDED` suffix) by what they mean here. */
const KINDS: Readonly<Record<string, DatabaseFailureKind>> = {
  SQLITE_FULL: "full",
  SQLITE_BUSY: "busy",
  SQLITE_LOCKED: "busy",
  SQLITE_IOERR: "unavailable",
  SQLITE_READONLY: "unavailable",
  SQLITE_CANTOPEN: "unavailable",
  SQLITE_CORRUPT: "unavailable",
  SQLITE_NOTADB: "unavailable",
  SQLITE_NOMEM: "unavailable",
  SQLITE_PROTOCOL: "unavailable",
};

const PRIMARY = /^SQLITE_[A-Z]+/;

export function databaseFailureOf(e: unknown): DatabaseFailure | undefined {
  if (!(e instanceof Database.SqliteError)) return undefined;
  const kind = KINDS[PRIMARY.exec(e.code)?.[0] ?? ""];
  return kind && { kind, code: e.code, message: e.message };
}

const WHAT: Readonly<Record<DatabaseFailureKind, string>> = {
  full: "database full",
  busy: "database busy",
  unavailable: "database I/O error",
};

/** For /readyz, logs and error bodies, e.g. "database full (SQLITE_FULL)". */
export function describeFailure(f: Pick<DatabaseFailure, "kind" | "code">): string {
  return `${WHAT[f.kind]} (${f.code})`;
}
