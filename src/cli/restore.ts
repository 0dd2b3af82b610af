/**
 * `scim-bridge restore <backup>`: puts a checked backup in place of the database while the bridge
 * is stopped. It refuses while any process has the database open, keeps the database it replaces
 * under a dated name, and swaps the files by rename, so the database name always holds one
 * complete database: the old one or the backup.
 */
import { copyFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { systemClock } from "../clock.js";
import { loadConfig } from "../config.js";
import { checkDatabaseFile, describeFacts, LATEST_SCHEMA, syncDirectory, temporaryNameFor, type DatabaseFacts } from "./backup.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type Out } from "./output.js";

/**
 * Takes an exclusive lock on the database, or returns undefined when another connection has it
 * open: a running bridge keeps a shared lock for as long as it runs, so this is the check that it
 * is stopped. While the lock is held no bridge can start on the file. Leaving WAL mode folds every
 * committed transaction into the file itself (nothing stays behind in a -wal file), and means
 * closing this connection later touches no -wal file that a bridge on the new database may own.
 */
function lockExclusively(file: string): Database.Database | undefined {
  const db = new Database(file, { fileMustExist: true, timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE; COMMIT");
    db.pragma("journal_mode = DELETE");
    return db;
  } catch (e: unknown) {
    db.close();
    if (e instanceof Database.SqliteError && e.code.startsWith("SQLITE_BUSY")) return undefined;
    throw e;
  }
}

/** Copies `from` to `to` and flushes it to disk before it is renamed into place. */
function copyDurably(from: string, to: string): void {
  copyFileSync(from, to);
  const fd = openSync(to, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function checkBackup(file: string, out: Out): DatabaseFacts | undefined {
  let facts: DatabaseFacts;
  try {
    facts = checkDatabaseFile(file);
  } catch (e: unknown) {
    if (!(e instanceof Error)) throw e;
    out(`${file} is not a usable backup: ${e.message}`);
    return undefined;
  }
  if (facts.schemaVersion < 1 || facts.schemaVersion > LATEST_SCHEMA) {
    out(`${file} has schema version ${facts.schemaVersion}; this build runs versions 1 to ${LATEST_SCHEMA} (a newer build wrote it, or it is not a scim-bridge database).`);
    return undefined;
  }
  return facts;
}

export function restoreCommand(args: readonly string[], out: Out, env: NodeJS.ProcessEnv): number {
  const { positionals } = parseArgs({ args: [...args], options: {}, allowPositionals: true, strict: true });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    out("Usage: scim-bridge restore <backup file>");
    return EXIT_USAGE;
  }
  const backup = resolve(file);
  const target = resolve(loadConfig(env).database);
  if (backup === target) {
    out("The backup file is the database itself.");
    return EXIT_REFUSED;
  }
  if (!existsSync(backup)) {
    out(`No file at ${backup}.`);
    return EXIT_REFUSED;
  }
  const facts = checkBackup(backup, out);
  if (!facts) return EXIT_REFUSED;
  mkdirSync(dirname(target), { recursive: true });
  const replacing = existsSync(target);
  const lock = replacing ? lockExclusively(target) : undefined;
  if (replacing && !lock) {
    out(`${target} is in use: stop the bridge (and any other process using the database), then restore again. Nothing was changed.`);
    return EXIT_REFUSED;
  }
  const temp = temporaryNameFor(target);
  try {
    copyDurably(backup, temp);
    let kept: string | undefined;
    if (lock) {
      kept = `${target}.before-restore-${systemClock.now().toISOString().replace(/[:.]/g, "-")}`;
      renameSync(target, kept);
    }
    renameSync(temp, target);
    syncDirectory(dirname(target));
    out(`Restored ${backup} to ${target}: ${describeFacts(facts)}.`);
    if (kept) out(`The database it replaced is kept as ${kept}.`);
    out("Start the bridge; it applies any newer migrations on start.");
    return EXIT_OK;
  } finally {
    lock?.close();
    rmSync(temp, { force: true });
  }
}
