/**
 * The HTTP application: request ids and access log, health probes, the SCIM API, the admin API
 * and the review page (/admin).
 */
import express, { type Express } from "express";
import { bearerAuth } from "../auth/bearer.js";
import type { TokenVerifier } from "../auth/tokens.js";
import type { Logger } from "../log.js";
import { ADMIN_API_SCOPES, adminApi, type AdminApiOptions } from "../admin/api.js";
import { adminWeb } from "../admin/web/router.js";
import { SessionStore } from "../db/sessions.js";
import { denyProblem } from "../admin/problem.js";
import type { ScimDeps } from "../scim/deps.js";
import { denyScim, SCIM_BASE, scimRouter } from "../scim/router.js";
import type { ReadinessChecks } from "./readiness.js";
import { requestLog } from "./request-log.js";

export interface AppOptions {
  readonly deps: ScimDeps;
  readonly verifier: TokenVerifier;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  readonly publicUrl: string | undefined;
  readonly trustProxy: boolean | number | string;
  /** Readiness for /readyz; omitted by the benchmark server. */
  readonly readiness?: () => ReadinessChecks;
  /** The admin API's dependencies; omitted by the benchmark server, which serves SCIM only. */
  readonly admin?: Omit<AdminApiOptions, "authenticate" | "log">;
}

export function createApp(o: AppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", o.trustProxy);
  app.set("etag", false);
  // Query strings are parsed flat: SCIM parameters are plain strings, never nested objects.
  app.set("query parser", "simple");
  app.use(requestLog(o.log));
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  const readiness = o.readiness;
  if (readiness) {
    app.get("/readyz", (_req, res) => {
      const checks = readiness();
      const ready = checks.database && checks.migrations && checks.worker;
      res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks });
    });
  }
  const auth = bearerAuth(o.verifier, (req) => {
    o.log.warn("authentication failed", { requestId: req.requestId, path: req.originalUrl.split("?")[0], ip: req.ip });
  });
  app.use(
    SCIM_BASE,
    scimRouter({ deps: o.deps, log: o.log, maxBodyBytes: o.maxBodyBytes, publicUrl: o.publicUrl, authenticate: auth("scim", denyScim) }),
  );
  if (o.admin) {
    app.use("/admin/api", adminApi({ ...o.admin, log: o.log, authenticate: auth(ADMIN_API_SCOPES, denyProblem) }));
    const { provisioning, tasks, review, drift, clock } = o.admin;
    app.use(
      "/admin",
      adminWeb({
        provisioning,
        tasks,
        review,
        drift,
        clock,
        audit: provisioning.audit,
        groups: o.deps.directory.groups,
        sessions: new SessionStore(provisioning.db, clock),
        verifier: o.verifier,
        log: o.log,
      }),
    );
  }
  return app;
}
