/**
 * Admin REST API under /admin/api (contract: openapi.yaml): jobs and dead letters, drift,
 * reconcile on demand, per-user access with the reason for each grant, and HaloPSA seats.
 * Admin-scope tokens only; errors are RFC 9457 problem details.
 */
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { TaskReview } from "../apps/manual/review.js";
import type { Clock } from "../clock.js";
import type { TaskStore } from "../db/tasks.js";
import type { DriftStore } from "../db/drift.js";
import type { Job, JobQueue } from "../db/jobs.js";
import { BridgeError, isBridgeError } from "../errors.js";
import type { Logger } from "../log.js";
import { describeAction } from "../provisioning/plan.js";
import type { Reconciler } from "../provisioning/reconcile.js";
import { explain } from "../provisioning/rules.js";
import { planUser, type ProvisioningDeps } from "../provisioning/sync-user.js";
import { sendBridgeProblem, sendProblem } from "./problem.js";

export interface AdminApiOptions {
  readonly provisioning: ProvisioningDeps;
  readonly tasks: TaskStore;
  readonly review: TaskReview;
  readonly jobs: JobQueue;
  readonly drift: DriftStore;
  readonly reconciler: Reconciler;
  readonly clock: Clock;
  readonly log: Logger;
  readonly authenticate: express.RequestHandler;
}

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

/** Express 5 forwards rejected promises to the error handler; this keeps handlers small. */
type Handler = (req: Request, res: Response) => void | Promise<void>;

export function adminApi(o: AdminApiOptions): Router {
  const router = express.Router();
  router.use(o.authenticate);
  router.use(express.json({ limit: "64kb" }));
  const { provisioning: deps } = o;
  const get = (path: string, h: Handler) => router.get(path, h);
  const post = (path: string, h: Handler) => router.post(path, h);

  get("/jobs", (req, res) => {
    const state = typeof req.query["state"] === "string" ? req.query["state"] : undefined;
    if (state !== undefined && state !== "queued" && state !== "dead") throw new BridgeError("invalidValue", 'state must be "queued" or "dead"');
    const jobs = o.jobs.list(state === undefined ? {} : { dead: state === "dead" }, 500);
    res.json({ jobs: jobs.map(jobView), stats: o.jobs.stats() });
  });

  post("/jobs/:id/retry", (req, res) => {
    const id = Number(req.params["id"]);
    const job = Number.isInteger(id) ? o.jobs.get(id) : undefined;
    if (!job) throw new BridgeError("notFound", `job ${String(req.params["id"])} not found`);
    if (!o.jobs.retry(id)) throw new BridgeError("preconditionFailed", `job ${id} is running; retry it when it ends`);
    res.json(jobView(o.jobs.get(id)!));
  });

  post("/reconcile", async (req, res) => {
    res.json(await o.reconciler.run(req.requestId));
  });

  get("/drift", (req, res) => {
    const app = typeof req.query["app"] === "string" ? req.query["app"] : undefined;
    res.json({ items: o.drift.list(app), counts: o.drift.counts() });
  });

  get("/users/:id/access", (req, res) => {
    const userId = String(req.params["id"]);
    const p = planUser(deps, userId);
    if (p.userName === null && p.accounts.length === 0) throw new BridgeError("notFound", `user ${userId} not found`);
    const apps = [...new Set([...deps.apps.map((a) => a.name), ...p.accounts.map((a) => a.app)])];
    res.json({
      userId,
      userName: p.userName,
      apps: apps.map((app) => {
        const w = p.wanted.find((x) => x.app === app);
        const account = p.accounts.find((a) => a.app === app);
        const action = p.actions.find((a) => a.app === app);
        return {
          app,
          wanted: w ? { role: w.role, because: explain(w), reasons: w.reasons } : null,
          account: account ?? null,
          pendingAction: action ? describeAction(action) : null,
        };
      }),
    });
  });

  get("/apps/:app/seats", async (req, res) => {
    const appName = String(req.params["app"]);
    const app = deps.apps.find((a) => a.name === appName);
    const connector = deps.connectors.get(appName);
    if (app?.type !== "halopsa" || !connector?.readBack) throw new BridgeError("notFound", `app ${appName} has no seats report`);
    const remote = await connector.readBack();
    const cutoff = o.clock.now().getTime() - app.staleLoginDays * 86_400_000;
    const byBridge = new Set(deps.accounts.list({ app: appName, state: "active" }).filter((a) => a.createdByBridge).map((a) => a.externalId));
    const active = remote.filter((r) => r.enabled);
    res.json({
      app: appName,
      activeAgents: active.length,
      activeCreatedByBridge: active.filter((r) => byBridge.has(r.externalId)).length,
      staleLoginDays: app.staleLoginDays,
      stale: active
        .filter((r) => r.lastLoginAt === null || Date.parse(r.lastLoginAt) < cutoff)
        .map((r) => ({ externalId: r.externalId, email: r.email, name: r.name, lastLoginAt: r.lastLoginAt, createdByBridge: byBridge.has(r.externalId) })),
    });
  });

  router.use((req, res) => sendProblem(res, 404, "Not Found", `No such endpoint ${req.method} /admin/api${req.path}`));
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isBridgeError(err)) return sendBridgeProblem(res, err);
    // body-parser's own errors (malformed JSON, too large) carry their 4xx status.
    const status = (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) return sendProblem(res, status, "Bad Request", (err as Error).message);
    o.log.error("admin request failed", { requestId: req.requestId, error: err });
    sendProblem(res, 500, "Internal Server Error", `quote request id ${req.requestId} when reporting it`);
  });
  return router;
}
