/**
 * The one composition root: builds the stores and the provisioning services from the config, for
 * the server (main.ts) and the CLI alike, so both see the same identity map, task writer and
 * instances. Clients for remote apps are built here too; the server starts the long-running parts.
 */
import { HaloPsaClient } from "./apps/halopsa/client.js";
import { HuntressClient } from "./apps/huntress/client.js";
import { instanceOf, readsAccounts, ticketTargets } from "./apps/app-types.js";
import { HaloPsaTicketApi } from "./apps/halopsa/ticket-api.js";
import { HaloPsaConnector } from "./apps/halopsa/connector.js";
import type { RollingWindowLimiter } from "./apps/http/rate-limiter.js";
import type { HaloPsaConnection } from "./apps/halopsa/app-type.js";
import type { HuntressConnection } from "./apps/huntress/app-type.js";
import type { TransportObserver } from "./apps/http/observer.js";
import { createConnectors } from "./provisioning/connector-registry.js";
import type { Clock } from "./clock.js";
import { appsAndRules, ConfigError, type Config } from "./config.js";
import { ApprovalStore, type ChangeSet } from "./db/approvals.js";
import { AuditLog } from "./db/audit.js";
import type { Db } from "./db/database.js";
import { DirectorySnapshots } from "./db/directory-snapshots.js";
import { DriftStore } from "./db/drift.js";
import { IdentityMap } from "./db/identity-map.js";
import { JobQueue } from "./db/jobs.js";
import { TaskStore } from "./db/tasks.js";
import { TaskTicketStore } from "./db/task-tickets.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "./dev/halopsa-simulator.js";
import type { Connector } from "./domain/connector.js";
import type { Task } from "./domain/task.js";
import { SecretScrubber } from "./domain/secret-scrubber.js";
import type { Logger } from "./log.js";
import type { AppConfig } from "./provisioning/config-schema.js";
import { DeprovisionGuard } from "./provisioning/approvals.js";
import type { ProvisioningDeps } from "./provisioning/sync-user.js";
import { KeptRoleLock } from "./provisioning/kept-role-lock.js";
import { TaskReview } from "./provisioning/task-review.js";
import { TaskVerifier } from "./provisioning/task-verifier.js";
import { TaskWriter } from "./provisioning/task-writer.js";
import { TicketSync } from "./provisioning/ticket-sync.js";
import { queueUrlOf } from "./notify/webhook.js";

/**
 * The instance each app's links are bound to (docs/provisioning.md, "Instances"), as its app type
 * derives it: HaloPSA by base URL and tenant, Huntress by API URL and account, a manual app by its name.
 */
export function appInstances(config: Config, apps: readonly AppConfig[]): Map<string, string> {
  return new Map(apps.map((a) => [a.name, instanceOf(a, config)]));
}

/**
 * The bridge's one secret scrubber (src/domain/secret-scrubber.ts), fed with every secret the
 * configuration holds: the static tokens, the HaloPSA client secret (with its client id, for the
 * Basic form), the Huntress key and secret, and the secret parts of the webhook URL. The clients
 * add what they learn at runtime (access tokens); the HTTP layer adds bearer tokens it accepts.
 */
export function scrubberOf(config: Config, scrubber: SecretScrubber = new SecretScrubber()): SecretScrubber {
  scrubber.register(config.scimToken);
  scrubber.register(config.adminToken);
  scrubber.register(config.halopsa.clientSecret, config.halopsa.clientId === undefined ? {} : { user: config.halopsa.clientId });
  scrubber.register(config.huntress.apiKey);
  scrubber.register(config.huntress.apiSecret, config.huntress.apiKey === undefined ? {} : { user: config.huntress.apiKey });
  for (const part of webhookSecretsOf(config.notifications.webhookUrl)) scrubber.register(part);
  return scrubber;
}

/**
 * A webhook URL is its own credential: Slack's carries it in the path (Slack API, "Sending messages
 * using incoming webhooks"), Teams' in the path and Power Automate's in the `sig` query value. The
 * whole URL, its path and query, and every long segment or value are secrets.
 */
function webhookSecretsOf(url: string | undefined): string[] {
  if (url === undefined) return [];
  const u = new URL(url);
  const parts = [url, `${u.pathname}${u.search}`, ...u.pathname.split("/"), ...[...u.searchParams.values()]];
  return parts.filter((p) => p.length >= 16);
}

export interface Stores {
  readonly db: Db;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly jobs: JobQueue;
  readonly accounts: IdentityMap;
  readonly tasks: TaskStore;
  readonly drift: DriftStore;
  readonly directory: DirectorySnapshots;
  readonly approvals: ApprovalStore;
  /** The task → HaloPSA ticket outbox (docs/manual-tasks.md, "Tasks as HaloPSA tickets"). */
  readonly taskTickets: TaskTicketStore;
}

export function openStores(config: Config, db: Db, clock: Clock): Stores {
  const p = config.provisioning;
  const taskTickets = new TaskTicketStore(db, clock);
  const targets = new Map([...ticketTargets(appsAndRules(config).apps)].map(([app, t]) => [app, t.halopsaApp]));
  return {
    db,
    clock,
    audit: new AuditLog(db, clock),
    jobs: new JobQueue(db, clock, { maxAttempts: p.maxAttempts, backoffBaseMs: p.backoffBaseSeconds * 1000, maxDelayMs: p.maxBackoffSeconds * 1000 }),
    accounts: new IdentityMap(db, clock),
    tasks: new TaskStore(db, clock, { store: taskTickets, targets }),
    drift: new DriftStore(db, clock),
    directory: new DirectorySnapshots(db),
    approvals: new ApprovalStore(db, clock),
    taskTickets,
  };
}

export interface Provisioning {
  readonly deps: ProvisioningDeps;
  readonly taskWriter: TaskWriter;
  readonly review: TaskReview;
}

/** The provisioning services over the stores; `connectors` is empty where nothing is called (plan, tasks CLI). */
/** What the server wants to hear about; the CLI listens to nothing. */
export interface ProvisioningHooks {
  /** A task was raised (inside its transaction). */
  readonly onTask?: ((task: Task) => void) | undefined;
  /** An app's deprovision limit tripped: a change set waits for an admin (inside its transaction). */
  readonly onApprovalNeeded?: ((set: ChangeSet) => void) | undefined;
}

export function provisioningOf(
  config: Config,
  stores: Stores,
  connectors: ReadonlyMap<string, Connector>,
  log: Logger,
  hooks: ProvisioningHooks = {},
  scrubber: SecretScrubber = scrubberOf(config),
): Provisioning {
  const { apps, rules } = appsAndRules(config);
  const { db, clock, audit, accounts, tasks, jobs, approvals, directory } = stores;
  const taskWriter = new TaskWriter({ tasks, accounts, clock, apps, rules, jobs, onTask: hooks.onTask });
  const keptRoleLock = new KeptRoleLock(apps);
  const { approveRuleChanges, deprovisionLimit } = config.provisioning;
  const guard = new DeprovisionGuard({
    db,
    approvals,
    audit,
    clock,
    log,
    apps,
    settings: { approveRuleChanges, deprovisionLimit },
    userVersion: (userId) => directory.versionOf(userId),
    onOpened: hooks.onApprovalNeeded,
  });
  const review = new TaskReview({ db, tasks, accounts, audit, jobs, apps, taskWriter, instances: appInstances(config, apps), readable: (name) => apps.some((a) => a.name === name && readsAccounts(a)) });
  const verifier = new TaskVerifier({ tasks, accounts, review, connectors, apps, clock, log, scrub: scrubber.scrub });
  const deps: ProvisioningDeps = { db, directory, accounts, audit, taskWriter, keptRoleLock, connectors, apps, rules, clock, log, guard, scrub: scrubber.scrub, verifier };
  return { deps, taskWriter, review };
}

export interface Connections {
  readonly connectors: Map<string, Connector>;
  /** The built-in HaloPSA simulator, when no HALOPSA_URL is configured. */
  readonly haloPsaSimulator: HaloPsaSimulator | undefined;
  /** Per halopsa app that receives task tickets: the ticket calls, on that app's own client (one rate budget). */
  readonly ticketApis: Map<string, HaloPsaTicketApi>;
  /** Per HaloPSA instance, the one rolling window of its client, kept across restarts (src/provisioning/rate-windows.ts). */
  readonly rateWindows: Map<string, RollingWindowLimiter>;
}

/**
 * The clients and connectors for the configured apps. Each client is built on the first app that
 * asks for it, and once. HaloPSA: the configured tenant, or, when none is configured, the built-in
 * simulator on loopback so a newcomer sees agents appear without a HaloPSA instance.
 */
export async function connect(
  config: Config,
  log: Logger,
  observer: TransportObserver,
  options: { simulator: boolean; scrubber?: SecretScrubber } = { simulator: true },
): Promise<Connections> {
  const scrubber = options.scrubber ?? scrubberOf(config);
  const { apps } = appsAndRules(config);
  let simulator: HaloPsaSimulator | undefined;
  const haloPsa = once(async (): Promise<HaloPsaConnection> => {
    const h = config.halopsa;
    let target = { baseUrl: h.url, clientId: h.clientId, clientSecret: h.clientSecret };
    if (h.url === undefined) {
      if (!options.simulator) throw new ConfigError("HALOPSA_URL is not set: the built-in simulator lives inside the running bridge only");
      simulator = await startHaloPsaSimulator({ host: "127.0.0.1" });
      target = { baseUrl: simulator.url, clientId: simulator.clientId, clientSecret: simulator.clientSecret };
      log.warn("HaloPSA: no HALOPSA_URL configured, using the built-in HaloPSA simulator (agents live in memory only)", { simulatorUrl: simulator.url });
    }
    const tenant = {
      baseUrl: target.baseUrl!,
      ...(h.authUrl === undefined ? {} : { authUrl: h.authUrl }),
      ...(h.tenant === undefined ? {} : { tenant: h.tenant }),
      clientId: target.clientId!,
      clientSecret: target.clientSecret!,
      scope: h.scope,
      scrubber,
      log,
    };
    const client = new HaloPsaClient({
      ...tenant,
      observer,
      timeoutMs: h.timeoutSeconds * 1000,
      rateLimit: h.rateLimit === null ? null : { requests: Math.max(1, Math.floor(h.rateLimit.requests * h.rateBudgetShare)), windowMs: h.rateLimit.windowSeconds * 1000 },
    });
    // Two requests every few minutes: outside the rate budget, which leaves room for other tools anyway.
    const checkClient = new HaloPsaClient({ ...tenant, ...CHECK_TRANSPORT });
    return { client, checkClient, licenceTypes: h.licenceTypes, createSettleMs: h.createSettleSeconds * 1000, batchSize: h.batchSize };
  });
  const huntress = once((): Promise<HuntressConnection> => Promise.resolve(huntressConnection(config, log, observer, scrubber)));
  const connectors = await createConnectors(apps, appInstances(config, apps), { log, haloPsa, huntress });
  const ticketApis = new Map<string, HaloPsaTicketApi>();
  for (const { halopsaApp } of ticketTargets(apps).values()) {
    if (!ticketApis.has(halopsaApp)) ticketApis.set(halopsaApp, new HaloPsaTicketApi((await haloPsa()).client));
  }
  const rateWindows = new Map<string, RollingWindowLimiter>();
  const halo = [...connectors.values()].find((c) => c instanceof HaloPsaConnector);
  const window = halo && (await haloPsa()).client.rateWindow;
  if (halo && window) rateWindows.set(halo.instance, window);
  return { connectors, haloPsaSimulator: simulator, ticketApis, rateWindows };
}

/**
 * The ticket sync (docs/manual-tasks.md, "Tasks as HaloPSA tickets"), when any task app has
 * tickets; it drains the outbox whenever the store says a row fell due.
 */
export function ticketSyncOf(
  config: Config,
  stores: Stores,
  apis: ReadonlyMap<string, HaloPsaTicketApi>,
  review: TaskReview,
  log: Logger,
  scrubber: SecretScrubber,
  onFailure?: () => void,
): TicketSync | undefined {
  const targets = ticketTargets(appsAndRules(config).apps);
  if (targets.size === 0) return undefined;
  const sync = new TicketSync({
    store: stores.taskTickets,
    tasks: stores.tasks,
    review,
    apis,
    settings: new Map([...targets].map(([app, t]) => [app, t.settings])),
    queueUrl: queueUrlOf(config),
    clock: stores.clock,
    log,
    scrub: scrubber.scrub,
    // The job queue's backoff: one setting for how hard the bridge retries an app.
    backoffMs: config.provisioning.backoffBaseSeconds * 1000,
    maxBackoffMs: config.provisioning.maxBackoffSeconds * 1000,
    ...(onFailure === undefined ? {} : { onFailure }),
  });
  stores.taskTickets.subscribe(() => sync.wake());
  return sync;
}

/** The app checks' transport (src/provisioning/app-checks.ts): one attempt, a short timeout, so the first cause is the one reported. */
export const APP_CHECK_TIMEOUT_MS = 5000;
const CHECK_TRANSPORT = { timeoutMs: APP_CHECK_TIMEOUT_MS, maxRetries: 0, rateLimit: null } as const;

/** A function that runs `f` on its first call and hands every call that first call's promise. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= f());
}

/** The Huntress API client. Only huntress apps ask for it; manual apps call nothing. */
function huntressConnection(config: Config, log: Logger, observer: TransportObserver, scrubber: SecretScrubber): HuntressConnection {
  const h = config.huntress;
  // config.ts refuses to load a huntress app without these; this guards a config built another way.
  if (h.apiKey === undefined || h.apiSecret === undefined) throw new ConfigError("HUNTRESS_API_KEY and HUNTRESS_API_SECRET are required for a huntress app");
  const account = { baseUrl: h.url, apiKey: h.apiKey, apiSecret: h.apiSecret, accountId: h.accountId, scrubber, log };
  const checkClient = new HuntressClient({ ...account, ...CHECK_TRANSPORT });
  const client = new HuntressClient({
    ...account,
    observer,
    timeoutMs: h.timeoutSeconds * 1000,
    maxRetries: h.maxRetries,
    rateLimit: h.rateLimit === null ? null : { requests: h.rateLimit.requests, windowMs: h.rateLimit.windowSeconds * 1000 },
  });
  return { client, checkClient, accountId: h.accountId };
}
