/**
 * The HTTP application: request ids, access log and request metrics, health probes, /metrics,
 * the SCIM API, the admin API and the review page (/admin).
 *
 * The SCIM API is served on node's own request and response, ahead of express: an IdP's lookups
 * are the bridge's hottest path, and express costs most of their CPU. Express swaps the prototypes
 * of every request and response (about 80 µs a request on the bench machine, as much as node's
 * whole HTTP handling) and routes through its layers (about 45 µs). The middleware the two share
 * (access log, rate limits, authentication) is written against node's types (handler.ts), and
 * the client's address and scheme come from express's own trust-proxy decision (forwarded.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import express from "express";
import { bearerAuth } from "../auth/bearer.js";
import type { AuthFailures } from "../auth/failures.js";
import type { TokenVerifier } from "../auth/tokens.js";
import type { Logger } from "../log.js";
import type { BridgeMetrics } from "../metrics/bridge-metrics.js";
import { METRICS_SCOPES, scrape } from "../metrics/endpoint.js";
import { ADMIN_API_SCOPES, adminApi, type AdminApiOptions } from "../admin/api.js";
import { adminWeb } from "../admin/web/router.js";
import { SessionStore } from "../db/sessions.js";
import { denyProblem } from "../admin/problem.js";
import type { ScimDeps } from "../scim/deps.js";
import { landing, notFoundOutside } from "./landing.js";
import { denyScim, scimApi, scimPathOf, send } from "../scim/router.js";
import { ERROR_SCHEMA } from "../scim/schema.js";
import { forwardedOf, type Trust } from "./forwarded.js";
import { pathOf, type Handler } from "./handler.js";
import { NO_LIMIT, refusePlainText, refuseProblem, refuseScim, RequestLimits } from "./rate-limit.js";
import type { Readiness } from "./readiness.js";
import { requestLog } from "./request-log.js";
import type { AppChecks } from "../provisioning/app-checks.js";
import { ScimCallers } from "./scim-callers.js";
import { packageVersion, type StatusSources } from "../admin/status/status-report.js";

export interface AppOptions {
  readonly deps: ScimDeps;
  readonly verifier: TokenVerifier;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  readonly publicUrl: string | undefined;
  readonly trustProxy: boolean | number | string;
  /** Failed authentications by reason, read by /metrics; omitted by the benchmark server. */
  readonly authFailures?: AuthFailures;
  /** Request metrics, and what /metrics serves. */
  readonly metrics: BridgeMetrics;
  /** Readiness for /readyz; omitted by the benchmark server. */
  readonly readiness?: () => Readiness;
  /** Per-address and per-token rate limits; omitted by the benchmark server, which measures the API itself. */
  readonly limits?: RequestLimits;
  /** The admin API's dependencies; omitted by the benchmark server, which serves SCIM only. */
  readonly admin?: Omit<AdminApiOptions, "authenticate" | "log" | "status"> & {
    /** The bridge's periodic app checks, which the status page and API show. */
    readonly appChecks: Pick<AppChecks, "refresh" | "view">;
    /** The HaloPSA ticket sync, shown on the status page and API when any app has tickets. */
    readonly ticketSync?: StatusSources["tickets"];
  };
}

/** What node's HTTP server calls with each request. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** No browser may reinterpret an API answer (JSON, problem+json) as HTML or script. */
const noSniff: Handler = (_req, res, next) => {
  res.setHeader("X-Content-Type-Options", "nosniff");
  next();
};

export function createApp(o: AppOptions): RequestListener {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", o.trustProxy);
  app.set("etag", false);
  // Query strings are parsed flat: SCIM parameters are plain strings, never nested objects.
  app.set("query parser", "simple");
  const forwarded = forwardedOf(app.get("trust proxy fn") as Trust);
  const logged = requestLog(o.log, o.metrics);
  app.use(logged, noSniff);
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  const readiness = o.readiness;
  if (readiness) {
    app.get("/readyz", (_req, res) => {
      const { checks, reason } = readiness();
      const ready = checks.database && checks.migrations && checks.worker;
      res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks, ...(reason === undefined ? {} : { reason }) });
    });
  }
  // The reason and, for a recognised token, its name; never the presented token or any part of it.
  const auth = bearerAuth(o.verifier, (req, failure) => {
    o.authFailures?.record(failure.reason);
    o.log.warn("authentication failed", { requestId: req.requestId, path: pathOf(req), ip: forwarded.address(req), ...failure });
  });
  const limits = o.limits ?? new RequestLimits({ perToken: NO_LIMIT, perAddress: NO_LIMIT, log: o.log });
  const callers = new ScimCallers();
  const scim = scimApi({
    deps: o.deps,
    log: o.log,
    maxBodyBytes: o.maxBodyBytes,
    publicUrl: o.publicUrl,
    protocol: forwarded.protocol,
    admit: [logged, noSniff, limits.byAddress(forwarded.address, refuseScim), callers.recording(limits.byToken(auth("scim", denyScim), refuseScim))],
  });
  // Prometheus gets a `metrics` token; limited like the admin API so the door is no place to guess tokens.
  app.get("/metrics", limits.byAddress(forwarded.address, refuseProblem), limits.byToken(auth(METRICS_SCOPES, denyProblem), refuseProblem), scrape(o.metrics.registry, o.log));
  if (o.admin) {
    const status = statusSourcesOf(o, o.admin, callers);
    app.use("/admin/api", limits.byAddress(forwarded.address, refuseProblem), adminApi({ ...o.admin, status, log: o.log, authenticate: limits.byToken(auth(ADMIN_API_SCOPES, denyProblem), refuseProblem) }));
    const { provisioning, tasks, review, drift, clock, ruleWatch } = o.admin;
    app.use(
      "/admin",
      limits.byAddress(forwarded.address, refusePlainText),
      adminWeb({
        provisioning,
        tasks,
        review,
        drift,
        clock,
        audit: provisioning.audit,
        approvals: o.admin.approvals,
        jobs: o.admin.jobs,
        status,
        ruleWatch,
        groups: o.deps.directory.groups,
        sessions: new SessionStore(provisioning.db, clock),
        verifier: o.verifier,
        authFailures: o.authFailures,
        log: o.log,
      }),
    );
  }
  app.get("/", landing(o.publicUrl));
  app.use(notFoundOutside(o.publicUrl));
  return (req, res) => {
    if (scimPathOf(req.url) === undefined) return void app(req, res);
    scim(req, res, (err) => {
      // Reached only when the SCIM error handler itself failed: the answer may be half sent.
      o.log.error("SCIM request failed", { requestId: req.requestId, error: err });
      if (res.headersSent) return void res.destroy();
      send(res, { status: 500, body: { schemas: [ERROR_SCHEMA], status: "500", detail: `Internal error; quote request id ${req.requestId} when reporting it` } });
    });
  };
}

/** The status page's sources: the bridge's own app checks, for the page and the API alike. */
function statusSourcesOf(o: AppOptions, admin: NonNullable<AppOptions["admin"]>, callers: ScimCallers): StatusSources {
  const { provisioning } = admin;
  return {
    provisioning,
    jobs: admin.jobs,
    approvals: admin.approvals,
    reconciler: admin.reconciler,
    drift: admin.drift,
    checks: admin.appChecks,
    callers,
    workerRunning: () => o.readiness?.().checks.worker ?? true,
    tickets: admin.ticketSync,
    publicUrl: o.publicUrl,
    version: packageVersion(),
  };
}
