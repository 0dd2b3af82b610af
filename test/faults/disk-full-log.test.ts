/**
 * Issue 5, Faults: the disk holding the log is full. The bridge runs as a child process with stdout
 * and stderr on /dev/full, where every write fails with ENOSPC, as a log file on a full disk does:
 * it must keep answering SCIM, keep its data and keep provisioning, and once the log can be written
 * again (a restart with a working stdout, or space freed while it runs) nothing else was lost.
 */
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { startHaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { createLogger, UnfailingSink } from "../../src/log.js";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { onDisk, startBridgeProcess } from "../support/child-bridge.js";
import { AGENTS, rigConfig, waitFor } from "../support/provisioning.js";
import { CORE_USER, patch } from "../support/scim.js";

describe("log on a full disk", () => {
  it.skipIf(!existsSync("/dev/full"))("keeps serving SCIM and provisioning while every log write fails with ENOSPC", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-diskfull-"));
    const dbFile = join(dir, "bridge.db");
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    const full = openSync("/dev/full", "w");
    onTestFinished(async () => {
      closeSync(full);
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const configFile = join(dir, "config.json");
    writeFileSync(configFile, JSON.stringify(rigConfig(sim)));
    const env = { SCIM_BRIDGE_DB: dbFile, SCIM_BRIDGE_CONFIG: configFile, SCIM_BRIDGE_SCIM_TOKEN: SCIM_TOKEN, SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: "debug" };

    // The banner, every request line and every provisioning line fail to write.
    const bridge = await startBridgeProcess({ cwd: dir, env, stdio: full });
    const group = await bridge.scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: AGENTS });
    expect(group.status, group.text).toBe(201);
    const emails = Array.from({ length: 20 }, (_, i) => `full.disk.${i}@example.com`);
    for (const email of emails) {
      const u = await bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: email, active: true, name: { givenName: "Full", familyName: "Disk" }, emails: [{ primary: true, value: email }] });
      expect(u.status, u.text).toBe(201);
      const joined = await bridge.scim("PATCH", `/Groups/${group.body.id}`, patch({ op: "add", path: "members", value: [{ value: u.body.id }] }));
      expect(joined.status, joined.text).toBe(204);
    }
    // Errors are logged too (and fail too): a 404 and a refused token.
    expect((await bridge.scim("GET", "/Users/no-such-id")).status).toBe(404);
    expect((await bridge.scim("GET", "/Users", undefined, { Authorization: "Bearer wrong-token-0123456789abcdef" })).status).toBe(401);
    const people = () => [...sim.state.agents.values()].filter((a) => !a.isapiagent).map((a) => a.email).sort();
    await waitFor(() => people().length === emails.length, 20_000, "an agent per member while the log is failing");
    expect(people()).toEqual([...emails].sort());
    expect((await fetch(`${bridge.url}/readyz`)).status).toBe(200);
    expect(bridge.child.exitCode).toBeNull();

    // SIGTERM: the graceful stop (its "shutting down" line fails too) still closes the database cleanly.
    const exited = new Promise<number | null>((resolve) => bridge.child.once("exit", (code) => resolve(code)));
    bridge.child.kill("SIGTERM");
    expect(await exited).toBe(0);

    // The log works again: a start with a working stdout logs, and finds everything.
    const again = await startBridgeProcess({ cwd: dir, env });
    // /healthz answers before the apps are checked; the "listening" line follows the check.
    await waitFor(() => again.output.join("").includes('"message":"scim-bridge listening"'), 15_000, "the listening line");
    const list = await again.scim("GET", `/Users?filter=${encodeURIComponent('userName sw "full.disk."')}&count=100`);
    expect(list.body.totalResults).toBe(emails.length);
    const members = await again.scim("GET", `/Groups/${group.body.id}`);
    expect(members.body.members).toHaveLength(emails.length);
    expect(onDisk(dbFile, (db) => db.pragma("integrity_check", { simple: true }))).toBe("ok");
    expect(onDisk(dbFile, (db) => db.prepare("SELECT count(*) FROM jobs").pluck().get())).toBe(0);
  });

  it("drops the lines it cannot write and, once writing works again, says how many were lost", () => {
    const written: string[] = [];
    let diskFull = true;
    const sink = new UnfailingSink((chunk, done) => {
      if (diskFull) return done(Object.assign(new Error("no space left on device"), { code: "ENOSPC" }));
      written.push(chunk.toString("utf8"));
      done();
    });
    const log = createLogger("info", sink);
    log.info("lost one");
    log.warn("lost two", { requestId: "r-1" });
    expect(written).toEqual([]);
    diskFull = false;
    log.info("back");
    log.info("and on");
    const lines = written.join("").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l["message"])).toEqual(["log output failed; lines were dropped", "back", "and on"]);
    expect(lines[0]).toMatchObject({ level: "warn", dropped: 2, error: "ENOSPC" });
  });
});
