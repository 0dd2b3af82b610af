/**
 * The one composition root: builds the stores and the provisioning services from the config, for
 * the server (main.ts) and the CLI alike, so both see the same identity map, task writer and
 * instances. Clients for remote apps are built here too; the server starts the long-running parts.
 */
import { HaloPsaClient } from "./apps/halopsa/client.js";
import { HuntressClient } from "./apps/huntress/client.js";
import { instanceOf } from "./apps/app-types.js";
import type { HaloPsaConnection } from "./apps/halopsa/app-type.js";
import type { HuntressConnection } from "./apps/huntress/app-type.js";
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
import { KeptRoleLock } from "./provisioning/kept-role-lock.js";
import { TaskReview } from "./provisioning/task-review.js";
import { TaskWriter } from "./provisioning/task-writer.js";

/**
 * The instance each app's links are bound to (docs/provisioning.md, "Instances"), as its app type
 * derives it: HaloPSA by base URL and tenant, Huntress by API URL and account, a manual app by its name.
 */
export function appInstances(config: Config, apps: readonly AppConfig[]): Map<string, string> {
  return new Map(apps.map((a) => [a.name, instanceOf(a, config)]));
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
  const taskWriter = new TaskWriter({ tasks, accounts, clock, apps, rules, jobs, onTask });
  const keptRoleLock = new KeptRoleLock(apps);
  const deps: ProvisioningDeps = { db, directory: stores.directory, accounts, audit, taskWriter, keptRoleLock, connectors, apps, rules, clock, log };
  const review = new TaskReview({ db, tasks, accounts, audit, jobs, apps, taskWriter, instances: appInstances(config, apps) });
  return { deps, taskWriter, review };
}

export interface Connections {
  readonly connectors: Map<string, Connector>;
  /** The built-in HaloPSA simulator, when no HALOPSA_URL is configured. */
  readonly haloPsaSimulator: HaloPsaSimulator | undefined;
}

/**
 * The clients and connectors for the configured apps. Each client is built on the first app that
 * asks for it, and once. HaloPSA: the configured tenant, or, when none is configured, the built-in
 * simulator on loopback so a newcomer sees agents appear without a HaloPSA instance.
 */
export async function connect(config: Config, log: Logger, observer: TransportObserver, options: { simulator: boolean } = { simulator: true }): Promise<Connections> {
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
    return { client, licenceTypes: h.licenceTypes, createSettleMs: h.createSettleSeconds * 1000 };
  });
  const huntress = once((): Promise<HuntressConnection> => Promise.resolve(huntressConnection(config, log, observer)));
  const connectors = await createConnectors(apps, appInstances(config, apps), { log, haloPsa, huntress });
  return { connectors, haloPsaSimulator: simulator };
}

/** A function that runs `f` on its first call and hands every call that first call's promise. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= f());
}

/** The Huntress API client. Only huntress apps ask for it; manual apps call nothing. */
function huntressConnection(config: Config, log: Logger, observer: TransportObserver): HuntressConnection {
  const h = config.huntress;
  // config.ts refuses to load a huntress app without these; this guards a config built another way.
  if (h.apiKey === undefined || h.apiSecret === undefined) throw new ConfigError("HUNTRESS_API_KEY and HUNTRESS_API_SECRET are required for a huntress app");
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
