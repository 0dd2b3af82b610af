/**
 * Composition root: config → logger → database → stores → connectors → worker, reconciler and
 * HTTP server; graceful shutdown. The only module that wires concrete parts together.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { hostname } from "node:os";
import { HaloPsaClient } from "./apps/halopsa/client.js";
import { HuntressClient } from "./apps/huntress/client.js";
import { TaskReview } from "./apps/manual/review.js";
import { createConnectors } from "./apps/registry.js";
import { DirectorySnapshots } from "./db/directory-snapshots.js";
import { DriftStore } from "./db/drift.js";
import { IdentityMap } from "./db/identity-map.js";
import { JobQueue } from "./db/jobs.js";
import { NotificationOutbox } from "./db/notifications.js";
import { TaskStore, type Task } from "./db/tasks.js";
import { queueUrlOf, WebhookNotifier } from "./notify/webhook.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "./dev/halopsa-simulator.js";
import type { AppConfig, Rule } from "./provisioning/config-schema.js";
import { Reconciler } from "./provisioning/reconcile.js";
import { replanOnRulesChange } from "./provisioning/rules-change.js";
import { BridgeState } from "./db/bridge-state.js";
import type { ProvisioningDeps } from "./provisioning/sync-user.js";
import { Worker } from "./provisioning/worker.js";
import { TokenVerifier } from "./auth/tokens.js";
import { ensureInitialTokens, staticTokensOf, type FirstStartTokens } from "./bootstrap.js";
import { systemClock } from "./clock.js";
import { appsAndRules, ConfigError, loadConfig, type Config } from "./config.js";
import { AuditLog } from "./db/audit.js";
import { openDatabase, type Db } from "./db/database.js";
import { Directory } from "./db/directory.js";
import { TokenStore } from "./db/tokens.js";
import { createApp } from "./http/app.js";
import { checkReadiness } from "./http/readiness.js";
import { createLogger, type Logger } from "./log.js";
import { SCIM_BASE } from "./scim/router.js";
import { isMainModule } from "./is-main.js";

export interface Running {
  readonly server: Server;
  readonly db: Db;
  readonly log: Logger;
  readonly url: string;
  readonly firstStartTokens: FirstStartTokens | undefined;
  readonly jobs: JobQueue;
  readonly worker: Worker;
  readonly reconciler: Reconciler;
  readonly tasks: TaskStore;
  readonly review: TaskReview;
  /** The identity map. */
  readonly accounts: IdentityMap;
  /** The built-in HaloPSA simulator, when no HALOPSA_URL is configured. */
  readonly haloPsaSimulator: HaloPsaSimulator | undefined;
  /** Rules in force, for the banner. */
  readonly rules: readonly Rule[];
  close(): Promise<void>;
}

/**
 * The HaloPSA connection: the configured tenant, or, when none is configured, the built-in
 * simulator on loopback so a newcomer sees agents appear without a HaloPSA instance.
 */
async function haloPsaConnection(config: Config, apps: readonly AppConfig[], log: Logger) {
  if (!apps.some((a) => a.type === "halopsa")) return undefined;
  const h = config.halopsa;
  let simulator: HaloPsaSimulator | undefined;
  let target = { baseUrl: h.url, clientId: h.clientId, clientSecret: h.clientSecret };
  if (h.url === undefined) {
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
    timeoutMs: h.timeoutSeconds * 1000,
    rateLimit: h.rateLimit === null ? null : { requests: h.rateLimit.requests, windowMs: h.rateLimit.windowSeconds * 1000 },
  });
  return { client, simulator, licenceTypes: h.licenceTypes };
}

/**
 * The Huntress API client, when a manual app runs in `mode: api` (config.ts has checked the key
 * and secret are there). In `mode: live` nothing calls the Huntress API.
 */
function huntressClient(config: Config, apps: readonly AppConfig[], log: Logger): HuntressClient | undefined {
  const apiApps = apps.filter((a) => a.type === "manual" && a.mode === "api").map((a) => a.name);
  if (apiApps.length === 0) return undefined;
  const h = config.huntress;
  if (h.apiKey === undefined || h.apiSecret === undefined) throw new ConfigError("HUNTRESS_API_KEY and HUNTRESS_API_SECRET are required for mode: api");
  log.info("Huntress API mode: invitations, role changes and removals go through the memberships API; failures become manual tasks", {
    apps: apiApps,
    url: h.url,
    ...(h.accountId === undefined ? {} : { accountId: h.accountId }),
  });
  return new HuntressClient({
    baseUrl: h.url,
    apiKey: h.apiKey,
    apiSecret: h.apiSecret,
    accountId: h.accountId,
    log,
    timeoutMs: h.timeoutSeconds * 1000,
    maxRetries: h.maxRetries,
    rateLimit: h.rateLimit === null ? null : { requests: h.rateLimit.requests, windowMs: h.rateLimit.windowSeconds * 1000 },
  });
}

/** Starts the bridge; used by the CLI entry below and by tests (which pass their own config). */
export async function start(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Running> {
  const db = openDatabase(config.database);
  const clock = systemClock;
  const tokens = new TokenStore(db, clock);
  const statics = staticTokensOf(config);
  const firstStartTokens = ensureInitialTokens(tokens, statics);
  const audit = new AuditLog(db, clock);
  const p = config.provisioning;
  const jobs = new JobQueue(db, clock, { maxAttempts: p.maxAttempts, backoffBaseMs: p.backoffBaseSeconds * 1000, maxDelayMs: p.maxBackoffSeconds * 1000 });
  const { apps, rules } = appsAndRules(config);
  const huntress = huntressClient(config, apps, log);
  const halo = await haloPsaConnection(config, apps, log);
  const accounts = new IdentityMap(db, clock);
  const tasks = new TaskStore(db, clock);
  const notifier = config.notifications.webhookUrl
    ? new WebhookNotifier({
        url: config.notifications.webhookUrl,
        db,
        outbox: new NotificationOutbox(db, clock),
        clock,
        log,
        queueUrl: queueUrlOf(config),
      })
    : undefined;
  const onTask = notifier ? (task: Task) => notifier.taskRaised(task) : undefined;
  const provisioning: ProvisioningDeps = {
    db,
    directory: new DirectorySnapshots(db),
    accounts,
    audit,
    connectors: createConnectors(apps, {
      log,
      haloPsa: halo,
      huntress: huntress && { client: huntress, accountId: config.huntress.accountId, audit },
      manual: { db, tasks, accounts, clock, ...(onTask ? { onTask } : {}) },
    }),
    apps,
    rules,
    log,
  };
  const worker = new Worker(provisioning, jobs, log, {
    id: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    concurrency: p.workerConcurrency,
    leaseMs: p.leaseSeconds * 1000,
    idleMs: 5000,
  });
  jobs.subscribe(() => worker.notify());
  const drift = new DriftStore(db, clock);
  const review = new TaskReview({ db, tasks, accounts, audit, jobs, apps, clock, ...(onTask ? { onTask } : {}) });
  const reconciler = new Reconciler(provisioning, jobs, drift);
  const app = createApp({
    deps: { directory: new Directory(db, clock), audit, jobs, access: accounts },
    verifier: new TokenVerifier(tokens, statics),
    log,
    maxBodyBytes: config.maxBodyBytes,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    readiness: () => checkReadiness(db, () => worker.alive),
    admin: { provisioning, jobs, drift, reconciler, clock, tasks, review },
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once("error", reject);
  });
  // Okta and Entra give up after 60 s; never hold a connection longer than that.
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;
  const replanned = replanOnRulesChange(provisioning, jobs, new BridgeState(db, clock));
  if (replanned > 0) log.info("apps or rules changed since the last start: re-planning every user", { users: replanned });
  // Jobs left by a previous run (even one killed mid-job) start now.
  worker.start();
  reconciler.start(p.reconcileIntervalMinutes * 60_000);
  notifier?.start(config.notifications.overdueCheckSeconds * 1000);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const url = config.publicUrl ?? `http://${host}:${port}`;
  log.info("scim-bridge listening", { url, scimBase: `${url}${SCIM_BASE}`, database: config.database, apps: apps.map((a) => `${a.name} (${a.type}, ${a.mode})`) });
  return {
    server,
    db,
    log,
    url,
    firstStartTokens,
    jobs,
    worker,
    reconciler,
    tasks,
    review,
    accounts,
    haloPsaSimulator: halo?.simulator,
    rules,
    close: async () => {
      reconciler.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await worker.stop();
      await notifier?.stop();
      await halo?.simulator?.close();
      db.close();
    },
  };
}

function banner(r: Running): string {
  const lines = [
    "",
    "  scim-bridge is running",
    `  SCIM base URL (Okta "Base URL", Entra "Tenant URL"): ${r.url}${SCIM_BASE}`,
    `  Review queue (sign in with the admin token): ${r.url}/admin`,
  ];
  if (r.haloPsaSimulator) {
    lines.push(`  HaloPSA: SIMULATED at ${r.haloPsaSimulator.url} (set HALOPSA_URL, HALOPSA_CLIENT_ID, HALOPSA_CLIENT_SECRET for a real tenant)`);
  }
  for (const rule of r.rules) {
    const group = "displayName" in rule.group ? `'${rule.group.displayName}'` : "id" in rule.group ? `id ${rule.group.id}` : `externalId ${rule.group.externalId}`;
    lines.push(`  Rule: members of group ${group} → ${rule.app} ${rule.role}`);
  }
  if (r.firstStartTokens) {
    lines.push(
      "",
      "  First start: these tokens are shown once and stored only as hashes.",
      `  SCIM token  (paste into the IdP as the bearer token / secret token): ${r.firstStartTokens.scim}`,
      `  Admin token (review queue /admin and admin API /admin/api):         ${r.firstStartTokens.admin}`,
    );
  } else {
    lines.push("  Create a token with: npm run -s cli -- token create --scope scim --name okta");
  }
  return `${lines.join("\n")}\n\n`;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e: unknown) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const running = await start(config);
  // Printed to stdout, not through the logger: the first-start secrets must never reach a log sink.
  process.stdout.write(banner(running));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second signal forces exit
    stopping = true;
    running.log.info("shutting down", { signal });
    void running.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

if (isMainModule(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`scim-bridge failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
