import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../src/db/database.js";
import { InstanceLock } from "../../src/db/instance-lock.js";

function freshDb(): { db: Db; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), "instance-lock-")), "b.db");
  return { db: openDatabase(file), file };
}

/** Another bridge's row, as its process would have written it. */
function holdBy(db: Db, holder: { host: string; pid: number }, heartbeatAt: Date): void {
  db.prepare("INSERT INTO bridge_state (key, value, updated_at) VALUES ('running_instance', ?, ?)").run(
    JSON.stringify({ id: "other", ...holder, startedAt: heartbeatAt.toISOString() }),
    heartbeatAt.toISOString(),
  );
}

const at = (iso: string) => ({ now: () => new Date(iso) });
const OPTS = { heartbeatMs: 10_000, staleMs: 30_000 };

describe("one bridge per database file", () => {
  it("refuses while a live bridge on this host holds the file, and names the file and the holder", () => {
    const { db, file } = freshDb();
    holdBy(db, { host: hostname(), pid: 4242 }, new Date("2026-01-01T00:00:00Z"));
    expect(() => InstanceLock.acquire(db, file, { ...OPTS, clock: at("2026-01-01T00:00:05Z"), isAlive: () => true })).toThrow(
      `database ${file} is in use by another scim-bridge (pid 4242 on ${hostname()}, last seen 5 s ago)`,
    );
  });

  it("takes the file at once from a crashed bridge of this host (its pid is gone)", () => {
    const { db, file } = freshDb();
    holdBy(db, { host: hostname(), pid: 4242 }, new Date("2026-01-01T00:00:00Z"));
    InstanceLock.acquire(db, file, { ...OPTS, clock: at("2026-01-01T00:00:01Z"), isAlive: () => false }).release();
  });

  it("waits out another host's heartbeat, then takes the file once it is stale", () => {
    const { db, file } = freshDb();
    holdBy(db, { host: "elsewhere", pid: 1 }, new Date("2026-01-01T00:00:00Z"));
    expect(() => InstanceLock.acquire(db, file, { ...OPTS, clock: at("2026-01-01T00:00:20Z") })).toThrow(/this one can start 10 s from now/);
    InstanceLock.acquire(db, file, { ...OPTS, clock: at("2026-01-01T00:00:31Z") }).release();
  });

  it("gives the file up at release, so the next bridge starts even while the process lives on", () => {
    const { db, file } = freshDb();
    const clock = at("2026-01-01T00:00:00Z");
    InstanceLock.acquire(db, file, { ...OPTS, clock }).release();
    expect(db.prepare("SELECT count(*) FROM bridge_state WHERE key = 'running_instance'").pluck().get()).toBe(0);
  });
});
