/**
 * Offboarding evidence in the admin pages (docs/offboarding-evidence.md): a person's printable
 * access timeline (GET /admin/users/{id}/timeline) and the deprovisioning report's removals as
 * CSV (GET /admin/reports/deprovisioning.csv, the last 30 days), for an admin to hand over.
 */
import type { RequestHandler, Response, Router } from "express";
import type { Clock } from "../../clock.js";
import { EvidenceReader } from "../../db/evidence.js";
import type { ProvisioningDeps } from "../../provisioning/sync-user.js";
import { deprovisioningCsv, deprovisioningReport } from "../deprovisioning-report.js";
import { originOf } from "../status-api.js";
import type { StatusSources } from "../status/status-report.js";
import { userTimeline } from "../user-timeline.js";
import type { SafeHtml } from "./html.js";
import { errorPage } from "./pages/error.js";
import { printableTimelinePage } from "./pages/timeline.js";
import { viewerOf } from "./session.js";

export interface EvidencePagesOptions {
  readonly provisioning: ProvisioningDeps;
  readonly status: Pick<StatusSources, "publicUrl" | "version">;
  readonly clock: Clock;
  readonly adminOnly: (what: string) => RequestHandler;
  readonly send: (res: Response, status: number, page: () => SafeHtml) => void;
}

export function evidencePages(router: Router, o: EvidencePagesOptions): void {
  const reader = new EvidenceReader(o.provisioning.db);

  router.get("/users/:id/timeline", o.adminOnly("the access timeline"), (req, res) => {
    const userId = String(req.params["id"]);
    const timeline = userTimeline(reader, userId, o.provisioning.directory.snapshot(userId).user?.userName);
    if (!timeline) return o.send(res, 404, () => errorPage("User not found", `No user with SCIM id ${userId} is known to the bridge or its audit log.`, viewerOf(req)));
    const instance = o.status.publicUrl ?? originOf(req);
    o.send(res, 200, () => printableTimelinePage({ timeline, apps: o.provisioning.apps, generatedAt: o.clock.now(), instance, version: o.status.version }));
  });

  router.get("/reports/deprovisioning.csv", o.adminOnly("the deprovisioning report"), (_req, res) => {
    const csv = deprovisioningCsv(deprovisioningReport(o.provisioning.db, o.clock, {}));
    res.attachment("deprovisioning.csv").type("text/csv; charset=utf-8; header=present").send(csv);
  });
}
