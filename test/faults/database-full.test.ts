/**
 * Issue 4, Faults: the database's disk is full. The bridge keeps running: /healthz answers,
 * /readyz says why it is not ready, SCIM writes answer 507 in SCIM form, the worker backs off
 * instead of dying, and once there is room again everything catches up by itself.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { ERROR_SCHEMA } from "../../src/scim/schema.js";
import { fillDatabase } from "../support/database-faults.js";
import { AGENTS, rigForTest, waitFor } from "../support/provisioning.js";
import { CORE_USER } from "../support/scim.js";

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
});
