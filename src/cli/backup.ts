/**
 * `scim-bridge backup <file> [--force]`: a consistent copy of the database, taken through SQLite's
 * online backup API while the bridge keeps serving. The copy is written under a temporary name in
 * the target's directory, checked with `PRAGMA integrity_check`, and only then given its final
 * name, so a file with the requested name is always a complete, checked backup.
 */
import { randomUUID } from "node:crypto";
import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { loadConfig } from "../config.js";
import { releaseInstanceClaim } from "../db/instance-lock.js";
import { migrations } from "../db/migrations.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type Out } from "./output.js";

/**
 * Pages per backup step. SQLite restarts a multi-step backup whenever another connection writes
 * to the source, so under a steady SCIM write burst a paced backup might never finish; one step
 * copies every page inside a single read transaction instead. In WAL mode that read transaction
 * does not block the bridge's writers, and the copy is the database as of one commit.
 */
const ALL_PAGES = 0x7fffffff;

/** What a checked database file holds, as printed after a backup and before a restore. */
export interface DatabaseFacts {
  readonly bytes: number;
  readonly pages: number;
  readonly pageSize: number;
  readonly schemaVersion: number;
}

/** The newest schema this build knows; a backup from a newer build cannot be run by this one. */
export const LATEST_SCHEMA = Math.max(...migrations.map((m) => m.version));

export class DatabaseCheckError extends Error {
  override readonly name = "DatabaseCheckError";
}

/**
 * Runs `PRAGMA integrity_check` on `file` and reads its size and schema version. Opened read-only
 * so checking a file can never change it (nor migrate it, as the bridge's own open would).
 */
export function checkDatabaseFile(file: string): DatabaseFacts {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const problems = db.pragma("integrity_check") as { integrity_check: string }[];
    if (problems.length !== 1 || problems[0]?.integrity_check !== "ok") {
      throw new DatabaseCheckError(`${file} failed the integrity check: ${problems.slice(0, 5).map((p) => p.integrity_check).join("; ")}`);
    }
    return {
      bytes: statSync(file).size,
      pages: db.pragma("page_count", { simple: true }) as number,
      pageSize: db.pragma("page_size", { simple: true }) as number,
      schemaVersion: db.pragma("user_version", { simple: true }) as number,
    };
  } finally {
    db.close();
  }
}

export function describeFacts(f: DatabaseFacts): string {
  return `${f.bytes} bytes, ${f.pages} pages of ${f.pageSize} bytes, schema version ${f.schemaVersion}`;
}

/** Makes a rename or link in `dir` survive a power cut, not only a process crash. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A name in `target`'s directory (so the final rename stays on one file system) that no reader mistakes for a backup. */
export function temporaryNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomUUID()}.partial`);
}

function removeTemporary(file: string): void {
  for (const suffix of ["", "-journal", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
}

/** Copies the live database at `source` to `temp` and leaves it a single self-contained file. */
async function copyOnline(source: string, temp: string): Promise<void> {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    // The bridge may be checkpointing; wait for it as the bridge itself would (src/db/database.ts).
    db.pragma("busy_timeout = 5000");
    await db.backup(temp, { progress: () => ALL_PAGES });
  } finally {
    db.close();
  }
  // The copy inherits WAL mode from its source. Rollback mode makes it one file that can be
  // copied, archived and opened read-only anywhere; the bridge turns WAL back on when it opens it.
  const copy = new Database(temp, { fileMustExist: true });
  try {
    copy.pragma("journal_mode = DELETE");
    // The copy is nobody's: the running bridge's claim on its database (src/db/instance-lock.ts) stays behind.
    releaseInstanceClaim(copy);
  } finally {
    copy.close();
  }
}

export async function backupCommand(args: readonly string[], out: Out, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], options: { force: { type: "boolean", default: false } }, allowPositionals: true, strict: true });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    out("Usage: scim-bridge backup <file> [--force]");
    return EXIT_USAGE;
  }
  const source = loadConfig(env).database;
  const target = resolve(file);
  if (!existsSync(source)) {
    out(`No database at ${source} (SCIM_BRIDGE_DB): nothing to back up.`);
    return EXIT_REFUSED;
  }
  if (resolve(source) === target) {
    out("The backup file cannot be the database itself.");
    return EXIT_REFUSED;
  }
  if (existsSync(target) && !values.force) {
    out(`${target} already exists; pass --force to replace it.`);
    return EXIT_REFUSED;
  }
  if (!existsSync(dirname(target))) {
    out(`The directory ${dirname(target)} does not exist.`);
    return EXIT_REFUSED;
  }
  const temp = temporaryNameFor(target);
  try {
    await copyOnline(source, temp);
    const facts = checkDatabaseFile(temp);
    if (values.force) {
      renameSync(temp, target);
    } else {
      // link() fails if the name was taken meanwhile, where rename() would silently replace it.
      linkSync(temp, target);
      rmSync(temp);
    }
    syncDirectory(dirname(target));
    out(`Backup written to ${target}: ${describeFacts(facts)}; integrity check ok.`);
    return EXIT_OK;
  } catch (e: unknown) {
    if (!(e instanceof Error)) throw e;
    out(`Backup failed, nothing was written to ${target}: ${e.message}`);
    return EXIT_REFUSED;
  } finally {
    removeTemporary(temp);
  }
}
