/**
 * One bridge per database file. A running bridge holds a row in bridge_state naming its process
 * (host, pid, a random id) and refreshes its heartbeat; a second bridge that finds a live holder
 * refuses to start. A file lock would be released by the OS on a crash, but Node has no flock and
 * SQLite's `locking_mode = EXCLUSIVE` would also shut out the CLI and backups that share the file.
 * So a holder counts as gone when its process is dead (same host), when it is this very process
 * (a restarted container is pid 1 again), or when its heartbeat is older than `staleMs` (another
 * host sharing the file, or a pid reused after a crash).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Clock } from "../clock.js";
import { StartupError } from "../startup-error.js";
import type { Db } from "./database.js";

const KEY = "running_instance";

export interface Holder {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
}

export interface InstanceLockOptions {
  readonly clock: Clock;
  /** How often the heartbeat is written. */
  readonly heartbeatMs: number;
  /** A holder whose heartbeat is older than this is taken to have crashed. */
  readonly staleMs: number;
  /** Whether a process of this host is running (tests give their own). */
  readonly isAlive?: (pid: number) => boolean;
  /** Called when a heartbeat cannot be written (a full or busy database); the lock is kept. */
  readonly onHeartbeatError?: (e: unknown) => void;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    // EPERM: it exists but belongs to another user.
    return (e as { code?: unknown }).code === "EPERM";
  }
}

/** Removes whatever bridge claims `db` (a backup copy, which no bridge runs on). */
export function releaseInstanceClaim(db: Db): void {
  db.prepare("DELETE FROM bridge_state WHERE key = ?").run(KEY);
}

export class InstanceLock {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly db: Db,
    private readonly me: Holder,
    private readonly opts: InstanceLockOptions,
  ) {}

  /** Takes the database for this process, or throws a StartupError naming `file` and who holds it. */
  static acquire(db: Db, file: string, opts: InstanceLockOptions): InstanceLock {
    const now = opts.clock.now();
    const me: Holder = { id: randomUUID(), host: hostname(), pid: process.pid, startedAt: now.toISOString() };
    const isAlive = opts.isAlive ?? processAlive;
    const claim = db.transaction(() => {
      const row = db.prepare("SELECT value, updated_at AS heartbeatAt FROM bridge_state WHERE key = ?").get(KEY) as { value: string; heartbeatAt: string } | undefined;
      if (row) {
        const holder = JSON.parse(row.value) as Holder;
        const ageMs = now.getTime() - Date.parse(row.heartbeatAt);
        const gone = ageMs > opts.staleMs || (holder.host === me.host && (holder.pid === me.pid || !isAlive(holder.pid)));
        if (!gone) {
          const seen = Math.max(0, Math.round(ageMs / 1000));
          throw new StartupError(
            `database ${file} is in use by another scim-bridge (pid ${holder.pid} on ${holder.host}, last seen ${seen} s ago): run only one bridge per database; stop the other one, or set SCIM_BRIDGE_DB to another file` +
              (holder.host === me.host ? "" : ` (if that bridge is gone, this one can start ${Math.ceil((opts.staleMs - ageMs) / 1000)} s from now)`),
          );
        }
      }
      db.prepare("INSERT INTO bridge_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at").run(
        KEY,
        JSON.stringify(me),
        now.toISOString(),
      );
    });
    try {
      claim.immediate();
    } catch (e: unknown) {
      // A full disk must not stop the bridge (it serves reads and catches up once space is freed):
      // the check above has passed, and the claim is written by the next heartbeat that gets through.
      if ((e as { code?: unknown }).code !== "SQLITE_FULL") throw e;
      opts.onHeartbeatError?.(e);
    }
    const lock = new InstanceLock(db, me, opts);
    lock.timer = setInterval(() => lock.beat(), opts.heartbeatMs);
    lock.timer.unref();
    return lock;
  }

  private beat(): void {
    try {
      // Refreshes this bridge's claim, or writes it when start-up could not; never overwrites another's.
      this.db
        .prepare(
          "INSERT INTO bridge_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET updated_at = excluded.updated_at WHERE json_extract(bridge_state.value, '$.id') = ?",
        )
        .run(KEY, JSON.stringify(this.me), this.opts.clock.now().toISOString(), this.me.id);
    } catch (e: unknown) {
      this.opts.onHeartbeatError?.(e);
    }
  }

  /** Gives the database up (at shutdown), so the next bridge starts at once. */
  release(): void {
    clearInterval(this.timer);
    try {
      this.db.prepare("DELETE FROM bridge_state WHERE key = ? AND json_extract(value, '$.id') = ?").run(KEY, this.me.id);
    } catch {
      // A database that cannot take the delete: the next start sees a dead pid or a stale heartbeat.
    }
  }
}
