/**
 * End-to-end provisioning rigs: a HaloPSA simulator on loopback and a real bridge pointed at it
 * through a config file (as an operator would write it), plus the few SCIM calls an IdP makes to
 * move people in and out of groups, and a polling `waitFor` (provisioning is asynchronous by
 * design: the SCIM answer never waits for HaloPSA, so tests poll for the outcome, never sleep).
 */
import { expect, onTestFinished } from "vitest";
import { startHaloPsaSimulator, type HaloPsaSimulator, type HaloPsaSimulatorOptions, type SimAgent } from "../../src/dev/halopsa-simulator.js";
import { ADMIN_TOKEN, startBridge, type ScimResult, type TestBridge } from "./bridge.js";
import { create, CORE_USER, patch } from "./scim.js";

/** The rules every rig starts with: admins beat agents (declared first in the app's roles). */
export const ADMINS = "HaloPSA Admins";
export const AGENTS = "HaloPSA Agents";

export interface RigOptions {
  /** Merged into the one HaloPSA app (mode, enforceDrift, staleLoginDays, reassignTicketsTo...). */
  readonly app?: Record<string, unknown>;
  /** Apps added after the HaloPSA app (a manual app with tickets...). */
  readonly extraApps?: readonly Record<string, unknown>[];
  /** Rules added after the two default ones. */
  readonly extraRules?: readonly Record<string, unknown>[];
  /** Merged into the provisioning section (maxAttempts, workerConcurrency...). */
  readonly provisioning?: Record<string, unknown>;
  /** HaloPSA request timeout; small so hang tests are quick (default 1 s). */
  readonly timeoutSeconds?: number;
  /** How long a create that got no answer may still land (default 0.3 s here, 120 s in production). */
  readonly createSettleSeconds?: number;
  readonly simulator?: HaloPsaSimulatorOptions;
  /** Merged into the halopsa section (ticketReadSeconds...). */
  readonly halopsa?: Record<string, unknown>;
}

/**
 * The config file of a rig: HaloPSA at `haloUrl`, rules "HaloPSA Admins" → admin (2nd Line) and
 * "HaloPSA Agents" → agent (1st Line), tickets of leavers to the Triage team, fast backoff, no
 * reconcile timer, no client-side rate limit (the simulator's is off too unless a test turns it on).
 */
export function rigConfig(halo: { url: string; clientId: string; clientSecret: string }, o: RigOptions = {}): Record<string, unknown> {
  return {
    apps: [
      {
        name: "halopsa",
        type: "halopsa",
        roles: [
          { name: "admin", haloRoles: ["Administrator"], teams: ["2nd Line"] },
          { name: "agent", haloRoles: ["Agent"], teams: ["1st Line"] },
        ],
        reassignTicketsTo: { team: "Triage" },
        ...o.app,
      },
      ...(o.extraApps ?? []),
    ],
    rules: [{ group: ADMINS, app: "halopsa", role: "admin" }, { group: AGENTS, app: "halopsa", role: "agent" }, ...(o.extraRules ?? [])],
    provisioning: {
      workerConcurrency: 4,
      maxAttempts: 5,
      backoffBaseSeconds: 0.05,
      maxBackoffSeconds: 0.5,
      leaseSeconds: 5,
      reconcileIntervalMinutes: 0,
      ...o.provisioning,
    },
    // A create that got no answer settles for 0.3 s here (120 s by default), so fault tests stay quick.
    halopsa: {
      rateLimit: null,
      ...o.halopsa,
      url: halo.url,
      clientId: halo.clientId,
      clientSecret: halo.clientSecret,
      timeoutSeconds: o.timeoutSeconds ?? 1,
      createSettleSeconds: o.createSettleSeconds ?? 0.3,
    },
  };
}

export interface AuditRecord {
  readonly seq: number;
  readonly actor: string;
  readonly requestId: string | null;
  readonly action: string;
  readonly resourceId: string | null;
  readonly after: any;
}

export interface JobRecord {
  readonly id: number;
  readonly userId: string;
  readonly attempts: number;
  readonly dead: boolean;
  readonly lastError: string | null;
}

export interface Rig {
  readonly sim: HaloPsaSimulator;
  readonly bridge: TestBridge;
  /** A request to /admin/api with the admin token; JSON in and out. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  createUser(userName: string, extra?: Record<string, unknown>): Promise<any>;
  createGroup(displayName: string, memberIds?: readonly string[], headers?: Record<string, string>): Promise<any>;
  addMembers(groupId: string, userIds: readonly string[], headers?: Record<string, string>): Promise<ScimResult>;
  removeMember(groupId: string, userId: string): Promise<ScimResult>;
  /** Every agent (API agent excluded) whose email is `email`, case-insensitively. */
  agentsWithEmail(email: string): SimAgent[];
  /** Waits until exactly one agent has `email` and `check` holds for it; returns it. */
  agentOnceReady(email: string, check?: (a: SimAgent) => boolean, timeoutMs?: number): Promise<SimAgent>;
  /** Agents that are people (the API agent the bridge signs in as excluded). */
  people(): SimAgent[];
  /** The audit log, oldest first, optionally only the given actions. */
  audit(...actions: string[]): AuditRecord[];
  jobs(): JobRecord[];
  /** Waits until no job is left (every provisioning pass done) and returns nothing. */
  idle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a simulator and a bridge configured for it. Close it (even on failure) with `rig.close()`. */
export async function startRig(o: RigOptions = {}): Promise<Rig> {
  const sim = await startHaloPsaSimulator({ rateLimit: null, ...o.simulator });
  let bridge: TestBridge;
  try {
    bridge = await startBridge({}, { configFile: rigConfig(sim, o) });
  } catch (e: unknown) {
    await sim.close();
    throw e;
  }
  const adminBase = bridge.running.url + "/admin/api";
  const people = () => [...sim.state.agents.values()].filter((a) => !a.isapiagent);
  const agentsWithEmail = (email: string) => people().filter((a) => a.email.toLowerCase() === email.toLowerCase());
  const db = bridge.running.db;
  const rig: Rig = {
    sim,
    bridge,
    async admin(method, path, body) {
      const res = await fetch(`${adminBase}${path}`, {
        method,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, text };
    },
    createUser: (userName, extra = {}) =>
      create(bridge, "Users", {
        schemas: [CORE_USER],
        userName,
        active: true,
        name: { givenName: "Given", familyName: "Family" },
        displayName: "Given Family",
        emails: [{ primary: true, type: "work", value: userName }],
        ...extra,
      }),
    createGroup: (displayName, memberIds = [], headers = {}) =>
      create(bridge, "Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName, members: memberIds.map((value) => ({ value })) }, headers),
    async addMembers(groupId, userIds, headers = {}) {
      const res = await bridge.scim("PATCH", `/Groups/${groupId}`, patch({ op: "add", path: "members", value: userIds.map((value) => ({ value })) }), headers);
      expect(res.status, res.text).toBe(204);
      return res;
    },
    async removeMember(groupId, userId) {
      const res = await bridge.scim("PATCH", `/Groups/${groupId}`, patch({ op: "remove", path: `members[value eq "${userId}"]` }));
      expect(res.status, res.text).toBe(204);
      return res;
    },
    agentsWithEmail,
    agentOnceReady: (email, check = () => true, timeoutMs = 10_000) =>
      waitFor(
        () => {
          const found = agentsWithEmail(email);
          if (found.length > 1) throw new Error(`${found.length} agents share ${email}: ${JSON.stringify(found.map((a) => a.id))}`);
          return found.length === 1 && check(found[0]!) ? found[0] : undefined;
        },
        timeoutMs,
        `one HaloPSA agent for ${email}`,
      ),
    people,
    audit: (...actions) => {
      const rows = db.prepare("SELECT seq, actor, request_id, action, resource_id, after FROM audit_events ORDER BY seq").all() as {
        seq: number;
        actor: string;
        request_id: string | null;
        action: string;
        resource_id: string | null;
        after: string | null;
      }[];
      return rows
        .filter((r) => actions.length === 0 || actions.includes(r.action))
        .map((r) => ({ seq: r.seq, actor: r.actor, requestId: r.request_id, action: r.action, resourceId: r.resource_id, after: r.after === null ? undefined : JSON.parse(r.after) }));
    },
    jobs: () =>
      (db.prepare("SELECT id, user_id, attempts, dead, last_error FROM jobs ORDER BY id").all() as { id: number; user_id: string; attempts: number; dead: number; last_error: string | null }[]).map(
        (r) => ({ id: r.id, userId: r.user_id, attempts: r.attempts, dead: r.dead === 1, lastError: r.last_error }),
      ),
    idle: async (timeoutMs = 10_000) => {
      await waitFor(() => rig.jobs().length === 0, timeoutMs, "an empty job queue");
    },
    async close() {
      // In-flight HaloPSA calls finish at once, so the worker's graceful stop does not wait on them.
      sim.faults.reset();
      try {
        await bridge.close();
      } finally {
        await sim.close();
      }
    },
  };
  return rig;
}

/** A rig for the current test only: closed when the test ends, pass or fail. */
export async function rigForTest(o: RigOptions = {}): Promise<Rig> {
  const rig = await startRig(o);
  onTestFinished(() => rig.close());
  return rig;
}

/**
 * Polls `predicate` every 20 ms until it returns a truthy value (returned) or `timeoutMs` passes.
 * A predicate that throws counts as "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T>(predicate: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
      lastError = undefined;
    } catch (e: unknown) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`waitFor: no ${what} within ${timeoutMs} ms${why}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
