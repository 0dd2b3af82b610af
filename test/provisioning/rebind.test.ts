/**
 * `scim-bridge apps rebind` and `apps forget`, end to end: a bridge provisions against one HaloPSA
 * (a simulator over loopback), is pointed at another, and the admin settles the links made against
 * the first (docs/provisioning.md, "Instances"). The new instance must end with one enabled agent
 * per granted user, adopted where one exists, and the old instance's ids must never be used there.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCliAsync } from "../../src/cli.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { startBridge } from "../support/bridge.js";
import { ADMINS, AGENTS, rigConfig, rigForTest, waitFor, type Rig } from "../support/provisioning.js";
import Database from "better-sqlite3";

interface Row {
  user_id: string;
  instance: string;
  external_id: string | null;
  state: string;
}

/** Three users provisioned against the rig's simulator; the rig's bridge is then stopped. */
async function provisionedThenStopped(rig: Rig) {
  const alan = await rig.createUser("alan@example.com", { displayName: "Alan Turing" });
  const grace = await rig.createUser("grace@example.com", { displayName: "Grace Hopper" });
  const ken = await rig.createUser("ken@example.com", { displayName: "Ken Thompson" });
  await rig.createGroup(AGENTS, [alan.id, ken.id]);
  await rig.createGroup(ADMINS, [grace.id]);
  for (const email of ["alan@example.com", "grace@example.com", "ken@example.com"]) await rig.agentOnceReady(email);
  await rig.idle();
  await rig.bridge.running.close();
  return { alan: alan.id as string, grace: grace.id as string, ken: ken.id as string };
}

/** The CLI against the bridge's database, configured for `halo`. */
function cliFor(dbFile: string, halo: HaloPsaSimulator | { url: string; clientId: string; clientSecret: string }) {
  const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-rebind-")), "config.json");
  writeFileSync(file, JSON.stringify(rigConfig(halo)));
  const env = { SCIM_BRIDGE_CONFIG: file, SCIM_BRIDGE_DB: dbFile };
  return {
    file,
    async run(...args: string[]): Promise<{ code: number; out: string }> {
      const lines: string[] = [];
      const code = await runCliAsync(args, (l) => lines.push(l), env);
      return { code, out: lines.join("\n") };
    },
  };
}

/** One query on the bridge's SQLite file, on a connection of its own. */
function query<T>(dbFile: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

const rowsOf = (dbFile: string): Row[] => query<Row>(dbFile, "SELECT user_id, instance, external_id, state FROM app_accounts WHERE app = 'halopsa' ORDER BY user_id");

describe("apps rebind", () => {
  it("matches every link by email in the new instance (adopting disabled and differently-cased agents), drops the rest, and the next pass makes one agent each", async () => {
    const rig = await rigForTest();
    const ids = await provisionedThenStopped(rig);
    const dbFile = rig.bridge.dbFile;
    const oldIds = new Map(rowsOf(dbFile).map((r) => [r.user_id, r.external_id]));

    const other = await startHaloPsaSimulator({ rateLimit: null });
    try {
      // The new instance already has Alan (other case, other name) and a disabled Grace; no Ken.
      const alanThere = other.seedAgent({ name: "A. Turing", email: "ALAN@Example.com" });
      const graceThere = other.seedAgent({ name: "Grace Hopper", email: "grace@example.com", isdisabled: true });
      const cli = cliFor(dbFile, other);
      const before = rowsOf(dbFile);

      const dry = await cli.run("apps", "rebind", "halopsa", "--dry-run");
      expect(dry.code, dry.out).toBe(0);
      expect(dry.out).toContain(`alan@example.com [${ids.alan}]: ${oldIds.get(ids.alan)} in halopsa:${rig.sim.url.toLowerCase()}#tenant= → ${alanThere.id} (ALAN@Example.com, enabled)`);
      expect(dry.out).toContain(`grace@example.com [${ids.grace}]: ${oldIds.get(ids.grace)} in halopsa:`);
      expect(dry.out).toContain(`→ ${graceThere.id} (grace@example.com, disabled)`);
      expect(dry.out).toMatch(new RegExp(`ken@example.com \\[${ids.ken}\\]: .* → dropped \\(no account with this email`));
      expect(dry.out).toContain("halopsa: 2 link(s) matched");
      expect(dry.out).toContain("1 dropped");
      expect(dry.out).toContain("Dry run: nothing was changed.");
      expect(rowsOf(dbFile)).toEqual(before);
      expect(other.requestCount("POST", "/api/Agent")).toBe(0);

      const applied = await cli.run("apps", "rebind", "halopsa");
      expect(applied.code, applied.out).toBe(0);
      const instance = `halopsa:${other.url.toLowerCase()}#tenant=`;
      expect(rowsOf(dbFile)).toEqual(
        [
          { user_id: ids.alan, instance, external_id: String(alanThere.id), state: "active" },
          { user_id: ids.grace, instance, external_id: String(graceThere.id), state: "disabled" },
        ].sort((a, b) => a.user_id.localeCompare(b.user_id)),
      );
      const audit = query(dbFile, "SELECT actor, action, resource_id FROM audit_events WHERE action = 'apps.rebind'");
      expect(audit).toEqual([{ actor: "cli", action: "apps.rebind", resource_id: "halopsa" }]);
      expect(other.requestCount("POST", "/api/Agent")).toBe(0);

      // The bridge on the new instance: nothing foreign left; the queued pass brings each account to the rules.
      const bridge = await startBridge({ SCIM_BRIDGE_DB: dbFile }, { configFile: rigConfig(other) });
      try {
        expect(bridge.running.foreignLinks).toEqual([]);
        await waitFor(() => (bridge.running.db.prepare("SELECT count(*) FROM jobs").pluck().get() as number) === 0, 15_000, "an empty queue");
        const people = [...other.state.agents.values()].filter((a) => !a.isapiagent);
        expect(people.map((a) => [a.email.toLowerCase(), a.isdisabled]).sort()).toEqual([
          ["alan@example.com", false],
          ["grace@example.com", false],
          ["ken@example.com", false],
        ]);
        expect(other.state.agents.get(alanThere.id)).toMatchObject({ name: "Alan Turing", isdisabled: false });
        expect(other.state.agents.get(graceThere.id)?.roles.map((r) => r.name)).toEqual(["Administrator"]);
      } finally {
        await bridge.close();
      }
    } finally {
      await other.close();
    }
  });

  it("drops a link whose account in the new instance another user already holds, and refuses what it cannot do", async () => {
    const rig = await rigForTest();
    const ids = await provisionedThenStopped(rig);
    const dbFile = rig.bridge.dbFile;
    {
      // Nothing foreign yet: nothing to do.
      const same = await cliFor(dbFile, rig.sim).run("apps", "rebind", "halopsa");
      expect(same).toMatchObject({ code: 0, out: expect.stringContaining("every link belongs to the configured instance") });
      expect((await cliFor(dbFile, rig.sim).run("apps", "rebind", "nosuchapp")).code).toBe(2);

      // Unreachable instance: refused, nothing changed.
      const before = rowsOf(dbFile);
      const down = await cliFor(dbFile, { url: "http://127.0.0.1:9", clientId: "x", clientSecret: "y" }).run("apps", "rebind", "halopsa");
      expect(down.code, down.out).toBe(1);
      expect(down.out).toMatch(/could not read the configured instance .*Nothing was changed\./);
      expect(rowsOf(dbFile)).toEqual(before);

      // The new instance's agent for Ken is already linked to Alan there (a link made before): Ken's link is dropped, Alan's kept.
      const other = await startHaloPsaSimulator({ rateLimit: null });
      try {
        const kenThere = other.seedAgent({ name: "Ken Thompson", email: "ken@example.com" });
        const instance = `halopsa:${other.url.toLowerCase()}#tenant=`;
        query(dbFile, "UPDATE app_accounts SET instance = ?, external_id = ?, external_key = ? WHERE user_id = ? RETURNING user_id", instance, String(kenThere.id), String(kenThere.id), ids.alan);
        const out = await cliFor(dbFile, other).run("apps", "rebind", "halopsa");
        expect(out.code, out.out).toBe(0);
        expect(out.out).toContain(`account ${kenThere.id} is linked to user ${ids.alan}: the next pass ends in a conflict`);
        expect(rowsOf(dbFile).map((r) => r.user_id).sort()).toEqual([ids.alan].sort());
      } finally {
        await other.close();
      }
    }
  });
});

describe("apps forget", () => {
  it("drops every link made against another instance after showing them; the next pass adopts by email or creates", async () => {
    const rig = await rigForTest();
    const ids = await provisionedThenStopped(rig);
    const dbFile = rig.bridge.dbFile;
    const other = await startHaloPsaSimulator({ rateLimit: null });
    try {
      const alanThere = other.seedAgent({ name: "Alan Turing", email: "alan@example.com" });
      const cli = cliFor(dbFile, other);
      const dry = await cli.run("apps", "forget", "halopsa", "--dry-run");
      expect(dry.code, dry.out).toBe(0);
      for (const id of Object.values(ids)) expect(dry.out).toContain(`[${id}]`);
      expect(dry.out).toContain("0 link(s) matched");
      expect(rowsOf(dbFile)).toHaveLength(3);

      expect((await cli.run("apps", "forget", "halopsa")).code).toBe(0);
      expect(rowsOf(dbFile)).toEqual([]);
      const bridge = await startBridge({ SCIM_BRIDGE_DB: dbFile }, { configFile: rigConfig(other) });
      try {
        await waitFor(() => (bridge.running.db.prepare("SELECT count(*) FROM jobs").pluck().get() as number) === 0, 15_000, "an empty queue");
        const people = [...other.state.agents.values()].filter((a) => !a.isapiagent);
        expect(people.map((a) => a.email).sort()).toEqual(["alan@example.com", "grace@example.com", "ken@example.com"]);
        expect(other.state.agents.get(alanThere.id)?.isdisabled).toBe(false);
      } finally {
        await bridge.close();
      }
    } finally {
      await other.close();
    }
  });
});
