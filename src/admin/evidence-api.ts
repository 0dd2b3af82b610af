/**
 * Offboarding evidence (docs/offboarding-evidence.md): a user's access timeline
 * (`GET /users/{id}/timeline`) and the deprovisioning report (`GET /reports/deprovisioning`, JSON,
 * or CSV with `Accept: text/csv` or `?format=csv`).
 */
import { z } from "zod";
import type { Clock } from "../clock.js";
import type { Db } from "../db/database.js";
import { EvidenceReader } from "../db/evidence.js";
import type { DirectoryReader } from "../domain/readers.js";
import { BridgeError } from "../errors.js";
import { deprovisioningCsv, deprovisioningReport } from "./deprovisioning-report.js";
import { noQuery, parseQuery, timeParam } from "./input.js";
import { ADMIN_ONLY, type Routes } from "./routes.js";
import { userTimeline } from "./user-timeline.js";

export interface EvidenceApiOptions {
  readonly db: Db;
  readonly directory: Pick<DirectoryReader, "snapshot">;
  readonly clock: Clock;
}

const reportQuery = z.strictObject({
  since: timeParam.optional(),
  until: timeParam.optional(),
  format: z.enum(["json", "csv"]).optional(),
});

export function evidenceRoutes(routes: Routes, o: EvidenceApiOptions): void {
  const reader = new EvidenceReader(o.db);

  routes.get("/users/:id/timeline", ADMIN_ONLY, (req, res) => {
    const userId = String(req.params["id"]);
    parseQuery(noQuery, req);
    const timeline = userTimeline(reader, userId, o.directory.snapshot(userId).user?.userName);
    if (!timeline) throw new BridgeError("notFound", `user ${userId} not found, and the audit log holds no history for it`);
    res.json({ generatedAt: o.clock.now().toISOString(), ...timeline });
  });

  routes.get("/reports/deprovisioning", ADMIN_ONLY, (req, res) => {
    const q = parseQuery(reportQuery, req);
    const report = deprovisioningReport(o.db, o.clock, q);
    const csv = q.format === "csv" || (q.format === undefined && req.accepts(["application/json", "text/csv"]) === "text/csv");
    res.vary("Accept");
    if (!csv) return void res.json(report);
    // RFC 4180 §3 registers text/csv with the optional header parameter.
    res.attachment("deprovisioning.csv").type("text/csv; charset=utf-8; header=present").send(deprovisioningCsv(report));
  });
}
