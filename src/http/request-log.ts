/**
 * Request ids and the access log: one JSON line per request with method, path, status, duration,
 * request id and token name. Never the query string (filters carry email addresses), never a body,
 * never a token.
 */
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log.js";

declare module "express-serve-static-core" {
  interface Request {
    requestId: string;
  }
}

const SAFE_ID = /^[\w.:-]{1,128}$/;

export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const given = req.get("x-request-id");
    req.requestId = given && SAFE_ID.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", req.requestId);
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info("request", {
        requestId: req.requestId,
        method: req.method,
        path: req.originalUrl.split("?")[0],
        status: res.statusCode,
        ms: Math.round(ms * 100) / 100,
        tokenName: req.principal?.name,
      });
    });
    next();
  };
}
