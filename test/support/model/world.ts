/**
 * The real side of the model-based test: one HaloPSA simulator and one bridge (real SQLite file,
 * real HTTP on loopback) that can be restarted on the same file with another rule list, plus the
 * waits that make each step's outcome final before the next one (the bridge provisions
 * asynchronously; we poll, never sleep).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHaloPsaSimulator, type HaloPsaSimulator, type SimAgent } from "../../../src/dev/halopsa-simulator.js";
import { ADMIN_TOKEN, startBridge, type TestBridge } from "../bridge.js";
import { exchange, type HttpResult } from "../io.js";
import { rigConfig, waitFor } from "../provisioning.js";
import { CORE_GROUP } from "../scim.js";
import { GROUPS, RULE_SETS, type GroupName, type ModelConfig, type RuleSet, type Slot } from "./model.js";

/** Small, so hangs and late landings cost little; the late landing is set well past it. */
export const HALOPSA_TIMEOUT_SECONDS = 0.3;
/** How long any one step may take to settle: HaloPSA client retries back off 0.5 s, 1 s, 2 s… */
const SETTLE_MS = 30_000;

export type OutsideEdit = "disabled" | "renamed" | "deleted";

export interface IdentityRow {
  readonly userId: string;
  readonly externalId: string | null;
  readonly role: string | null;
  readonly state: string;
  /** The user holding the account or address this user was refused (a conflict), or null. */
  readonly conflictWith: string | null;
}

export interface DriftRecord {
  readonly kind: string;
  readonly externalId: string | null;
  readonly userId: string | null;
}

/** What the checks read once everything has settled. */
export interface Observation {
  readonly agents: readonly SimAgent[];
  readonly rows: readonly IdentityRow[];
  readonly directoryIds: ReadonlySet<string>;
  readonly drift: readonly DriftRecord[];
  readonly deadJobUsers: ReadonlySet<string>;
  readonly agentDeletes: number;
  readonly seededIds: ReadonlySet<number>;
  readonly outsideEdits: ReadonlyMap<number, OutsideEdit>;
}

export class ProvisioningWorld {
  /** SCIM ids of the two rule groups, created once at start. */
  readonly groupIds = new Map<GroupName, string>();
  /** Agents made by hand in HaloPSA before the bridge first started. */
  readonly seededIds = new Set<number>();
  /** Agents a HaloPSA admin changed behind the bridge's back, and how. */
  readonly outsideEdits = new Map<number, OutsideEdit>();
  /** The SCIM id each model slot holds now (a re-created slot gets a new one). */
  readonly scimIds = new Map<Slot, string>();

  private constructor(
    readonly sim: HaloPsaSimulator,
    private readonly dir: string,
    private readonly config: ModelConfig,
    private bridge: TestBridge,
  ) {}

  static async start(config: ModelConfig, seededEmails: readonly string[]): Promise<ProvisioningWorld> {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-model-"));
    const seeded = seededEmails.map((email) => sim.seedAgent({ email, firstname: "Hand", surname: "Made", team: "1st Line" }).id);
    let bridge: TestBridge;
    try {
      bridge = await startBridge({ LOG_LEVEL: "error" }, { configFile: ProvisioningWorld.configFor(sim, config, "standard"), dir });
    } catch (e: unknown) {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const world = new ProvisioningWorld(sim, dir, config, bridge);
    for (const id of seeded) world.seededIds.add(id);
    for (const displayName of GROUPS) {
      const res = await world.scim("POST", "/Groups", { schemas: [CORE_GROUP], displayName });
      if (res.status !== 201) throw new Error(`creating group ${displayName}: ${res.status} ${res.text}`);
      world.groupIds.set(displayName, res.body.id as string);
    }
    return world;
  }

  private static configFor(sim: HaloPsaSimulator, config: ModelConfig, rules: RuleSet): Record<string, unknown> {
    const base = rigConfig(sim, {
      app: { enforceDrift: config.enforceDrift, ssoEmailMustMatch: config.ssoEmailMustMatch },
      timeoutSeconds: HALOPSA_TIMEOUT_SECONDS,
      // Longer than a late landing takes (LAND_AFTER_MS): the settle time is what keeps a create
      // that landed after the client gave up from being made twice.
      createSettleSeconds: 2,
      // The model's invariants are about identity; holding destructive actions for a person is a
      // separate promise, proven in provisioning/approvals.test.ts. Here every action runs.
      provisioning: { approveRuleChanges: false, deprovisionLimit: { count: 0, windowMinutes: 60 } },
    });
    return { ...base, rules: RULE_SETS[rules].map((r) => ({ group: r.group, app: "halopsa", role: r.role })) };
  }

  scim(method: string, path: string, body?: unknown): Promise<HttpResult> {
    return this.bridge.scim(method, path, body);
  }

  admin(method: string, path: string): Promise<HttpResult> {
    return exchange(`${this.bridge.running.url}/admin/api${path}`, method, { Authorization: `Bearer ${ADMIN_TOKEN}` }, undefined, "application/json");
  }

  /** Closes the bridge and starts a new one on the same SQLite file and simulator. */
  async restart(rules: RuleSet): Promise<void> {
    await this.settle();
    await this.bridge.close();
    this.bridge = await startBridge({ LOG_LEVEL: "error" }, { configFile: ProvisioningWorld.configFor(this.sim, this.config, rules), dir: this.dir });
  }

  /**
   * Waits until every job has ended (done, or dead-lettered: a dead letter is an outcome the checks
   * look at) and no late HaloPSA write is still on its way.
   */
  async settle(): Promise<void> {
    const db = this.bridge.running.db;
    const open = db.prepare("SELECT count(*) FROM jobs WHERE dead = 0").pluck();
    await waitFor(() => open.get() === 0 && this.sim.faults.landingsPending === 0, SETTLE_MS, "a settled job queue and no late HaloPSA write");
  }

  /** The end of a sequence: HaloPSA healthy again, the queue settled, then two reconcile passes, each settled. */
  async settleWithReconcile(): Promise<void> {
    this.sim.faults.reset();
    await this.settle();
    for (let pass = 0; pass < 2; pass++) {
      const res = await this.admin("POST", "/reconcile");
      if (res.status !== 200) throw new Error(`reconcile: ${res.status} ${res.text}`);
      await this.settle();
    }
  }

  /** Enabled-or-not HaloPSA agents that are people (not the bridge's API agent), by folded address. */
  people(): SimAgent[] {
    return [...this.sim.state.agents.values()].filter((a) => !a.isapiagent);
  }

  /** The agent the identity map links to a user, if it still exists in HaloPSA. */
  linkedAgent(scimId: string): SimAgent | undefined {
    const externalId = this.bridge.running.db.prepare("SELECT external_id FROM app_accounts WHERE user_id = ? AND app = 'halopsa'").pluck().get(scimId) as string | null | undefined;
    return externalId == null ? undefined : this.sim.state.agents.get(Number(externalId));
  }

  async observe(): Promise<Observation> {
    const db = this.bridge.running.db;
    const drift = await this.admin("GET", "/drift");
    if (drift.status !== 200) throw new Error(`drift: ${drift.status} ${drift.text}`);
    const rows = (
      db.prepare("SELECT user_id, external_id, role, state, conflict_with FROM app_accounts WHERE app = 'halopsa' ORDER BY user_id").all() as {
        user_id: string;
        external_id: string | null;
        role: string | null;
        state: string;
        conflict_with: string | null;
      }[]
    ).map((r) => ({ userId: r.user_id, externalId: r.external_id, role: r.role, state: r.state, conflictWith: r.conflict_with }));
    return {
      agents: this.people().map((a) => structuredClone(a)),
      rows,
      directoryIds: new Set(db.prepare("SELECT id FROM users").pluck().all() as string[]),
      drift: (drift.body.items as DriftRecord[]).map((i) => ({ kind: i.kind, externalId: i.externalId, userId: i.userId })),
      deadJobUsers: new Set(db.prepare("SELECT user_id FROM jobs WHERE dead = 1").pluck().all() as string[]),
      agentDeletes: this.sim.agentDeletes.length,
      seededIds: new Set(this.seededIds),
      outsideEdits: new Map(this.outsideEdits),
    };
  }

  async close(): Promise<void> {
    this.sim.faults.reset();
    try {
      await this.bridge.close();
    } finally {
      await this.sim.close();
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
