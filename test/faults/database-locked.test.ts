/**
 * Issue 4, Faults: another process holds the database's write lock for longer than a write waits
 * for it (busy_timeout). The bridge keeps running: /readyz says the database is busy, SCIM writes
 * answer 503 with Retry-After in SCIM form, the pass that could not record its outcome runs again,
 * and once the lock is released everything catches up by itself.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { ERROR_SCHEMA } from "../../src/scim/schema.js";
import { holdWriteLock } from "../support/database-faults.js";
import { AGENTS, rigForTest, waitFor } from "../support/provisioning.js";
import { CORE_USER } from "../support/scim.js";

describe("database locked by another process", () => {
  it("keeps running and answers 503 with Retry-After while another process holds the write lock, then catches up", async () => {
    const rig = await rigForTest();
    const { running, logLines, dbFile } = rig.bridge;
    // Writes wait 0.5 s for the lock instead of the configured 5 s, so the test holds it briefly.
    running.db.pragma("busy_timeout = 500");
    const group = await rig.createGroup(AGENTS);
    const email = "locked.database@example.com";
    const user = await rig.createUser(email);
    // HaloPSA answers slowly, so the lock is taken while the pass is waiting on it.
    rig.sim.faults.latencyMs = 300;
    await rig.addMembers(group.id, [user.id]);
    await waitFor(() => running.db.prepare("SELECT locked_by FROM jobs").pluck().get(), 5000, "the job running");

    const release = holdWriteLock(dbFile);
    let released = false;
    onTestFinished(() => (released ? undefined : release()));
    const ready = await fetch(`${running.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "not ready", checks: { database: false, migrations: true, worker: true }, reason: "database busy (SQLITE_BUSY)" });
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);

    const refused = await rig.bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: "while.locked@example.com" });
    expect(refused.status, refused.text).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(refused.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: "503" });
    expect(refused.body.detail).toContain("database busy (SQLITE_BUSY)");

    await waitFor(() => logLines.some((l) => l.includes("database failed: will retry (database busy (SQLITE_BUSY))")), 10_000, "the worker meeting the lock");
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);

    release();
    released = true;
    const releasedAt = Date.now();
    await waitFor(async () => (await fetch(`${running.url}/readyz`)).status === 200, 10_000, "/readyz back to 200");
    await rig.agentOnceReady(email, () => true, 20_000);
    await rig.idle(10_000);
    console.info(`locked database: the queued agent created ${Date.now() - releasedAt} ms after the lock was released`);
    const retried = await rig.bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: "while.locked@example.com" });
    expect(retried.status, retried.text).toBe(201);
  });
});
