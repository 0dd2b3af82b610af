/**
 * Issue 5, Faults: `kill -9` in the middle of a burst of SCIM writes. Thirty IdP connections each
 * create a user, add it to a mapped group and rename it, all at once; the bridge (a real child
 * process) is killed while many of those requests are in flight and HaloPSA calls are under way.
 * Whatever was answered 2xx must be on disk, whatever was not answered must be all there or not
 * there at all (directory row, emails, membership and audit event agree), and after a restart on
 * the same file every member of the mapped group ends as exactly one HaloPSA agent.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { startHaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { kill9, onDisk, startBridgeProcess, type BridgeProcess } from "../support/child-bridge.js";
import { AGENTS, rigConfig, waitFor } from "../support/provisioning.js";
import { CORE_USER, patch } from "../support/scim.js";

const CONNECTIONS = 30;
const USERS = 150;
/** Answers to wait for before the kill: about a third of the burst's requests. */
const KILL_AFTER_ANSWERS = 150;

type Outcome = { status: number } | { status: "no answer" };

interface Chain {
  readonly email: string;
  id?: string;
  create?: Outcome;
  join?: Outcome;
  rename?: Outcome;
}

const answered2xx = (o: Outcome | undefined): boolean => o !== undefined && typeof o.status === "number" && o.status >= 200 && o.status < 300;

describe("kill -9 during a SCIM write burst", () => {
  it("keeps every answered write, no half-applied one, and provisions every member once after the restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-burst-"));
    const dbFile = join(dir, "bridge.db");
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    onTestFinished(async () => {
      sim.faults.reset();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // Slow HaloPSA answers keep provisioning jobs in flight at the moment of the kill.
    sim.faults.latencyMs = 40;
    const configFile = join(dir, "config.json");
    writeFileSync(configFile, JSON.stringify(rigConfig(sim, { timeoutSeconds: 5 })));
    const start = () =>
      startBridgeProcess({
        cwd: dir,
        env: { SCIM_BRIDGE_DB: dbFile, SCIM_BRIDGE_CONFIG: configFile, SCIM_BRIDGE_SCIM_TOKEN: SCIM_TOKEN, SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: "warn" },
      });

    const bridge = await start();
    const group = await bridge.scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: AGENTS });
    expect(group.status, group.text).toBe(201);
    const groupId = group.body.id as string;

    const chains: Chain[] = Array.from({ length: USERS }, (_, i) => ({ email: `burst.${i}@example.com` }));
    let answers = 0;
    let killed: Promise<void> | undefined;
    const send = async (p: BridgeProcess, method: string, path: string, body: unknown): Promise<{ outcome: Outcome; body: any }> => {
      try {
        const res = await p.scim(method, path, body);
        if (++answers >= KILL_AFTER_ANSWERS) killed ??= kill9(p.child);
        return { outcome: { status: res.status }, body: res.body };
      } catch {
        return { outcome: { status: "no answer" }, body: undefined };
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (let i = next++; i < USERS; i = next++) {
          const c = chains[i]!;
          const created = await send(bridge, "POST", "/Users", { schemas: [CORE_USER], userName: c.email, displayName: `Burst ${i}`, active: true, name: { givenName: "Burst", familyName: String(i) }, emails: [{ primary: true, type: "work", value: c.email }] });
          c.create = created.outcome;
          if (!answered2xx(c.create)) continue;
          c.id = created.body.id as string;
          c.join = (await send(bridge, "PATCH", `/Groups/${groupId}`, patch({ op: "Add", path: "members", value: [{ value: c.id }] }))).outcome;
          if (!answered2xx(c.join)) continue;
          c.rename = (await send(bridge, "PATCH", `/Users/${c.id}`, patch({ op: "Replace", path: "displayName", value: `Burst ${i} renamed` }))).outcome;
        }
      }),
    );
    await killed;
    // The kill landed mid-burst: some requests were answered, some were cut off.
    const cutOff = chains.flatMap((c) => [c.create, c.join, c.rename]).filter((o) => o?.status === "no answer").length;
    expect(answers).toBeGreaterThanOrEqual(KILL_AFTER_ANSWERS);
    expect(cutOff).toBeGreaterThan(0);
    // Nothing other than success or a cut connection: a 5xx during the burst would be a bug too.
    for (const c of chains) for (const o of [c.create, c.join, c.rename]) if (o && o.status !== "no answer") expect(answered2xx(o), `${c.email}: ${o.status}`).toBe(true);

    const disk = onDisk(dbFile, (db) => ({
      integrity: db.pragma("integrity_check", { simple: true }),
      users: db.prepare("SELECT id, user_name, data FROM users").all() as { id: string; user_name: string; data: string }[],
      emails: db.prepare("SELECT u.user_name, e.value_key FROM user_emails e JOIN users u ON u.pk = e.user_pk").all() as { user_name: string; value_key: string }[],
      members: db.prepare("SELECT u.id FROM group_members m JOIN users u ON u.pk = m.user_pk").pluck().all() as string[],
      audit: db.prepare("SELECT action, resource_id, after FROM audit_events").all() as { action: string; resource_id: string; after: string | null }[],
    }));
    expect(disk.integrity).toBe("ok");
    const userByName = new Map(disk.users.map((u) => [u.user_name, u]));
    const members = new Set(disk.members);
    const created = new Map(disk.audit.filter((a) => a.action === "user.create").map((a) => [a.resource_id, a]));
    const joined = new Set(disk.audit.filter((a) => a.action === "group.patch").flatMap((a) => JSON.parse(a.after!).membersAdded as string[]));
    const renamed = new Set(disk.audit.filter((a) => a.action === "user.patch").map((a) => a.resource_id));
    for (const c of chains) {
      const row = userByName.get(c.email);
      if (answered2xx(c.create)) expect(row?.id, `${c.email} was answered 201`).toBe(c.id);
      if (answered2xx(c.join)) expect(members.has(c.id!), `${c.email} joined with 204`).toBe(true);
      if (answered2xx(c.rename)) expect(JSON.parse(row!.data).displayName, `${c.email} renamed with 2xx`).toMatch(/renamed$/);
      // All or nothing: each change is on disk together with its audit event, or neither is.
      if (row === undefined) {
        expect([...created.values()].some((a) => JSON.parse(a.after!).userName === c.email), `${c.email}: an audit event without its user`).toBe(false);
        continue;
      }
      expect(created.has(row.id), `${c.email}: a user without its audit event`).toBe(true);
      expect(disk.emails.filter((e) => e.user_name === c.email).map((e) => e.value_key)).toEqual([c.email]);
      expect(members.has(row.id), `${c.email}: membership and its audit event agree`).toBe(joined.has(row.id));
      expect(JSON.parse(row.data).displayName.endsWith("renamed"), `${c.email}: rename and its audit event agree`).toBe(renamed.has(row.id));
    }
    expect(disk.users).toHaveLength(chains.filter((c) => userByName.has(c.email)).length);

    // Restart on the same file: the queued and interrupted jobs run, once each.
    await start();
    const queue = () => onDisk(dbFile, (db) => db.prepare("SELECT count(*) AS pending, coalesce(sum(dead), 0) AS dead FROM jobs").get() as { pending: number; dead: number });
    await waitFor(() => queue().pending === 0, 30_000, "an empty job queue after the restart");
    expect(queue().dead).toBe(0);
    const people = [...sim.state.agents.values()].filter((a) => !a.isapiagent);
    const wanted = disk.users.filter((u) => members.has(u.id)).map((u) => u.user_name).sort();
    expect(wanted.length).toBeGreaterThan(0);
    expect(people.map((a) => a.email).sort()).toEqual(wanted);
    expect(people.every((a) => !a.isdisabled)).toBe(true);
  }, 90_000);
});
