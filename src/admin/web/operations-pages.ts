/**
 * The admin pages about the bridge's own machinery: /admin/status (the bridge seen whole) and
 * /admin/jobs (the queue and its dead letters, with Retry). Mounted by router.ts after its session
 * and CSRF checks, so every POST here already carries a valid synchronizer token.
 */
import type { RequestHandler, Response, Router } from "express";
import type { JobQueue } from "../../db/jobs.js";
import { profileOf } from "../../provisioning/rules.js";
import type { ProvisioningDeps } from "../../provisioning/sync-user.js";
import type { Clock } from "../../clock.js";
import { originOf } from "../status-api.js";
import { statusReport, type StatusSources } from "../status/status-report.js";
import { deprovisioningReport } from "../deprovisioning-report.js";
import { html, type SafeHtml } from "./html.js";
import type { Notice, Viewer } from "./layout.js";
import { jobsPage, type JobRow, type JobsPageData } from "./pages/jobs.js";
import { statusPage } from "./pages/status.js";
import { viewerOf } from "./session.js";

export interface OperationsPagesOptions {
  readonly provisioning: ProvisioningDeps;
  readonly jobs: JobQueue;
  readonly status: StatusSources;
  readonly clock: Clock;
  readonly adminOnly: (what: string) => RequestHandler;
  readonly send: (res: Response, status: number, page: () => SafeHtml) => void;
}

/** How many jobs of each kind the jobs page lists. */
const JOBS_SHOWN = 500;

export function jobsData(o: Pick<OperationsPagesOptions, "provisioning" | "jobs">, viewer: Viewer, now: Date, n?: Notice): JobsPageData {
  const names = new Map<string, string | null>();
  const row = (job: JobRow["job"]): JobRow => {
    if (!names.has(job.userId)) {
      const { user } = o.provisioning.directory.snapshot(job.userId);
      names.set(job.userId, user ? profileOf(user).displayName : null);
    }
    return { job, userName: names.get(job.userId) ?? null };
  };
  return {
    viewer,
    now,
    dead: o.jobs.list({ dead: true }, JOBS_SHOWN).map(row),
    queued: o.jobs.list({ dead: false }, JOBS_SHOWN).map(row),
    notice: n,
  };
}

export function operationsPages(router: Router, o: OperationsPagesOptions): void {
  const now = () => o.clock.now();

  router.get("/status", o.adminOnly("the status page"), async (req, res) => {
    const report = await statusReport(o.status, originOf(req));
    const deprovisioning = deprovisioningReport(o.provisioning.db, o.clock, {});
    o.send(res, 200, () => statusPage({ viewer: viewerOf(req), now: now(), apps: o.provisioning.apps, report, deprovisioning }));
  });

  router.get("/jobs", o.adminOnly("the job queue"), (req, res) => {
    const id = Number(req.query["job"]);
    const n: Notice | undefined =
      req.query["did"] === "retry" && Number.isInteger(id) ? { kind: "success", body: html`<p>Job #${id} queued to run now, with a fresh set of attempts.</p>` } : undefined;
    o.send(res, 200, () => jobsPage(jobsData(o, viewerOf(req), now(), n)));
  });

  router.post("/jobs/:id/retry", o.adminOnly("retrying jobs"), (req, res) => {
    const viewer = viewerOf(req);
    const id = Number(req.params["id"]);
    const failWith = (status: number, message: string) =>
      o.send(res, status, () => jobsPage(jobsData(o, viewer, now(), { kind: "error", body: html`<p><strong>Job #${String(req.params["id"])} was not retried:</strong> ${message}</p>` })));
    if (!Number.isInteger(id) || !o.jobs.get(id)) return failWith(404, "there is no such job (it may have finished meanwhile)");
    // Same rule as POST /admin/api/jobs/{id}/retry: a job a worker holds is left to finish.
    if (!o.jobs.retry(id)) return failWith(409, "a worker is running it right now; retry it when it ends");
    res.redirect(303, `/admin/jobs?did=retry&job=${id}#outcome`);
  });
}
