/**
 * Request ids and the access log: one JSON line per request with method, path, status, duration,
 * request id and token name. Never the query string (filters carry email addresses), never a body,
 * never a token. The same measurement goes to the request metrics, labelled with the route
 * template that answered (`/admin/api/tasks/:id`), never the path itself.
 */
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { logRequest, type Logger } from "../log.js";

declare module "express-serve-static-core" {
  interface Request {
    requestId: string;
    /** The route template, set by a router that dispatches on its own (the SCIM router). */
    routeTemplate?: string;
  }
}

/** Told of every finished request (the bridge's metrics). */
export interface RequestObserver {
  requestFinished(method: string, route: string, status: number, seconds: number): void;
}

/** The label of a request that no route took: a 404, a probe, a scanner's guess. */
const UNMATCHED = "unmatched";

/**
 * The template of the route that answered. Express keeps the matched route on the request and the
 * mount path in baseUrl while the answering router is still the one handling the request, which is
 * the case when the response finishes (every router here answers its own 404s and errors).
 */
function routeOf(req: Request): string {
  if (req.routeTemplate !== undefined) return req.routeTemplate;
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === "string" ? `${req.baseUrl}${path}` : UNMATCHED;
}

const SAFE_ID = /^[\w.:-]{1,128}$/;

export function requestLog(log: Logger, observer: RequestObserver) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const given = req.get("x-request-id");
    req.requestId = given && SAFE_ID.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", req.requestId);
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      observer.requestFinished(req.method, routeOf(req), res.statusCode, ms / 1000);
      logRequest(log, {
        requestId: req.requestId,
        method: req.method,
        path: req.originalUrl.split("?")[0]!,
        status: res.statusCode,
        ms: Math.round(ms * 100) / 100,
        tokenName: req.principal?.name,
      });
    });
    next();
  };
}
