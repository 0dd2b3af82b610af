/**
 * Crash recovery with a real `kill -9` (issue 3: "Killing the process at any moment loses
 * nothing"). The bridge runs as a child process (`node dist/src/main.js`, built by
 * test/global-setup.ts) against a HaloPSA simulator in this process; the test kills it with
 * SIGKILL, so no shutdown code runs, reads the SQLite file read-only, and starts it again.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { kill9, onDisk as readFile, startBridgeProcess, type BridgeProcess } from "../support/child-bridge.js";
import { AGENTS, rigConfig, waitFor } from "../support/provisioning.js";
import { CORE_USER } from "../support/scim.js";

describe("crash recovery (kill -9)", () => {
  let dir: string;
  let dbFile: string;
  let sim: HaloPsaSimulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "scim-bridge-crash-"));
    dbFile = join(dir, "bridge.db");
    sim = await startHaloPsaSimulator({ rateLimit: null });
  });

  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `node dist/src/main.js` with the config file, and waits until it serves. */
  async function startProcess(timeoutSeconds: number): Promise<BridgeProcess> {
    const config = rigConfig(sim);
    // HaloPSA comes from the environment, as an operator would set it.
    config["halopsa"] = { rateLimit: null, timeoutSeconds };
    const configFile = join(dir, "config.json");
    writeFileSync(configFile, JSON.stringify(config));
    return startBridgeProcess({
      cwd: dir,
      env: {
        SCIM_BRIDGE_DB: dbFile,
        SCIM_BRIDGE_CONFIG: configFile,
        SCIM_BRIDGE_SCIM_TOKEN: SCIM_TOKEN,
        SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
        HALOPSA_URL: sim.url,
        HALOPSA_CLIENT_ID: sim.clientId,
        HALOPSA_CLIENT_SECRET: sim.clientSecret,
        LOG_LEVEL: "info",
      },
    });
  }

  async function scim(p: BridgeProcess, method: string, path: string, body: unknown): Promise<any> {
    const res = await fetch(`${p.url}/scim/v2${path}`, {
      method,
      headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "Content-Type": "application/scim+json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    return JSON.parse(text);
  }

  const createUser = (p: BridgeProcess, email: string) =>
    scim(p, "POST", "/Users", { schemas: [CORE_USER], userName: email, active: true, name: { givenName: "Crash", familyName: "Test" }, emails: [{ primary: true, value: email }] });

  const onDisk = <T>(read: (db: Database.Database) => T): T => readFile(dbFile, read);

  const people = () => [...sim.state.agents.values()].filter((a) => !a.isapiagent);
  const pendingJobs = () => onDisk((db) => db.prepare("SELECT user_id FROM jobs ORDER BY user_id").pluck().all() as string[]);

  it("runs the jobs of SCIM writes answered just before a kill -9, once, after a restart", async () => {
    // HaloPSA never answers: no job can finish before the kill.
    sim.faults.hangNext(1_000_000);
    const bridge = await startProcess(1);
    const emails = ["crash.1@example.com", "crash.2@example.com", "crash.3@example.com"];
    const users = [];
    for (const email of emails) users.push(await createUser(bridge, email));
    await scim(bridge, "POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: AGENTS, members: users.map((u) => ({ value: u.id })) });
    await kill9(bridge.child);

    // Everything answered is on disk: the directory change and its jobs, committed together.
    const ids = users.map((u) => u.id as string).sort();
    expect(pendingJobs()).toEqual(ids);
    expect(onDisk((db) => db.prepare("SELECT count(*) FROM group_members").pluck().get())).toBe(3);
    expect(people()).toEqual([]);

    sim.faults.reset();
    await startProcess(1);
    await waitFor(() => emails.every((e) => people().some((a) => a.email === e)), 20_000, "an agent per user after the restart");
    await waitFor(() => pendingJobs().length === 0, 10_000, "an empty job queue");
    expect(people().map((a) => a.email).sort()).toEqual(emails);
    expect(onDisk((db) => db.prepare("SELECT user_id, state FROM app_accounts ORDER BY user_id").all())).toEqual(ids.map((user_id) => ({ user_id, state: "active" })));
  });

  it("makes no second agent when killed after HaloPSA saved the agent but before the answer arrived", async () => {
    // The create lands in HaloPSA; its answer never comes back (the bridge waits up to 30 s).
    sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Agent" } });
    const bridge = await startProcess(30);
    const email = "mid.flight@example.com";
    const user = await createUser(bridge, email);
    await scim(bridge, "POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: AGENTS, members: [{ value: user.id }] });
    const landed = await waitFor(() => people().find((a) => a.email === email), 10_000, "the agent saved in HaloPSA");
    await kill9(bridge.child);

    // The bridge never learned the agent's id: the job is still there, the map has no external id.
    expect(pendingJobs()).toEqual([user.id]);
    expect(onDisk((db) => db.prepare("SELECT external_id FROM app_accounts WHERE user_id = ?").pluck().get(user.id)) ?? null).toBeNull();

    await startProcess(30);
    // The dead process's lease (5 s) expires, the job is retaken, and the lookup by email finds the agent.
    await waitFor(() => pendingJobs().length === 0, 20_000, "the job retaken and finished after the lease expired");
    expect(people()).toHaveLength(1);
    expect(people()[0]).toMatchObject({ id: landed.id, email, isdisabled: false });
    expect(onDisk((db) => db.prepare("SELECT external_id, state FROM app_accounts WHERE user_id = ?").get(user.id))).toEqual({ external_id: String(landed.id), state: "active" });
  });
});
