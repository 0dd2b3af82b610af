/**
 * Issue 4, Faults: the database's disk is full. The bridge keeps running: /healthz answers,
 * /readyz says why it is not ready, SCIM writes answer 507 in SCIM form, the worker backs off
 * instead of dying, and once there is room again everything catches up by itself.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import { startHaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { ERROR_SCHEMA } from "../../src/scim/schema.js";
import { kill9, startBridgeProcess } from "../support/child-bridge.js";
import { fillDatabase } from "../support/database-faults.js";
import { AGENTS, rigForTest, waitFor } from "../support/provisioning.js";
import { CORE_USER, patch } from "../support/scim.js";
import { bridgeEnv } from "../ops/bridge-process.js";

async function readyz(url: string): Promise<{ status: number; body: { status: string; checks: Record<string, boolean>; reason?: string } }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, boolean>; reason?: string } };
}

describe("database on a full disk", () => {
  it("keeps running and answers 507 while the disk is full, then catches up", async () => {
    const rig = await rigForTest();
    const { running, logLines } = rig.bridge;
    const group = await rig.createGroup(AGENTS);
    const email = "full.database@example.com";
    // A long name: the account the pass records (its profile) then needs a page of its own, so
    // writing it fails on a full database for certain rather than fitting into room left in a page.
    const user = await rig.createUser(email, { name: { givenName: "Long".repeat(1500), familyName: "Name" } });
    // HaloPSA answers slowly, so the disk fills while the pass is waiting on it.
    rig.sim.faults.latencyMs = 300;
    await rig.addMembers(group.id, [user.id]);
    await waitFor(() => running.db.prepare("SELECT locked_by FROM jobs").pluck().get(), 5000, "the job running");

    const free = fillDatabase(running.db);
    let freed = false;
    onTestFinished(() => (freed ? undefined : free()));
    const full = await readyz(running.url);
    expect(full.status).toBe(503);
    expect(full.body).toEqual({ status: "not ready", checks: { database: false, migrations: true, worker: true }, reason: "database full (SQLITE_FULL)" });
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);

    // A user whose row needs new pages: refused in SCIM form, the process stays up.
    const big = await rig.bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: "big@example.com", displayName: "Big ".repeat(5000) });
    expect(big.status, big.text).toBe(507);
    expect(big.headers.get("content-type")).toContain("application/scim+json");
    expect(big.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: "507" });
    expect(big.body.detail).toContain("database full (SQLITE_FULL)");

    // The pass creates the agent in HaloPSA but cannot record it: the worker backs off, and the job waits.
    await waitFor(() => logLines.some((l) => l.includes("database failed: will retry (database full (SQLITE_FULL))")), 15_000, "the worker meeting the full disk");
    expect((await readyz(running.url)).body.reason).toBe("database full (SQLITE_FULL)");
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);

    free();
    freed = true;
    const freedAt = Date.now();
    await waitFor(async () => (await readyz(running.url)).status === 200, 10_000, "/readyz back to 200");
    const agent = await rig.agentOnceReady(email, () => true, 40_000);
    expect(agent.email).toBe(email);
    await rig.idle(10_000);
    console.info(`full disk: ready again and the queued agent created ${Date.now() - freedAt} ms after space was freed`);
    const retried = await rig.bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: "big@example.com", displayName: "Big ".repeat(5000) });
    expect(retried.status, retried.text).toBe(201);
  });

  /** A 4 MiB tmpfs: a real file system that fills up. Mounting needs root (CAP_SYS_ADMIN). */
  function smallFileSystem(): string | undefined {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-smallfs-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir], { stdio: "ignore" });
    } catch {
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
    onTestFinished(() => {
      execFileSync("umount", ["-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    });
    return dir;
  }

  /** Writes a file until the file system says ENOSPC; returns its path. */
  function fillFileSystem(dir: string): string {
    const pad = join(dir, "pad");
    const fd = openSync(pad, "w");
    try {
      for (const size of [65_536, 4096, 1]) {
        const chunk = Buffer.alloc(size);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (e: unknown) {
          if ((e as { code?: unknown }).code !== "ENOSPC") throw e;
        }
      }
    } finally {
      closeSync(fd);
    }
    return pad;
  }

  const canMount = process.platform === "linux" && process.getuid?.() === 0;

  it.skipIf(!canMount)("starts and answers /healthz on a disk that is already full, then catches up once space is freed", async (ctx) => {
    const dir = smallFileSystem();
    if (dir === undefined) return ctx.skip();
    const dbFile = join(dir, "bridge.db");
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    onTestFinished(() => sim.close());
    const env = bridgeEnv(dir, dbFile, sim);
    const first = await startBridgeProcess({ cwd: dir, env });
    const group = await first.scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: AGENTS });
    expect(group.status, group.text).toBe(201);
    const email = "restart.full@example.com";
    const user = await first.scim("POST", "/Users", { schemas: [CORE_USER], userName: email, active: true, name: { givenName: "Restart", familyName: "Full" }, emails: [{ primary: true, value: email }] });
    expect(user.status, user.text).toBe(201);
    // Killed while the pass is waiting on a slow HaloPSA: the job is left queued for the next start.
    sim.faults.latencyMs = 300;
    const joined = await first.scim("PATCH", `/Groups/${group.body.id}`, patch({ op: "add", path: "members", value: [{ value: user.body.id }] }));
    expect(joined.status, joined.text).toBe(204);
    const db = new Database(dbFile);
    await waitFor(() => db.prepare("SELECT locked_by FROM jobs").pluck().get(), 5000, "the job running");
    await kill9(first.child);
    // An empty WAL, then not a byte left: the next start's first write (claiming that job) cannot
    // append to the log. The connection stays open so the -wal and -shm files stay, as after a crash.
    db.pragma("wal_checkpoint(TRUNCATE)");
    const pad = fillFileSystem(dir);
    sim.faults.reset();

    const second = await startBridgeProcess({ cwd: dir, env });
    const exited = () => {
      if (second.child.exitCode !== null) throw new Error(`the bridge exited (${second.child.exitCode}):\n${second.output.join("")}`);
    };
    await waitFor(() => exited() ?? second.output.join("").includes("database failed: will retry (database full (SQLITE_FULL))"), 10_000, "the claim meeting the full disk");
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${second.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await second.scim("GET", `/Users/${user.body.id}`)).status).toBe(200);
    expect(second.child.exitCode).toBeNull();

    db.close();
    rmSync(pad);
    await waitFor(async () => (await fetch(`${second.url}/readyz`)).status === 200, 40_000, "/readyz back to 200");
    await waitFor(() => [...sim.state.agents.values()].some((a) => a.email === email), 20_000, "the queued agent");
    expect(second.child.exitCode).toBeNull();
  });
});
