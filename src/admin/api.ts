/**
 * Admin REST API under /admin/api (contract: openapi.yaml). The router lets admin and reviewer
 * tokens in and every route names the scopes it accepts (routes.ts): reviewers work the task queue
 * (tasks-api.ts); admins also see users and their access (users-api.ts), the audit log
 * (audit-api.ts), tokens (tokens-api.ts), rules checked against the directory (rules-api.ts), approvals of destructive changes (approvals-api.ts), the bridge's status (status-api.ts), jobs and dead letters, drift, reconcile on demand and HaloPSA seats (below).
 * Errors are RFC 9457 problem details; bad input is a 4xx, never a 500.
 */
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { z } from "zod";
import type { TaskReview } from "../provisioning/task-review.js";
import type { Clock } from "../clock.js";
import type { DriftStore } from "../db/drift.js";
import type { Job, JobQueue } from "../db/jobs.js";
import type { TaskStore } from "../db/tasks.js";
import { asBridgeError, BridgeError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Reconciler } from "../provisioning/reconcile.js";
import type { ProvisioningDeps } from "../provisioning/sync-user.js";
import type { ApprovalStore } from "../db/approvals.js";
import { approvalsRoutes } from "./approvals-api.js";
import { auditRoutes } from "./audit-api.js";
import { noQuery, parseQuery, pathId, textParam } from "./input.js";
import { sendBridgeProblem, sendProblem } from "./problem.js";
import { ADMIN_ONLY, routesOn, type Routes } from "./routes.js";
import { rulesRoutes, type RulesApiOptions } from "./rules-api.js";
import { statusRoutes } from "./status-api.js";
import type { StatusSources } from "./status/status-report.js";
import { tasksRoutes } from "./tasks-api.js";
import { tokensRoutes } from "./tokens-api.js";
import { usersRoutes } from "./users-api.js";
import { evidenceRoutes } from "./evidence-api.js";

export { ADMIN_API_SCOPES } from "./routes.js";

export interface AdminApiOptions {
  readonly provisioning: ProvisioningDeps;
  readonly tasks: TaskStore;
  readonly review: TaskReview;
  readonly jobs: JobQueue;
  readonly drift: DriftStore;
  readonly reconciler: Reconciler;
  readonly approvals: ApprovalStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Rules checked against the directory (GET /rules). */
  readonly ruleWatch: RulesApiOptions["ruleWatch"];
  /** Authenticates every token of ADMIN_API_SCOPES; each route then narrows. */
  readonly authenticate: express.RequestHandler;
  /** What GET /status reports (shared with the status page, so both see one cached app check). */
  readonly status: StatusSources;
}

/** The largest JSON body accepted: a note or a reason, never more. */
const MAX_BODY = "64kb";

const jobView = (j: Job) => ({
  id: j.id,
  userId: j.userId,
  requestId: j.requestId,
  state: j.dead ? "dead" : j.lockedBy ? "running" : "queued",
  runAt: j.runAt,
  attempts: j.attempts,
  maxAttempts: j.maxAttempts,
  lastError: j.lastError,
  createdAt: j.createdAt,
  updatedAt: j.updatedAt,
});

export function adminApi(o: AdminApiOptions): Router {
  const router = express.Router();
  router.use(o.authenticate);
  router.use(express.json({ limit: MAX_BODY }));
  const routes = routesOn(router);
  tasksRoutes(routes, { tasks: o.tasks, review: o.review, apps: o.provisioning.apps, clock: o.clock });
  usersRoutes(routes, { provisioning: o.provisioning, tasks: o.tasks, approvals: o.approvals, clock: o.clock });
  auditRoutes(routes, { audit: o.provisioning.audit });
  tokensRoutes(routes, { db: o.provisioning.db, audit: o.provisioning.audit, clock: o.clock });
  approvalsRoutes(routes, { db: o.provisioning.db, approvals: o.approvals, audit: o.provisioning.audit, jobs: o.jobs, directory: o.provisioning.directory });
  operationsRoutes(routes, o);
  rulesRoutes(routes, { ruleWatch: o.ruleWatch });
  statusRoutes(routes, o.status);
  evidenceRoutes(routes, { db: o.provisioning.db, directory: o.provisioning.directory, clock: o.clock });

  router.use((req, res) => sendProblem(res, 404, `No such endpoint ${req.method} /admin/api${req.path}`));
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      // A streamed answer (the audit export) failed midway: cut it so the client sees it incomplete.
      o.log.error("admin response failed after it started", { requestId: req.requestId, error: err });
      res.destroy();
      return;
    }
    const known = asBridgeError(err);
    if (known) return sendBridgeProblem(res, known);
    // body-parser's own errors (malformed JSON 400, too large 413, unknown charset 415) carry their status.
    const status = (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) return sendProblem(res, status, (err as Error).message);
    o.log.error("admin request failed", { requestId: req.requestId, error: err });
    sendProblem(res, 500, `quote request id ${req.requestId} when reporting it`);
  });
  return router;
}

/** The provisioning machinery: jobs and dead letters, reconcile and drift, seats. */
function operationsRoutes(routes: Routes, o: AdminApiOptions): void {
  const deps = o.provisioning;

  routes.get("/jobs", ADMIN_ONLY, (req, res) => {
    const { state } = parseQuery(z.strictObject({ state: z.enum(["queued", "dead"]).optional() }), req);
    const jobs = o.jobs.list(state === undefined ? {} : { dead: state === "dead" }, 500);
    res.json({ jobs: jobs.map(jobView), stats: o.jobs.stats() });
  });

  routes.post("/jobs/:id/retry", ADMIN_ONLY, (req, res) => {
    const id = pathId(req, "job");
    parseQuery(noQuery, req);
    if (!o.jobs.get(id)) throw new BridgeError("notFound", `job ${id} not found`);
    if (!o.jobs.retry(id)) throw new BridgeError("preconditionFailed", `job ${id} is running; retry it when it ends`);
    res.json(jobView(o.jobs.get(id)!));
  });

  routes.post("/reconcile", ADMIN_ONLY, async (req, res) => {
    parseQuery(noQuery, req);
    res.json(await o.reconciler.run(req.requestId));
  });

  routes.get("/drift", ADMIN_ONLY, (req, res) => {
    const { app } = parseQuery(z.strictObject({ app: textParam.optional() }), req);
    res.json({ items: o.drift.list(app), counts: o.drift.counts() });
  });

  routes.get("/apps/:app/seats", ADMIN_ONLY, async (req, res) => {
    const appName = String(req.params["app"]);
    parseQuery(noQuery, req);
    const app = deps.apps.find((a) => a.name === appName);
    const connector = deps.connectors.get(appName);
    // A seats report needs an app that reads its accounts back and keeps a stale-login window (HaloPSA).
    if (!app || !("staleLoginDays" in app) || !connector?.readBack) throw new BridgeError("notFound", `app ${appName} has no seats report`);
    const remote = await connector.readBack();
    const cutoff = o.clock.now().getTime() - app.staleLoginDays * 86_400_000;
    const madeByBridge = deps.accounts.list({ app: appName, state: "active" }).filter((a) => a.createdByBridge);
    const byBridge = new Set(madeByBridge.map((a) => a.externalId));
    // An agent the bridge made within the window has had no chance to log in yet: not a stale seat.
    const since = new Date(cutoff).toISOString();
    const fresh = new Set(
      madeByBridge
        .filter((a) => deps.audit.find({ resourceId: `${a.userId}/${appName}`, action: "provision.create", since, order: "newest", limit: 1 }).length > 0)
        .map((a) => a.externalId),
    );
    const active = remote.filter((r) => r.enabled);
    res.json({
      app: appName,
      activeAgents: active.length,
      activeCreatedByBridge: active.filter((r) => byBridge.has(r.externalId)).length,
      staleLoginDays: app.staleLoginDays,
      stale: active
        .filter((r) => (r.lastLoginAt === null ? !fresh.has(r.externalId) : Date.parse(r.lastLoginAt) < cutoff))
        .map((r) => ({ externalId: r.externalId, email: r.email, name: r.name, lastLoginAt: r.lastLoginAt, createdByBridge: byBridge.has(r.externalId) })),
    });
  });
}
