/**
 * The one composition root: builds the stores and the provisioning services from the config, for
 * the server (main.ts) and the CLI alike, so both see the same identity map, task writer and
 * instances. Clients for remote apps are built here too; the server starts the long-running parts.
 */
import { HaloPsaClient } from "./apps/halopsa/client.js";
import { HuntressClient } from "./apps/huntress/client.js";
import type { TransportObserver } from "./apps/http/observer.js";
import { createConnectors } from "./provisioning/connector-registry.js";
import type { Clock } from "./clock.js";
import { appsAndRules, ConfigError, type Config } from "./config.js";
import { AuditLog } from "./db/audit.js";
import type { Db } from "./db/database.js";
import { DirectorySnapshots } from "./db/directory-snapshots.js";
import { DriftStore } from "./db/drift.js";
import { IdentityMap } from "./db/identity-map.js";
import { JobQueue } from "./db/jobs.js";
import { TaskStore } from "./db/tasks.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "./dev/halopsa-simulator.js";
import type { Connector } from "./domain/connector.js";
import type { Task } from "./domain/task.js";
import type { Logger } from "./log.js";
import type { AppConfig } from "./provisioning/config-schema.js";
import type { ProvisioningDeps } from "./provisioning/sync-user.js";
import { TaskReview } from "./provisioning/task-review.js";
import { TaskWriter } from "./provisioning/task-writer.js";

/** The built-in simulator is an instance of its own: links made against it never touch a real HaloPSA. */
export const SIMULATOR_INSTANCE = "halopsa:built-in-simulator";

/**
 * The instance each app's links are bound to (docs/provisioning.md, "Instances"): HaloPSA by base
 * URL and tenant, Huntress API mode by API URL and account, a manual app by its name.
 */
export function appInstances(config: Config, apps: readonly AppConfig[]): Map<string, string> {
  const h = config.halopsa;
  return new Map(
    apps.map((a) => {
      if (a.type === "halopsa") return [a.name, h.url === undefined ? SIMULATOR_INSTANCE : `halopsa:${h.url.toLowerCase()}#tenant=${h.tenant ?? ""}`];
      if (a.mode === "api") return [a.name, `huntress:${config.huntress.url.replace(/\/+$/, "").toLowerCase()}#account=${config.huntress.accountId ?? "own"}`];
      return [a.name, `manual:${a.name}`];
    }),
  );
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
}

export function openStores(config: Config, db: Db, clock: Clock): Stores {
  const p = config.provisioning;
  return {
    db,
    clock,
    audit: new AuditLog(db, clock),
    jobs: new JobQueue(db, clock, { maxAttempts: p.maxAttempts, backoffBaseMs: p.backoffBaseSeconds * 1000, maxDelayMs: p.maxBackoffSeconds * 1000 }),
    accounts: new IdentityMap(db, clock),
    tasks: new TaskStore(db, clock),
    drift: new DriftStore(db, clock),
    directory: new DirectorySnapshots(db),
  };
}

export interface Provisioning {
  readonly deps: ProvisioningDeps;
  readonly taskWriter: TaskWriter;
  readonly review: TaskReview;
}

/** The provisioning services over the stores; `connectors` is empty where nothing is called (plan, tasks CLI). */
export function provisioningOf(config: Config, stores: Stores, connectors: ReadonlyMap<string, Connector>, log: Logger, onTask?: (task: Task) => void): Provisioning {
  const { apps, rules } = appsAndRules(config);
  const { db, clock, audit, accounts, tasks, jobs } = stores;
  const taskWriter = new TaskWriter({ tasks, clock, apps, onTask });
  const deps: ProvisioningDeps = { db, directory: stores.directory, accounts, audit, taskWriter, connectors, apps, rules, clock, log };
  const review = new TaskReview({ db, tasks, accounts, audit, jobs, apps, taskWriter, instances: appInstances(config, apps) });
  return { deps, taskWriter, review };
}

export interface Connections {
  readonly connectors: Map<string, Connector>;
  /** The built-in HaloPSA simulator, when no HALOPSA_URL is configured. */
  readonly haloPsaSimulator: HaloPsaSimulator | undefined;
}

/**
 * The clients and connectors for the configured apps. HaloPSA: the configured tenant, or, when
 * none is configured, the built-in simulator on loopback so a newcomer sees agents appear without
 * a HaloPSA instance. Huntress: only for apps in API mode.
 */
export async function connect(config: Config, log: Logger, observer: TransportObserver, options: { simulator: boolean } = { simulator: true }): Promise<Connections> {
  const { apps } = appsAndRules(config);
  const instances = appInstances(config, apps);
  const h = config.halopsa;
  let simulator: HaloPsaSimulator | undefined;
  let haloPsa;
  const haloApp = apps.find((a) => a.type === "halopsa");
  if (haloApp) {
    let target = { baseUrl: h.url, clientId: h.clientId, clientSecret: h.clientSecret };
    if (h.url === undefined) {
      if (!options.simulator) throw new ConfigError("HALOPSA_URL is not set: the built-in simulator lives inside the running bridge only");
      simulator = await startHaloPsaSimulator({ host: "127.0.0.1" });
      target = { baseUrl: simulator.url, clientId: simulator.clientId, clientSecret: simulator.clientSecret };
      log.warn("HaloPSA: no HALOPSA_URL configured, using the built-in HaloPSA simulator (agents live in memory only)", { simulatorUrl: simulator.url });
    }
    const client = new HaloPsaClient({
      baseUrl: target.baseUrl!,
      ...(h.authUrl === undefined ? {} : { authUrl: h.authUrl }),
      ...(h.tenant === undefined ? {} : { tenant: h.tenant }),
      clientId: target.clientId!,
      clientSecret: target.clientSecret!,
      scope: h.scope,
      log,
      observer,
      timeoutMs: h.timeoutSeconds * 1000,
      rateLimit: h.rateLimit === null ? null : { requests: h.rateLimit.requests, windowMs: h.rateLimit.windowSeconds * 1000 },
    });
    haloPsa = { client, licenceTypes: h.licenceTypes, createSettleMs: h.createSettleSeconds * 1000 };
  }
  const connectors = createConnectors(apps, { log, instances, haloPsa, huntress: huntressConnection(config, apps, log, observer) });
  return { connectors, haloPsaSimulator: simulator };
}

/** The Huntress API client, when a manual app runs in `mode: api`. In `mode: live` nothing calls the Huntress API. */
function huntressConnection(config: Config, apps: readonly AppConfig[], log: Logger, observer: TransportObserver) {
  const apiApps = apps.filter((a) => a.type === "manual" && a.mode === "api").map((a) => a.name);
  if (apiApps.length === 0) return undefined;
  const h = config.huntress;
  if (h.apiKey === undefined || h.apiSecret === undefined) throw new ConfigError("HUNTRESS_API_KEY and HUNTRESS_API_SECRET are required for mode: api");
  log.info("Huntress API mode: invitations, role changes and removals go through the memberships API; failures become manual tasks", {
    apps: apiApps,
    url: h.url,
    ...(h.accountId === undefined ? {} : { accountId: h.accountId }),
  });
  const client = new HuntressClient({
    baseUrl: h.url,
    apiKey: h.apiKey,
    apiSecret: h.apiSecret,
    accountId: h.accountId,
    log,
    observer,
    timeoutMs: h.timeoutSeconds * 1000,
    maxRetries: h.maxRetries,
    rateLimit: h.rateLimit === null ? null : { requests: h.rateLimit.requests, windowMs: h.rateLimit.windowSeconds * 1000 },
  });
  return { client, accountId: h.accountId };
}
