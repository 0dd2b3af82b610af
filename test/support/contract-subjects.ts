/**
 * The connectors the contract suite (test/apps/connector-contract.test.ts) runs against, each
 * with its app as the tests observe it: HaloPSA and Huntress through their simulators over real
 * loopback HTTP, the manual connector through the task queue a person works. Each subject says
 * how to count the accounts the app holds for a person, what happens outside the bridge once it
 * asked for something (an invitation accepted, a task done), and how to make the app fail. What a
 * subject cannot offer is left out here; the suite's table says why.
 */
import { HaloPsaClient } from "../../src/apps/halopsa/client.js";
import { HaloPsaConnector } from "../../src/apps/halopsa/connector.js";
import { HuntressApiConnector } from "../../src/apps/huntress/api-connector.js";
import { HuntressClient } from "../../src/apps/huntress/client.js";
import { ManualConnector } from "../../src/apps/manual/connector.js";
import type { ApplyResult, Connector } from "../../src/domain/connector.js";
import type { AppAccount, WantedAccess } from "../../src/domain/model.js";
import { startHaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { startHuntressSimulator } from "../../src/dev/huntress-simulator.js";
import type { FaultMatch, SimFaults } from "../../src/dev/sim/faults.js";
import type { HuntressAppConfig } from "../../src/apps/huntress/app-type.js";
import type { ManualAppConfig } from "../../src/apps/manual/app-type.js";
import { appSchema } from "../../src/provisioning/config-schema.js";
import { ContractWorker } from "./contract-worker.js";
import { capturingLogger } from "./io.js";

/** How to make the app's next account writes fail (create's write, and whatever the client retries). */
export interface FaultHooks {
  /** The next writes answer `status` (a 5xx, or a 4xx refusal). */
  fail(status: number): void;
  /** The next writes are refused as over the rate limit. */
  rateLimit(): void;
  /** The next writes never get an answer (the client times out). */
  hang(): void;
  reset(): void;
  /**
   * How the connector reports a failure: `throws` a ConnectorError for the worker to retry or not;
   * `fallsBack` to a manual task whose first step says why, after its client retried what a retry
   * can help (docs/manual-tasks.md, Huntress API mode).
   */
  readonly reports: "throws" | "fallsBack";
  /** Retries the client makes after the first attempt. */
  readonly maxRetries: number;
}

export interface ContractSubject {
  readonly name: string;
  readonly connector: Connector;
  readonly worker: ContractWorker;
  /** What the rules grant the person in this app. */
  wanted(email: string): WantedAccess;
  /** Accounts the app holds for the person: agents, memberships and invitations, or invitation tasks raised. */
  accountsOf(userId: string, email: string): number;
  /** The app's own identity for the person's account, compared across deactivate and reactivate. */
  identityOf(userId: string, email: string): unknown;
  /** What happens outside the bridge after an action: an invitation accepted and read back, a task done. */
  settle(userId: string, email: string): Promise<void>;
  /** An identity-map row for an account the app never had. */
  neverCreated(userId: string, email: string): AppAccount;
  /** Deletes the person's account in the app behind the bridge's back. */
  readonly deleteOutside?: (userId: string) => void;
  /** The outcome of a deactivate says the account was not there (beyond `state: "removed"`). */
  saysAbsent(result: ApplyResult): boolean;
  readonly faults?: FaultHooks;
  close(): Promise<void>;
}

const { log } = capturingLogger("error");
const profileOf = (email: string) => ({ userName: email, email, givenName: "Ada", familyName: "Lovelace", displayName: "Ada Lovelace" });
const grant = (app: string, role: string, email: string, settings: Record<string, unknown> = {}): WantedAccess => ({
  app,
  role,
  settings,
  profile: profileOf(email),
  reasons: [{ rule: 0, group: "Contract", role }],
});

/** A row the identity map may hold for this person; fields a test does not care about are blank. */
export function accountRow(o: Pick<AppAccount, "userId" | "app" | "externalId" | "state" | "role"> & { email: string }): AppAccount {
  const { email, ...rest } = o;
  return { ...rest, profile: profileOf(email), settings: {}, createdByBridge: true, instance: "", lastSyncAt: null, lastError: null, conflictWith: null, createUnsettledAt: null, releasedAt: null };
}

/** Client settings for every simulator: fast timeouts and backoff, one retry, no client-side rate limit. */
const CLIENT = { log, rateLimit: null, timeoutMs: 200, maxRetries: 1, backoff: { baseMs: 5, maxMs: 20 } } as const;
/** A simulator's fault switches aimed at the requests that create accounts (a burst long enough to outlast every retry). */
function faultHooks(faults: SimFaults<unknown, object>, creates: FaultMatch, reports: FaultHooks["reports"]): FaultHooks {
  return {
    reports,
    maxRetries: CLIENT.maxRetries,
    fail: (status) => faults.failNext(10, { status, match: creates }),
    rateLimit: () => faults.rateLimitNext(10, { match: creates }),
    hang: () => faults.hangNext(10, { match: creates }),
    reset: () => faults.reset(),
  };
}

const hasEvent = (r: ApplyResult, action: string): boolean => (r.events ?? []).some((e) => e.action === action);

export async function haloPsaSubject(): Promise<ContractSubject> {
  const sim = await startHaloPsaSimulator({ rateLimit: null });
  const client = new HaloPsaClient({ ...CLIENT, baseUrl: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret });
  const connector = new HaloPsaConnector({
    app: "halopsa",
    client,
    roles: { agent: { haloRoles: ["Agent"] } },
    reassignTicketsTo: { team: "Triage" },
    ssoEmailMustMatch: false,
    log,
    instance: `halopsa:${sim.url}`,
  });
  const worker = new ContractWorker(connector, []);
  const agentsOf = (email: string) => [...sim.state.agents.values()].filter((a) => a.email.toLowerCase() === email.toLowerCase());
  return {
    name: "HaloPsaConnector (HaloPSA simulator)",
    connector,
    worker,
    wanted: (email) => grant("halopsa", "agent", email, { teams: ["1st Line"] }),
    accountsOf: (_userId, email) => agentsOf(email).length,
    identityOf: (_userId, email) => agentsOf(email).map((a) => a.id),
    settle: () => Promise.resolve(),
    neverCreated: (userId, email) => accountRow({ userId, app: "halopsa", externalId: "990001", state: "active", role: "agent", email }),
    deleteOutside: (userId) => void sim.state.agents.delete(Number(worker.row(userId)!.externalId)),
    saysAbsent: (r) => hasEvent(r, "halopsa.agent-missing"),
    faults: faultHooks(sim.faults, { method: "POST", path: "/api/Agent" }, "throws"),
    async close() {
      worker.close();
      await sim.close();
    },
  };
}

/** An app as the config file declares it. */
const manualApp = (o: Record<string, unknown>): ManualAppConfig => appSchema.parse({ type: "manual", ...o }) as ManualAppConfig;
const huntressApp = (o: Record<string, unknown>): HuntressAppConfig => appSchema.parse({ type: "huntress", ...o }) as HuntressAppConfig;

export async function huntressApiSubject(): Promise<ContractSubject> {
  const sim = await startHuntressSimulator({ rateLimit: null });
  const client = new HuntressClient({ ...CLIENT, baseUrl: sim.url, apiKey: sim.apiKey, apiSecret: sim.apiSecret });
  const app = huntressApp({ name: "huntress" });
  const connector = new HuntressApiConnector({ app, client, instance: `huntress:${sim.url}`, log, writes: true });
  const worker = new ContractWorker(connector, [app]);
  const invitationsOf = (email: string) => sim.invitations.filter((i) => i.email.toLowerCase() === email.toLowerCase());
  return {
    name: "HuntressApiConnector (Huntress API simulator)",
    connector,
    worker,
    wanted: (email) => grant("huntress", "standard", email),
    accountsOf: (_userId, email) => sim.membershipsOf(email).length + invitationsOf(email).length,
    // Huntress has no disabled membership: DELETE removes it and a new grant invites the same
    // Huntress user again, so the account is the user, not the (new) membership.
    identityOf: (_userId, email) => sim.membershipsOf(email).map((m) => m.userId),
    async settle(_userId, email) {
      if (invitationsOf(email).length > 0) sim.acceptInvitation(email);
      await worker.refresh();
    },
    neverCreated: (userId, email) => accountRow({ userId, app: "huntress", externalId: "990001", state: "active", role: "standard", email }),
    deleteOutside: (userId) => void sim.state.memberships.delete(Number(worker.row(userId)!.externalId)),
    saysAbsent: (r) => hasEvent(r, "huntress.api.absent"),
    faults: faultHooks(sim.faults, { method: "POST", path: "/memberships" }, "fallsBack"),
    async close() {
      worker.close();
      await sim.close();
    },
  };
}

/** An invite-based portal (built-in template `invite-portal`: disable and enable, like Log360 Cloud). */
export function manualSubject(): Promise<ContractSubject> {
  const app = manualApp({ name: "portal", template: "invite-portal" });
  const connector = new ManualConnector(app, "portal");
  const worker = new ContractWorker(connector, [app]);
  return Promise.resolve({
    name: "ManualConnector (tasks a person works)",
    connector,
    worker,
    wanted: (email) => grant("portal", "user", email),
    // The portal's accounts are the invitations a person was asked to send: TaskWriter raises a
    // second one only when the intent differs from the open task (action, role, blocked or not).
    accountsOf: (userId) => worker.tasksOf(userId).filter((t) => t.action === "invite").length,
    identityOf: (userId) => worker.row(userId)?.externalId,
    settle: (userId) => Promise.resolve(void worker.completeTasks(userId)),
    // An invitation nobody acted on: nothing exists in the portal yet.
    neverCreated: (userId, email) => accountRow({ userId, app: "portal", externalId: email, state: "pending", role: "user", email }),
    saysAbsent: (r) => r.task?.kind === "cancel",
    close: () => Promise.resolve(worker.close()),
  });
}
