/**
 * GET /metrics in the Prometheus text format, for tokens of scope `metrics` (what Prometheus is
 * given) or `admin`. Authentication is the caller's (src/http/app.ts); this is the scrape itself.
 */
import type { Request, Response } from "express";
import type { Registry } from "prom-client";
import { sendProblem } from "../admin/problem.js";
import type { Scope } from "../db/tokens.js";
import type { Logger } from "../log.js";

export const METRICS_SCOPES: readonly Scope[] = ["metrics", "admin"];

export function scrape(registry: Registry, log: Logger) {
  return async (req: Request, res: Response): Promise<void> => {
    let text: string;
    try {
      text = await registry.metrics();
    } catch (e: unknown) {
      // A scrape-time query failed (the database is gone): say so, and keep the details in the log.
      log.error("metrics scrape failed", { requestId: req.requestId, error: e });
      sendProblem(res, 500, `quote request id ${req.requestId} when reporting it`);
      return;
    }
    res.setHeader("Content-Type", registry.contentType);
    res.setHeader("Cache-Control", "no-store");
    res.end(text);
  };
}
