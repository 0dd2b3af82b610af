/** GET /admin/api/status: the status page as JSON (src/admin/status/status-report.ts). */
import type { Request } from "express";
import { noQuery, parseQuery } from "./input.js";
import { ADMIN_ONLY, type Routes } from "./routes.js";
import { statusReport, type StatusSources } from "./status/status-report.js";

/** Scheme and host as the client reached the bridge (behind a proxy: as trust proxy allows). */
export const originOf = (req: Request): string => `${req.protocol}://${req.get("host") ?? "localhost"}`;

export function statusRoutes(routes: Routes, status: StatusSources): void {
  routes.get("/status", ADMIN_ONLY, async (req, res) => {
    parseQuery(noQuery, req);
    res.json(await statusReport(status, originOf(req)));
  });
}
