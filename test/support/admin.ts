/**
 * A bridge with manual apps, for the admin API, CLI and contract tests: Huntress and an invite
 * portal declared in a YAML config file (as an operator writes it), groups created through SCIM the
 * way Entra does, the admin token from the environment, a reviewer token issued with the CLI, and
 * requests over HTTP on loopback.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { runCli } from "../../src/cli.js";
import { ADMIN_TOKEN, SCIM_TOKEN, startBridge, type TestBridge } from "./bridge.js";
import { waitFor } from "./provisioning.js";
import { CORE_GROUP, CORE_USER, ENTERPRISE, MS_GROUP, PATCH_OP } from "./scim.js";
import { exchange, type HttpResult } from "./io.js";

/** The name the CLI gives the reviewer token. */
export const REVIEWER_NAME = "rita-reviewer";
/** The actor recorded for what the reviewer does (src/auth/actors.ts). */
export const REVIEWER_ACTOR = `token:${REVIEWER_NAME}`;
/** The name the bridge gives the admin token from SCIM_BRIDGE_ADMIN_TOKEN. */
export const ADMIN_NAME = "env:SCIM_BRIDGE_ADMIN_TOKEN";

export const GROUPS = ["Huntress Admins", "Huntress Users", "Portal Users"] as const;
export type GroupName = (typeof GROUPS)[number] | "HaloPSA Agents" | "HaloPSA Broken";

export interface TaskBridgeOptions {
  /** The portal's SLA; tiny values make its tasks overdue at once. */
  readonly portalSlaHours?: number;
  /**
   * Adds a HaloPSA app (the built-in simulator) with "HaloPSA Agents" → agent, and "HaloPSA Broken"
   * → a team HaloPSA lacks, which dead-letters at once: seats, reconcile and retry get real answers.
   */
  readonly haloPsa?: boolean;
}

function configYaml(o: TaskBridgeOptions): string {
  const halo = o.haloPsa
    ? `
  - name: halopsa
    type: halopsa
    roles:
      - { name: admin, haloRoles: [Administrator], teams: [2nd Line] }
      - { name: agent, haloRoles: [Agent], teams: [1st Line] }`
    : "";
  const haloRules = o.haloPsa
    ? `
  - { group: HaloPSA Agents, app: halopsa, role: agent }
  - { group: HaloPSA Broken, app: halopsa, role: agent, settings: { teams: [No Such Team] } }`
    : "";
  return `
apps:
  - { name: huntress, type: manual, template: huntress, slaHours: 24 }
  - { name: portal, type: manual, template: invite-portal, portalUrl: "https://log360.example.com", slaHours: ${o.portalSlaHours ?? 24} }${halo}
rules:
  - { group: Huntress Admins, app: huntress, role: admin }
  - { group: Huntress Users, app: huntress, role: standard }
  - { group: Portal Users, app: portal, role: user }${haloRules}
provisioning: { reconcileIntervalMinutes: 0, maxAttempts: 3, backoffBaseSeconds: 0.05, maxBackoffSeconds: 0.2 }
halopsa: { rateLimit: null, timeoutSeconds: 5 }
`;
}

export type ApiResult = HttpResult;

export type Send = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResult>;

export interface TaskBridge {
  readonly bridge: TestBridge;
  /** Environment for runCli against this bridge's database and config. */
  readonly cliEnv: Record<string, string>;
  readonly reviewerToken: string;
  /** A request to /admin/api with `token` (null: no Authorization header). A string body is sent as is. */
  request(token: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResult>;
  readonly admin: Send;
  readonly reviewer: Send;
  readonly asScim: Send;
  /** Creates a user the way Entra does (core + enterprise schemas, work email, externalId); returns its SCIM id. */
  newUser(displayName: string): Promise<string>;
  groupId(name: GroupName): string;
  joinGroup(userId: string, group: GroupName): Promise<void>;
  leaveGroup(userId: string, group: GroupName): Promise<void>;
  /** Waits until the worker has applied everything queued (dead letters aside). */
  settle(): Promise<void>;
  cli(...args: string[]): { code: number; out: string };
  close(): Promise<void>;
}

export async function startTaskBridge(o: TaskBridgeOptions = {}): Promise<TaskBridge> {
  const configFile = join(mkdtempSync(join(tmpdir(), "scim-bridge-admin-")), "bridge.yaml");
  writeFileSync(configFile, configYaml(o));
  const bridge = await startBridge({ SCIM_BRIDGE_CONFIG: configFile });
  const cliEnv = { SCIM_BRIDGE_CONFIG: configFile, SCIM_BRIDGE_DB: bridge.dbFile };
  const cli = (...args: string[]) => {
    const lines: string[] = [];
    const code = runCli(args, (l) => lines.push(l), cliEnv);
    return { code, out: lines.join("\n") };
  };
  const issued = cli("token", "create", "--scope", "reviewer", "--name", REVIEWER_NAME);
  expect(issued.code, issued.out).toBe(0);
  const reviewerToken = issued.out.split("\n")[1]!;

  const request = (token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult> =>
    exchange(`${bridge.running.url}/admin/api${path}`, method, { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), ...headers }, body, "application/json");

  const groups = new Map<string, string>();
  const allGroups: GroupName[] = [...GROUPS, ...(o.haloPsa ? (["HaloPSA Agents", "HaloPSA Broken"] as const) : [])];
  for (const displayName of allGroups) {
    // Entra's group POST carries its own schema URN and no members.
    const r = await bridge.scim("POST", "/Groups", { schemas: [CORE_GROUP, MS_GROUP], externalId: `entra-${displayName}`, displayName, members: [] });
    expect(r.status, r.text).toBe(201);
    groups.set(displayName, r.body.id as string);
  }
  const groupId = (name: GroupName) => {
    const id = groups.get(name);
    if (!id) throw new Error(`no group ${name} in this bridge`);
    return id;
  };

  const settle = async () => {
    await bridge.running.worker.drain();
    await waitFor(() => (bridge.running.db.prepare("SELECT count(*) FROM jobs WHERE dead = 0").pluck().get() as number) === 0, 10_000, "an idle worker");
  };

  return {
    bridge,
    cliEnv,
    reviewerToken,
    request,
    admin: (method, path, body, headers) => request(ADMIN_TOKEN, method, path, body, headers),
    reviewer: (method, path, body, headers) => request(reviewerToken, method, path, body, headers),
    asScim: (method, path, body, headers) => request(SCIM_TOKEN, method, path, body, headers),
    async newUser(displayName) {
      const [given = "", family = ""] = displayName.split(" ");
      const email = `${given.toLowerCase()}.${family.toLowerCase()}@example.com`;
      const r = await bridge.scim("POST", "/Users", {
        schemas: [CORE_USER, ENTERPRISE],
        externalId: `entra-${email}`,
        userName: email,
        active: true,
        displayName,
        emails: [{ primary: true, type: "work", value: email }],
        name: { formatted: displayName, familyName: family, givenName: given },
        [ENTERPRISE]: { department: "Security Operations" },
      });
      expect(r.status, r.text).toBe(201);
      return r.body.id as string;
    },
    groupId,
    async joinGroup(userId, group) {
      // Entra's default PATCH dialect: capitalised op, members as a value list.
      const r = await bridge.scim("PATCH", `/Groups/${groupId(group)}`, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "members", value: [{ value: userId }] }] });
      expect(r.status, r.text).toBe(204);
      await settle();
    },
    async leaveGroup(userId, group) {
      const r = await bridge.scim("PATCH", `/Groups/${groupId(group)}`, { schemas: [PATCH_OP], Operations: [{ op: "Remove", path: "members", value: [{ $ref: null, value: userId }] }] });
      expect(r.status, r.text).toBe(204);
      await settle();
    },
    settle,
    cli,
    close: () => bridge.close(),
  };
}
