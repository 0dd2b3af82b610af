/**
 * Request ids and the access log: one JSON line per request with method, path, status, duration,
 * request id and token name. Never the query string (filters carry email addresses), never a body,
 * never a token. The same measurement goes to the request metrics, labelled with the route
 * template that answered (`/admin/api/tasks/:id`), never the path itself.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { logRequest, type Logger } from "../log.js";
import { header, pathOf, type Handler } from "./handler.js";

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
function routeOf(req: IncomingMessage): string {
  if (req.routeTemplate !== undefined) return req.routeTemplate;
  const { route, baseUrl } = req as { route?: { path?: unknown }; baseUrl?: string };
  return typeof route?.path === "string" ? `${baseUrl ?? ""}${route.path}` : UNMATCHED;
}

const SAFE_ID = /^[\w.:-]{1,128}$/;

export function requestLog(log: Logger, observer: RequestObserver): Handler {
  return (req: IncomingMessage, res: ServerResponse, next): void => {
    const started = process.hrtime.bigint();
    const given = header(req, "x-request-id");
    req.requestId = given && SAFE_ID.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", req.requestId);
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      observer.requestFinished(req.method ?? "", routeOf(req), res.statusCode, ms / 1000);
      logRequest(log, {
        requestId: req.requestId,
        method: req.method ?? "",
        path: pathOf(req),
        status: res.statusCode,
        ms: Math.round(ms * 100) / 100,
        tokenName: req.principal?.name,
      });
    });
    next();
  };
}
