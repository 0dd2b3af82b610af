/**
 * A Huntress simulator and a bridge configured for it (a YAML config file as an operator writes
 * it, real SQLite, real HTTP on loopback) for one test, with helpers that speak SCIM as Entra does
 * and wait for the job queue. Shared by the Huntress API mode and read-back verification tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished } from "vitest";
import { stringify } from "yaml";
import type { Task } from "../../src/domain/task.js";
import { startHuntressSimulator, type HuntressSimulator } from "../../src/dev/huntress-simulator.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { startBridge, type TestBridge } from "./bridge.js";
import { waitFor } from "./provisioning.js";
import { create, patch, userBody } from "./scim.js";

export const ADMINS = "Huntress Admins";
export const USERS = "Huntress Users";

export interface RigOptions {
  /** Merged into the huntress app entry (e.g. { type: "manual", template: "huntress" }). */
  readonly app?: Record<string, unknown>;
  /** Merged into the `huntress` config block. */
  readonly huntress?: Record<string, unknown>;
  /** Extra environment (wins over the defaults pointing at the simulator). */
  readonly env?: Record<string, string>;
  /** The huntress app's tasks also as tickets in a HaloPSA simulator (`tickets.halopsa` of the app). */
  readonly tickets?: Record<string, unknown>;
}

export interface Rig {
  readonly sim: HuntressSimulator;
  /** The HaloPSA simulator holding the tickets, when the rig was asked for `tickets`. */
  readonly halo: HaloPsaSimulator | undefined;
  readonly bridge: TestBridge;
  newUser(name: string): Promise<string>;
  join(userId: string, group: string): Promise<void>;
  leave(userId: string, group: string): Promise<void>;
  /** One PATCH that removes every one of `userIds` from the group. */
  leaveAll(userIds: readonly string[], group: string): Promise<void>;
  reconcile(): Promise<Awaited<ReturnType<TestBridge["running"]["reconciler"]["run"]>>>;
  account(userId: string): ReturnType<TestBridge["running"]["accounts"]["get"]>;
  open(userId: string): Task | undefined;
  tasks(userId: string): Task[];
  audit(...actions: string[]): { action: string; actor: string; resourceId: string | null; before: any; after: any }[];
}

/** A simulator and a bridge for the current test only, closed when it ends, pass or fail. */
export async function rig(o: RigOptions = {}): Promise<Rig> {
  const sim = await startHuntressSimulator();
  const halo = o.tickets ? await startHaloPsaSimulator({ rateLimit: null }) : undefined;
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-huntress-"));
  const file = join(dir, "bridge.yaml");
  writeFileSync(
    file,
    stringify({
      apps: [
        { name: "huntress", type: "huntress", ...o.app, ...(o.tickets ? { tickets: { halopsa: o.tickets } } : {}) },
        ...(halo ? [{ name: "halopsa", type: "halopsa", roles: [{ name: "agent", haloRoles: ["Agent"] }] }] : []),
      ],
      rules: [
        { group: ADMINS, app: "huntress", role: "admin" },
        { group: USERS, app: "huntress", role: "standard" },
      ],
      provisioning: { reconcileIntervalMinutes: 0, backoffBaseSeconds: 0.05, maxBackoffSeconds: 0.5 },
      huntress: { maxRetries: 1, timeoutSeconds: 2, ...o.huntress },
      // Tickets are read back when a test says so (ticketSync.readBack), not on a timer.
      ...(halo ? { halopsa: { url: halo.url, clientId: halo.clientId, clientSecret: halo.clientSecret, rateLimit: null, timeoutSeconds: 2, ticketReadSeconds: 3600 } } : {}),
    }),
  );
  const bridge = await startBridge({
    SCIM_BRIDGE_CONFIG: file,
    LOG_LEVEL: "debug",
    HUNTRESS_URL: sim.url,
    HUNTRESS_API_KEY: sim.apiKey,
    HUNTRESS_API_SECRET: sim.apiSecret,
    ...o.env,
  });
  onTestFinished(async () => {
    sim.faults.reset();
    try {
      await bridge.close();
    } finally {
      await sim.close();
      await halo?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const { running } = bridge;
  const groups: Record<string, string> = {};
  for (const name of [ADMINS, USERS]) groups[name] = (await create(bridge, "Groups", { displayName: name })).id;
  const idle = () => waitFor(() => (running.db.prepare("SELECT count(*) FROM jobs WHERE dead = 0").pluck().get() as number) === 0, 10_000, "an empty job queue");
  const member = async (userIds: string | readonly string[], group: string, op: "Add" | "Remove") => {
    const value = (typeof userIds === "string" ? [userIds] : userIds).map((id) => ({ value: id }));
    const r = await bridge.scim("PATCH", `/Groups/${groups[group]}`, patch({ op, path: "members", value }));
    expect(r.status, r.text).toBe(204);
    await idle();
  };
  return {
    sim,
    halo,
    bridge,
    async newUser(name) {
      const [given, family] = name.split(" ") as [string, string];
      const email = `${given.toLowerCase()}@example.com`;
      const body = userBody(email, { name: { givenName: given, familyName: family }, displayName: name, emails: [{ type: "work", value: email, primary: true }] });
      return (await create(bridge, "Users", body)).id;
    },
    join: (userId, group) => member(userId, group, "Add"),
    leave: (userId, group) => member(userId, group, "Remove"),
    leaveAll: (userIds, group) => member(userIds, group, "Remove"),
    async reconcile() {
      const report = await running.reconciler.run("test-reconcile");
      await idle();
      return report;
    },
    account: (userId) => running.accounts.get(userId, "huntress"),
    open: (userId) => running.tasks.openFor(userId, "huntress"),
    tasks: (userId) => running.tasks.list({ userId, app: "huntress" }),
    audit: (...actions) =>
      (running.db.prepare("SELECT action, actor, resource_id, before, after FROM audit_events ORDER BY seq").all() as { action: string; actor: string; resource_id: string | null; before: string | null; after: string | null }[])
        .filter((r) => actions.length === 0 || actions.includes(r.action))
        .map((r) => ({ action: r.action, actor: r.actor, resourceId: r.resource_id, before: r.before && JSON.parse(r.before), after: r.after && JSON.parse(r.after) })),
  };
}

/** A confirmed member: invited through the API, accepted, and confirmed by a reconcile pass. */
export async function confirmed(r: Rig, name: string, group: string): Promise<{ userId: string; membershipId: number }> {
  const userId = await r.newUser(name);
  await r.join(userId, group);
  const [m] = r.sim.acceptInvitation(`${name.split(" ")[0]!.toLowerCase()}@example.com`);
  await r.reconcile();
  expect(r.account(userId)).toMatchObject({ state: "active", externalId: String(m!.id) });
  return { userId, membershipId: m!.id };
}
