/**
 * Composition root: config → logger → database → stores → connectors → worker, reconciler and
 * HTTP server; graceful shutdown. The only module that wires concrete parts together.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { hostname } from "node:os";
import { AuthFailures } from "./auth/failures.js";
import { TokenVerifier } from "./auth/tokens.js";
import { ensureInitialTokens, staticTokensOf, writeInitialTokensFile, type FirstStartTokens } from "./bootstrap.js";
import { systemClock, type Clock } from "./clock.js";
import { APP_CHECK_TIMEOUT_MS, connect, openStores, provisioningOf, scrubberOf, ticketSyncOf } from "./compose.js";
import { appsAndRules, ConfigError, loadConfig, type Config } from "./config.js";
import { BridgeState } from "./db/bridge-state.js";
import { keepRateWindows } from "./provisioning/rate-windows.js";
import { openDatabase, type Db } from "./db/database.js";
import { DatabaseHealth } from "./db/database-health.js";
import { InstanceLock } from "./db/instance-lock.js";
import { Directory } from "./db/directory.js";
import type { IdentityMap } from "./db/identity-map.js";
import type { JobQueue } from "./db/jobs.js";
import { NotificationOutbox } from "./db/notifications.js";
import type { TaskStore } from "./db/tasks.js";
import { TokenStore } from "./db/tokens.js";
import type { HaloPsaSimulator } from "./dev/halopsa-simulator.js";
import type { SecretScrubber } from "./domain/secret-scrubber.js";
import type { Task } from "./domain/task.js";
import { createApp } from "./http/app.js";
import { drainHttp } from "./http/drain.js";
import { RequestLimits } from "./http/rate-limit.js";
import { checkReadiness } from "./http/readiness.js";
import { isMainModule } from "./is-main.js";
import { createLogger, type Logger } from "./log.js";
import { BridgeMetrics } from "./metrics/bridge-metrics.js";
import { DEPROVISION_BUCKETS, registerStateMetrics } from "./metrics/state.js";
import { removalHistograms } from "./provisioning/removals.js";
import { queueUrlOf, WebhookNotifier } from "./notify/webhook.js";
import type { Rule } from "./provisioning/config-schema.js";
import { checkInstances, describeForeignLinks, type ForeignLinks } from "./provisioning/instances.js";
import { AppChecks } from "./provisioning/app-checks.js";
import { Reconciler } from "./provisioning/reconcile.js";
import type { TicketSync } from "./provisioning/ticket-sync.js";
import { NO_GROUPS_YET, type RuleCheck } from "./provisioning/rule-check.js";
import { RuleWatch } from "./provisioning/rule-watch.js";
import { replanOnRulesChange } from "./provisioning/rules-change.js";
import { describeChangeSet } from "./provisioning/approvals.js";
import type { ChangeSet } from "./db/approvals.js";
import type { TaskReview } from "./provisioning/task-review.js";
import { Worker } from "./provisioning/worker.js";
import { SCIM_BASE } from "./scim/router.js";
import { databaseOpenFailure, listenFailure, StartupError } from "./startup-error.js";

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
  /** Rules checked against the directory: at start, and again on every group change. */
  readonly ruleWatch: RuleWatch;
  /** Deprecated spellings in the config, each saying what to write instead. */
  readonly deprecations: readonly string[];
  /** Change sets waiting for an admin at start (destructive actions held). */
  readonly pendingApprovals: readonly ChangeSet[];
  /** Apps whose identity-map links were made against another instance (not acted on). */
  readonly foreignLinks: readonly ForeignLinks[];
  /** Failed authentications by reason since start (for /metrics). */
  readonly authFailures: AuthFailures;
  /** Inbound rate limits, with their refusal counts. */
  readonly limits: RequestLimits;
  /** Whether each app with an API answers with the configured credentials: at start, then every few minutes. */
  readonly appChecks: AppChecks;
  /** Tasks as HaloPSA tickets, when any task app has them. */
  readonly ticketSync: TicketSync | undefined;
  close(): Promise<void>;
}

/** The database's holder writes a heartbeat this often; one silent for the stale time is taken to have crashed (instance-lock.ts). */
const INSTANCE_HEARTBEAT_MS = 10_000;
const INSTANCE_STALE_MS = 30_000;
/** How often each app is checked after start. */
const APP_CHECK_INTERVAL_MS = 5 * 60_000;

/** Opens the database, or says in one line why it cannot be. */
function openOrExplain(file: string): Db {
  try {
    return openDatabase(file);
  } catch (e: unknown) {
    throw databaseOpenFailure(e, file) ?? e;
  }
}

/** How long the IdP must stop changing groups before rules are checked and logged again (rule-watch.ts). */
const RULE_CHECK_SETTLE_MS = 2000;

/**
 * Starts the bridge; used by the CLI entry below and by tests (which pass their own config). `scrubber`
 * is the one secret scrubber; a test that passes its own logger passes the scrubber that logger uses.
 * A test may pass its own clock, to script a history with known times.
 */
export async function start(config: Config, givenLog?: Logger, givenScrubber?: SecretScrubber, clock: Clock = systemClock): Promise<Running> {
  const scrubber = scrubberOf(config, givenScrubber);
  const log = givenLog ?? createLogger(config.logLevel, undefined, scrubber);
  for (const deprecation of config.deprecations) log.warn(deprecation);
  const db = openOrExplain(config.database);
  let lock: InstanceLock;
  try {
    lock = InstanceLock.acquire(db, config.database, {
      clock,
      heartbeatMs: INSTANCE_HEARTBEAT_MS,
      staleMs: INSTANCE_STALE_MS,
      onHeartbeatError: (e) => log.warn("could not record this bridge's heartbeat in the database", { error: e }),
    });
  } catch (e: unknown) {
    db.close();
    throw databaseOpenFailure(e, config.database) ?? e;
  }
  const tokens = new TokenStore(db, clock);
  const statics = staticTokensOf(config);
  const firstStartTokens = ensureInitialTokens(tokens, statics);
  const p = config.provisioning;
  const stores = openStores(config, db, clock);
  const { audit, jobs, accounts, tasks, drift } = stores;
  const { apps, rules } = appsAndRules(config);
  const metrics = new BridgeMetrics();
  const { connectors, haloPsaSimulator, ticketApis, rateWindows } = await connect(config, log, metrics, { simulator: true, scrubber });
  keepRateWindows(rateWindows, new BridgeState(db, clock), log);
  const foreignLinks = checkInstances(accounts, connectors, log);
  // A HaloPSA check is two requests (token, then a read), each bounded by the check transport's timeout.
  const appChecks = new AppChecks({ connectors, clock, log, timeoutMs: 2 * APP_CHECK_TIMEOUT_MS });
  const notifier = config.notifications.webhookUrl
    ? new WebhookNotifier({
        url: config.notifications.webhookUrl,
        db,
        outbox: new NotificationOutbox(db, clock),
        clock,
        log,
        scrub: scrubber.scrub,
        queueUrl: queueUrlOf(config),
        ...(config.notifications.webhookFormat === undefined ? {} : { format: config.notifications.webhookFormat }),
      })
    : undefined;
  const onTask = notifier ? (task: Task) => notifier.taskRaised(task) : undefined;
  const { deps: provisioning, review } = provisioningOf(config, stores, connectors, log, { onTask, onApprovalNeeded: notifier && ((set) => notifier.approvalNeeded(set)) }, scrubber);
  // What the worker last saw go wrong with the database, for /readyz.
  const health = new DatabaseHealth();
  const worker = new Worker(
    provisioning,
    jobs,
    log,
    {
      id: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      concurrency: p.workerConcurrency,
      leaseMs: p.leaseSeconds * 1000,
      idleMs: 5000,
      ...(p.batch.maxJobs === 0 ? {} : { batch: p.batch }),
    },
    health,
  );
  jobs.subscribe(() => worker.notify());
  const ticketSync = ticketSyncOf(config, stores, ticketApis, review, log, scrubber, () => metrics.ticketSyncFailed());
  const reconciler = new Reconciler(provisioning, jobs, drift, ticketSync && (() => ticketSync.readBack()));
  const authFailures = new AuthFailures();
  const r = config.rateLimit;
  const limits = new RequestLimits({
    perToken: { perSecond: r.perToken, burst: r.perTokenBurst },
    perAddress: { perSecond: r.perAddress, burst: r.perAddressBurst },
    log,
  });
  // Checked before anything is planned, so a rule that grants nobody is in the log ahead of what follows from it.
  const ruleWatch = new RuleWatch({ rules, groups: stores.directory, log, settleMs: RULE_CHECK_SETTLE_MS });
  ruleWatch.recheck();
  registerStateMetrics(metrics.registry, { jobs, tasks, drift, approvals: stores.approvals, apps: apps.map((a) => a.name), authFailures, requestLimits: limits, appChecks, deprovisions: removalHistograms(db, DEPROVISION_BUCKETS) });
  const app = createApp({
    deps: { directory: new Directory(db, clock), audit, jobs, access: accounts, groupsChanged: () => ruleWatch.groupsChanged(), maxResponseBytes: config.maxResponseBytes, clock },
    verifier: new TokenVerifier(tokens, statics, Date.now, (token) => scrubber.registerRotating(token)),
    authFailures,
    metrics,
    log,
    maxBodyBytes: config.maxBodyBytes,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    limits,
    readiness: () => checkReadiness(db, () => worker.alive, health),
    admin: { provisioning, jobs, drift, reconciler, clock, tasks, review, approvals: stores.approvals, ruleWatch, appChecks, ticketSync },
  });
  const server = createServer(
    {
      requestTimeout: config.requestTimeoutSeconds * 1000,
      headersTimeout: config.headersTimeoutSeconds * 1000,
      keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
      // How often node enforces the two timeouts above: its 30 s default would let a 60 s limit run to 90 s.
      connectionsCheckingInterval: 1000,
    },
    app,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (e: unknown) {
    ruleWatch.stop();
    await haloPsaSimulator?.close();
    lock.release();
    db.close();
    throw listenFailure(e, config.host, config.port) ?? e;
  }
  const replanned = replanOnRulesChange(provisioning, jobs, new BridgeState(db, clock));
  if (replanned.queued > 0) log.info("apps or rules changed since the last start: re-planning every user", { users: replanned.queued, heldForApproval: replanned.held?.waiting ?? 0 });
  const pendingApprovals = stores.approvals.list();
  // Checked while the server already answers, so /healthz is up even when an app is not; the banner reports the result.
  await appChecks.runOnce();
  appChecks.start(APP_CHECK_INTERVAL_MS);
  // Jobs left by a previous run (even one killed mid-job) start now.
  worker.start();
  reconciler.start(p.reconcileIntervalMinutes * 60_000);
  notifier?.start(config.notifications.overdueCheckSeconds * 1000);
  ticketSync?.start(config.halopsa.ticketReadSeconds * 1000);
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
    haloPsaSimulator,
    rules,
    ruleWatch,
    deprecations: config.deprecations,
    foreignLinks,
    pendingApprovals,
    authFailures,
    limits,
    appChecks,
    ticketSync,
    close: async () => {
      reconciler.stop();
      await appChecks.stop();
      // Requests and jobs finish side by side under one deadline; a job still running at the
      // deadline has its lease given back, so the next start retakes it at once.
      const graceMs = config.shutdownTimeoutSeconds * 1000;
      const [cut] = await Promise.all([drainHttp(server, graceMs), worker.stop(graceMs)]);
      if (cut > 0) log.warn("shutdown timeout: cut connections whose requests were still running", { connections: cut, timeoutSeconds: config.shutdownTimeoutSeconds });
      ruleWatch.stop();
      await notifier?.stop();
      await ticketSync?.stop();
      await haloPsaSimulator?.close();
      lock.release();
      db.close();
    },
  };
}

/**
 * What the bridge prints to stdout at start (exported for tests). With `tokensFile`, the first-start
 * tokens were written there (stdout is not a terminal) and the banner says only where they are.
 */
export function banner(r: Running, tokensFile?: string): string {
  const lines = [
    "",
    "  scim-bridge is running",
    `  SCIM base URL (Okta "Base URL", Entra "Tenant URL"): ${r.url}${SCIM_BASE}`,
    `  Review queue (sign in with the admin token): ${r.url}/admin`,
  ];
  if (r.haloPsaSimulator) {
    lines.push(`  HaloPSA: SIMULATED at ${r.haloPsaSimulator.url} (set HALOPSA_URL, HALOPSA_CLIENT_ID, HALOPSA_CLIENT_SECRET for a real tenant)`);
  }
  lines.push(...appCheckLines(r));
  for (const d of r.deprecations) lines.push(`  WARNING ${d}`);
  for (const f of r.foreignLinks) lines.push(`  WARNING ${describeForeignLinks(f)}`);
  for (const set of r.pendingApprovals) lines.push(`  WARNING ${describeChangeSet(set)}: approve or reject at ${r.url}/admin or with "scim-bridge approvals show ${set.id}"`);
  for (const rule of r.rules) {
    const group = "displayName" in rule.group ? `'${rule.group.displayName}'` : "id" in rule.group ? `id ${rule.group.id}` : `externalId ${rule.group.externalId}`;
    lines.push(`  Rule: members of group ${group} → ${rule.app} ${rule.role}`);
  }
  lines.push(...ruleCheckLines(r.ruleWatch.check()));
  if (r.firstStartTokens && tokensFile !== undefined) {
    lines.push("", `  First start: the new SCIM and admin tokens are in ${tokensFile} (readable only by this user): copy them, then delete the file.`);
  } else if (r.firstStartTokens) {
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

/** One banner line per app with an API: reachable with its credentials, or what is wrong. */
function appCheckLines(r: Running): string[] {
  const latest = r.appChecks.latest();
  return r.appChecks.apps().map((app) => {
    const c = latest.get(app);
    if (!c) return `  App ${app}: not checked yet`;
    return c.ok ? `  App ${app}: reachable, credentials accepted` : `  WARNING app ${app} is not reachable: ${c.error ?? "unknown error"} (checked again every ${APP_CHECK_INTERVAL_MS / 60_000} minutes)`;
  });
}

/** The banner's report of rules that match no group (docs/provisioning.md, "Rules checked against the directory"). */
function ruleCheckLines(check: RuleCheck): string[] {
  if (check.state === "no-groups-yet") return [`  Rules: ${NO_GROUPS_YET}`];
  return check.rules.flatMap((s) => (s.problem ? [`  WARNING ${s.problem.message}`] : []));
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
  let running: Running;
  try {
    running = await start(config);
  } catch (e: unknown) {
    // A setting the connectors refuse (src/compose.ts) is a config error too: one line, no stack.
    if (e instanceof StartupError || e instanceof ConfigError) {
      process.stderr.write(`scim-bridge failed to start: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  // On a terminal the first-start secrets are printed, never logged; otherwise stdout is a log
  // stream (docker logs keeps it), so they go to a file of mode 0600 and only its path is said.
  const tokensFile = running.firstStartTokens && !process.stdout.isTTY ? writeInitialTokensFile(config.database, running.firstStartTokens) : undefined;
  if (tokensFile) running.log.info("first start: the new SCIM and admin tokens were written to a file only this user can read", { file: tokensFile });
  process.stdout.write(banner(running, tokensFile));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      running.log.warn("second signal: exiting without waiting for running requests and jobs", { signal });
      process.exit(1);
    }
    stopping = true;
    running.log.info("shutting down: accepting no new connections, finishing running requests and jobs", { signal, timeoutSeconds: config.shutdownTimeoutSeconds });
    // close() bounds its own waits; this catches anything else that hangs, before Docker's SIGKILL would.
    setTimeout(() => {
      running.log.error("shutdown did not finish in time: exiting");
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000 + 1000).unref();
    void running.close().then(
      () => {
        running.log.info("shut down: database closed");
        process.exit(0);
      },
      (e: unknown) => {
        running.log.error("shutdown failed", { error: e });
        process.exit(1);
      },
    );
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
