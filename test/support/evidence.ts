/**
 * A bridge for offboarding evidence: the HaloPSA simulator on loopback (API deactivations) and a
 * manual Huntress app (removal tasks a reviewer completes), on a real SQLite file, with a clock the
 * test sets, so a scripted history has known times. The worker runs for real; the clock only moves
 * when the test moves it (a failed job's retry waits until then).
 */
import { join } from "node:path";
import { expect, onTestFinished } from "vitest";
import { runCli } from "../../src/cli.js";
import type { Clock } from "../../src/clock.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { ADMIN_TOKEN, startBridge, type TestBridge } from "./bridge.js";
import { exchange, type HttpResult } from "./io.js";
import { AGENTS, rigConfig, waitFor } from "./provisioning.js";
import { CORE_GROUP, CORE_USER, patch } from "./scim.js";

export const HUNTRESS_USERS = "Huntress Users";
export const REVIEWER = "rita-reviewer";

export interface EvidenceBridge {
  readonly bridge: TestBridge;
  readonly sim: HaloPsaSimulator;
  readonly reviewerToken: string;
  /** Moves the bridge's clock to `iso`. */
  setTime(iso: string): void;
  admin(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult>;
  reviewer(method: string, path: string, body?: unknown): Promise<HttpResult>;
  /** A SCIM request carrying `requestId` as X-Request-Id (the id the audit log records). */
  scim(method: string, path: string, body: unknown, requestId: string): Promise<HttpResult>;
  newUser(userName: string): Promise<string>;
  groupId(name: string): string;
  join(userId: string, group: string, requestId?: string): Promise<void>;
  leave(userId: string, group: string, requestId: string): Promise<void>;
  /** The user's open or blocked task in the app. */
  openTask(userId: string, app: string): number;
  /** Completes a task as the reviewer and waits for the follow-up pass. */
  complete(taskId: number, note?: string): Promise<void>;
  /** Waits until every job not waiting for a retry has run. */
  settle(): Promise<void>;
}

/** `provisioning` is merged into the config's provisioning section (a deprovision limit, say). */
export async function startEvidenceBridge(startAt: string, provisioning: Record<string, unknown> = {}): Promise<EvidenceBridge> {
  let now = Date.parse(startAt);
  const clock: Clock = { now: () => new Date(now) };
  const sim = await startHaloPsaSimulator({ rateLimit: null });
  onTestFinished(() => sim.close());
  const config = rigConfig(sim, { provisioning: { maxAttempts: 10, ...provisioning } }) as { apps: unknown[]; rules: unknown[] };
  config.apps.push({ name: "huntress", type: "manual", template: "huntress", slaHours: 24 });
  config.rules.push({ group: HUNTRESS_USERS, app: "huntress", role: "standard" });
  const bridge = await startBridge({}, { configFile: config, clock });
  onTestFinished(async () => {
    sim.faults.reset();
    await bridge.close();
  });
  const lines: string[] = [];
  const issued = runCli(["token", "create", "--scope", "reviewer", "--name", REVIEWER], (l) => lines.push(l), {
    SCIM_BRIDGE_CONFIG: join(bridge.dir, "config.json"),
    SCIM_BRIDGE_DB: bridge.dbFile,
  });
  expect(issued, lines.join("\n")).toBe(0);
  const reviewerToken = lines[1]!;
  const db = bridge.running.db;
  const api = (token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    exchange(`${bridge.running.url}/admin/api${path}`, method, { Authorization: `Bearer ${token}`, ...headers }, body, "application/json");
  const scim = (method: string, path: string, body: unknown, requestId: string) => bridge.scim(method, path, body, { "X-Request-Id": requestId });
  const settle = async () => {
    await bridge.running.worker.drain();
    // Ready or running jobs; one backing off after a failure waits for the test to move the clock.
    const at = () => new Date(now).toISOString();
    await waitFor(() => (db.prepare("SELECT count(*) FROM jobs WHERE dead = 0 AND (run_at <= ? OR locked_until > ?)").pluck().get(at(), at()) as number) === 0, 10_000, "an idle worker");
  };
  const groups = new Map<string, string>();
  for (const displayName of [AGENTS, HUNTRESS_USERS]) {
    const r = await scim("POST", "/Groups", { schemas: [CORE_GROUP], displayName, members: [] }, `okta-group-${groups.size}`);
    expect(r.status, r.text).toBe(201);
    groups.set(displayName, r.body.id as string);
  }
  const groupId = (name: string) => groups.get(name)!;
  const e: EvidenceBridge = {
    bridge,
    sim,
    reviewerToken,
    setTime: (iso) => void (now = Date.parse(iso)),
    admin: (method, path, body, headers) => api(ADMIN_TOKEN, method, path, body, headers),
    reviewer: (method, path, body) => api(reviewerToken, method, path, body),
    scim,
    async newUser(userName) {
      const [given = "", family = ""] = userName.split("@")[0]!.split(".");
      const r = await scim(
        "POST",
        "/Users",
        { schemas: [CORE_USER], userName, active: true, name: { givenName: given, familyName: family }, displayName: `${given} ${family}`, emails: [{ primary: true, type: "work", value: userName }] },
        `okta-create-${given}`,
      );
      expect(r.status, r.text).toBe(201);
      return r.body.id as string;
    },
    groupId,
    async join(userId, group, requestId = `okta-join-${userId}`) {
      const r = await scim("PATCH", `/Groups/${groupId(group)}`, patch({ op: "add", path: "members", value: [{ value: userId }] }), requestId);
      expect(r.status, r.text).toBe(204);
      await settle();
    },
    async leave(userId, group, requestId) {
      const r = await scim("PATCH", `/Groups/${groupId(group)}`, patch({ op: "remove", path: `members[value eq "${userId}"]` }), requestId);
      expect(r.status, r.text).toBe(204);
      await settle();
    },
    openTask(userId, app) {
      const id = db.prepare("SELECT id FROM tasks WHERE user_id = ? AND app = ? AND state IN ('open', 'blocked')").pluck().get(userId, app) as number | undefined;
      if (id === undefined) throw new Error(`no open task for ${userId} in ${app}`);
      return id;
    },
    async complete(taskId, note) {
      const r = await api(reviewerToken, "POST", `/tasks/${taskId}/complete`, note === undefined ? {} : { note });
      expect(r.status, r.text).toBe(200);
      await settle();
    },
    settle,
  };
  return e;
}
