/**
 * Online backup and restore (issue 5, and the fault "database locked by a backup"): the backup
 * runs as its own process while the bridge, another process, answers a SCIM write burst. The copy
 * must pass integrity_check, hold a consistent prefix of the burst (every user complete: emails,
 * group membership, audit rows), and cost the burst no failed request. A restore puts it back
 * under a fresh bridge, which serves the same users over SCIM.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCliAsync } from "../../src/cli.js";
import { openDatabase } from "../../src/db/database.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { SCIM_TOKEN } from "../support/bridge.js";
import { AGENTS } from "../support/provisioning.js";
import { CORE_GROUP, CORE_USER } from "../support/scim.js";
import { onDisk as readDb, startBridgeProcess, type BridgeProcess } from "../support/child-bridge.js";
import { bridgeEnv, exitOf, runCliProcess } from "./bridge-process.js";

async function scim(p: BridgeProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${p.url}/scim/v2${path}`, {
    method,
    headers: { Authorization: `Bearer ${SCIM_TOKEN}`, ...(body === undefined ? {} : { "Content-Type": "application/scim+json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text), ms: performance.now() - started };
}

/** Each writer's n-th step: a user with two emails, then a group with that user as its one member. */
const email = (writer: number, n: number, kind: "work" | "home") => `w${writer}.u${n}.${kind}@example.com`;
const userName = (writer: number, n: number) => email(writer, n, "work");
const groupName = (writer: number, n: number) => `w${writer}.g${n}`;

interface Burst {
  /** Requests answered, by writer; a writer's steps run one after the other. */
  readonly answered: { status: number; ms: number }[];
  /** Steps completed (user and group both answered), by writer. */
  readonly steps: number[];
  /** Waits until the writers have completed `total` steps between them; fails if one stopped on an error. */
  reach(total: number): Promise<void>;
  stop(): Promise<void>;
}

function writeBurst(p: BridgeProcess, writers: number): Burst {
  const answered: { status: number; ms: number }[] = [];
  const steps = Array.from({ length: writers }, () => 0);
  let stopping = false;
  let failed = false;
  const loops = steps.map(async (_zero, w) => {
    for (let n = 0; !stopping; n++) {
      const user = await scim(p, "POST", "/Users", {
        schemas: [CORE_USER],
        userName: userName(w, n),
        name: { givenName: `Writer${w}`, familyName: `Step${n}` },
        emails: [
          { value: email(w, n, "work"), type: "work", primary: true },
          { value: email(w, n, "home"), type: "home" },
        ],
      });
      answered.push(user);
      if (user.status !== 201) {
        failed = true;
        return;
      }
      const group = await scim(p, "POST", "/Groups", { schemas: [CORE_GROUP], displayName: groupName(w, n), members: [{ value: user.body.id }] });
      answered.push(group);
      if (group.status !== 201) {
        failed = true;
        return;
      }
      steps[w] = n + 1;
    }
  });
  return {
    answered,
    steps,
    reach: async (total) => {
      while (steps.reduce((a, b) => a + b, 0) < total) {
        if (failed) throw new Error(`the burst stopped on a failed request: ${JSON.stringify(answered.filter((a) => a.status !== 201))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** What a database file holds of the burst, per writer: the step numbers of its users and groups. */
function burstIn(file: string, writers: number) {
  return readDb(file, (db) => {
    const users = db.prepare("SELECT pk, id, user_name FROM users").all() as { pk: number; id: string; user_name: string }[];
    const groups = db.prepare("SELECT pk, id, display_name FROM groups").all() as { pk: number; id: string; display_name: string }[];
    const emails = db.prepare("SELECT value_key FROM user_emails WHERE user_pk = ? ORDER BY value_key").pluck();
    const members = db.prepare("SELECT user_pk FROM group_members WHERE group_pk = ?").pluck();
    const audited = db.prepare("SELECT action FROM audit_events WHERE resource_type = ? AND resource_id = ? ORDER BY seq").pluck();
    const userSteps: number[][] = Array.from({ length: writers }, () => []);
    const groupSteps: number[][] = Array.from({ length: writers }, () => []);
    const incomplete: string[] = [];
    for (const u of users) {
      const [, w, n] = /^w(\d+)\.u(\d+)\.work@example\.com$/.exec(u.user_name)!.map(Number) as [number, number, number];
      userSteps[w]!.push(n);
      if (JSON.stringify(emails.all(u.pk)) !== JSON.stringify([email(w, n, "home"), email(w, n, "work")])) incomplete.push(`${u.user_name}: emails`);
      if (!(audited.all("User", u.id) as string[]).includes("user.create")) incomplete.push(`${u.user_name}: no audit event`);
    }
    for (const g of groups) {
      const step = /^w(\d+)\.g(\d+)$/.exec(g.display_name);
      if (!step) continue; // the agents group, made before the burst
      const [, w, n] = step.map(Number) as [number, number, number];
      groupSteps[w]!.push(n);
      const member = users.find((u) => u.user_name === userName(w, n));
      if (!member || JSON.stringify(members.all(g.pk)) !== JSON.stringify([member.pk])) incomplete.push(`${g.display_name}: membership`);
      if ((audited.all("Group", g.id) as string[]).length === 0) incomplete.push(`${g.display_name}: no audit event`);
    }
    return { userSteps: userSteps.map((s) => s.sort((a, b) => a - b)), groupSteps: groupSteps.map((s) => s.sort((a, b) => a - b)), incomplete, users: users.length };
  });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * A database of a few tens of MB, so copying it takes long enough (about a hundred ms) for the burst
 * to write during the copy itself, not only while the backup process starts. Audit history is what
 * grows in a real deployment, so that is the ballast.
 */
function withHistory(file: string, events: number): void {
  const db = openDatabase(file);
  const insert = db.prepare("INSERT INTO audit_events (at, actor, action, resource_type, resource_id, after) VALUES (?, 'history', 'user.update', 'User', ?, ?)");
  db.transaction(() => {
    for (let i = 0; i < events; i++) insert.run(new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(), `history-${i}`, JSON.stringify({ note: "h".repeat(1500) }));
  })();
  db.close();
}

describe("backup and restore", () => {
  let dir: string;
  let dbFile: string;
  let sim: HaloPsaSimulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "scim-bridge-backup-"));
    dbFile = join(dir, "bridge.db");
    sim = await startHaloPsaSimulator({ rateLimit: null });
  });

  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (db: string, env: Record<string, string> = {}) => startBridgeProcess({ cwd: dir, env: { ...bridgeEnv(dir, db, sim), ...env } });
  const cliEnv = (db: string) => ({ PATH: process.env["PATH"] ?? "", SCIM_BRIDGE_DB: db, SCIM_BRIDGE_CONFIG: join(dir, "config.json") });

  it("copies a consistent prefix of a write burst while the bridge keeps answering every request, and restores it under a fresh bridge", { timeout: 90_000 }, async () => {
    const WRITERS = 4;
    withHistory(dbFile, 20_000);
    // Four writers back to back go past the per-token rate limit meant for one IdP; this test is about the backup.
    const bridge = await start(dbFile, { SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: "0", SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: "0" });
    // Provisioning runs during the burst too: the group of agents makes the worker write as well.
    expect((await scim(bridge, "POST", "/Groups", { schemas: [CORE_GROUP], displayName: AGENTS })).status).toBe(201);
    const burst = writeBurst(bridge, WRITERS);
    await burst.reach(40);
    const before = [...burst.steps];
    const backupFile = join(dir, "backup.db");
    const answeredBefore = burst.answered.length;
    const backup = await runCliProcess(["backup", backupFile], cliEnv(dbFile));
    const after = [...burst.steps];
    const duringBackup = burst.answered.slice(answeredBefore);
    // Writes go on after the backup: they must not be in it.
    await burst.reach(after.reduce((a, b) => a + b, 0) + 8);
    await burst.stop();

    expect(backup.code, backup.out).toBe(0);
    expect(backup.out).toMatch(/^Backup written to .*backup\.db: \d+ bytes, \d+ pages of 4096 bytes, schema version \d+; integrity check ok\.\n$/);
    // The "database locked by a backup" fault: not one request of the burst failed.
    expect(burst.answered.filter((a) => a.status !== 201)).toEqual([]);
    expect(duringBackup.length).toBeGreaterThan(0);
    const slowest = (answers: { ms: number }[]) => Math.max(...answers.map((a) => a.ms)).toFixed(0);
    console.info(`${duringBackup.length} writes answered while the backup ran (slowest ${slowest(duringBackup)} ms; ${burst.answered.length} in the burst, slowest ${slowest(burst.answered)} ms)`);

    expect(readDb(backupFile, (db) => db.pragma("integrity_check", { simple: true }))).toBe("ok");
    expect(readDb(backupFile, (db) => db.pragma("journal_mode", { simple: true }))).toBe("delete");
    const copy = burstIn(backupFile, WRITERS);
    expect(copy.incomplete).toEqual([]);
    for (const w of range(WRITERS)) {
      // A prefix of each writer's steps: everything answered before the backup began, nothing
      // answered after it ended, and never a later step without every earlier one.
      const users = copy.userSteps[w]!;
      expect(users).toEqual(range(users.length));
      expect(users.length).toBeGreaterThanOrEqual(before[w]!);
      expect(users.length).toBeLessThanOrEqual(after[w]! + 1);
      const groups = copy.groupSteps[w]!;
      expect(groups).toEqual(range(groups.length));
      expect(groups.length === users.length || groups.length === users.length - 1).toBe(true);
    }
    expect(copy.users).toBeLessThan(burstIn(dbFile, WRITERS).users);

    // Restore into a fresh database path and serve it.
    const freshDb = join(dir, "restored", "bridge.db");
    const restore = await runCliProcess(["restore", backupFile], cliEnv(freshDb));
    expect(restore.code, restore.out).toBe(0);
    const restored = await start(freshDb);
    const list = await scim(restored, "GET", `/Users?count=1000`);
    expect(list.status).toBe(200);
    expect(list.body.totalResults).toBe(copy.users);
    const someone = await scim(restored, "GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName(0, 3)}"`)}`);
    expect(someone.body.Resources[0].emails.map((e: { value: string }) => e.value).sort()).toEqual([email(0, 3, "home"), email(0, 3, "work")]);
    const group = await scim(restored, "GET", `/Groups?filter=${encodeURIComponent(`displayName eq "${groupName(0, 3)}"`)}`);
    expect(group.body.Resources[0].members.map((m: { value: string }) => m.value)).toEqual([someone.body.Resources[0].id]);
  });

  it("restores only while the bridge is stopped, and keeps the database it replaces", { timeout: 60_000 }, async () => {
    const bridge = await start(dbFile);
    const kept = await scim(bridge, "POST", "/Users", { schemas: [CORE_USER], userName: "in.backup@example.com" });
    const backupFile = join(dir, "backup.db");
    expect((await runCliProcess(["backup", backupFile], cliEnv(dbFile))).code).toBe(0);
    const later = await scim(bridge, "POST", "/Users", { schemas: [CORE_USER], userName: "after.backup@example.com" });

    const refused = await runCliProcess(["restore", backupFile], cliEnv(dbFile));
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("is in use: stop the bridge");
    expect((await scim(bridge, "GET", `/Users/${later.body.id}`)).status).toBe(200);

    const exited = exitOf(bridge.child);
    bridge.child.kill("SIGTERM");
    expect((await exited).code).toBe(0);
    const restore = await runCliProcess(["restore", backupFile], cliEnv(dbFile));
    expect(restore.code, restore.out).toBe(0);
    const aside = /kept as (.*)\.\n/.exec(restore.out)![1]!;
    // The replaced database is whole: it still has the user written after the backup.
    expect(readDb(aside, (db) => db.prepare("SELECT count(*) FROM users WHERE id = ?").pluck().get(later.body.id))).toBe(1);

    const again = await start(dbFile);
    expect((await scim(again, "GET", `/Users/${kept.body.id}`)).status).toBe(200);
    expect((await scim(again, "GET", `/Users/${later.body.id}`)).status).toBe(404);
  });

  describe("refusals", () => {
    const cli = async (args: string[], db = dbFile) => {
      const lines: string[] = [];
      const code = await runCliAsync(args, (l) => lines.push(l), cliEnv(db));
      return { code, out: lines.join("\n") };
    };
    const withDatabase = async () => {
      const b = await start(dbFile);
      await scim(b, "POST", "/Users", { schemas: [CORE_USER], userName: "someone@example.com" });
      const exited = exitOf(b.child);
      b.child.kill("SIGTERM");
      await exited;
    };

    it("never overwrites an existing file without --force, and leaves no partial file behind", async () => {
      await withDatabase();
      const target = join(dir, "taken.db");
      writeFileSync(target, "not mine to replace");
      expect(await cli(["backup", target])).toEqual({ code: 1, out: `${target} already exists; pass --force to replace it.` });
      expect(readFileSync(target, "utf8")).toBe("not mine to replace");
      expect((await cli(["backup", target, "--force"])).code).toBe(0);
      expect(readDb(target, (db) => db.prepare("SELECT count(*) FROM users").pluck().get())).toBe(1);
      expect(existsSync(join(dir, "missing", "b.db"))).toBe(false);
      expect((await cli(["backup", join(dir, "missing", "b.db")])).code).toBe(1);
      expect((await cli(["backup"])).code).toBe(2);
      expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
    });

    it("restores nothing from a file that is not a sound scim-bridge database of a known version", async () => {
      await withDatabase();
      const garbage = join(dir, "garbage.db");
      writeFileSync(garbage, "x".repeat(8192));
      const notDb = await cli(["restore", garbage]);
      expect(notDb.code).toBe(1);
      expect(notDb.out).toContain("is not a usable backup");

      const future = join(dir, "future.db");
      expect((await cli(["backup", future])).code).toBe(0);
      const f = new Database(future);
      f.pragma("user_version = 9999");
      f.close();
      const newer = await cli(["restore", future]);
      expect(newer.code).toBe(1);
      expect(newer.out).toContain("has schema version 9999");
      expect(readDb(dbFile, (db) => db.prepare("SELECT user_name FROM users").pluck().all())).toEqual(["someone@example.com"]);
    });
  });
});
