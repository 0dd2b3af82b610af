/**
 * The review page at /admin: server-rendered HTML for people working the manual-task queue.
 * Sign in with an admin or reviewer token (sign-in.ts); every POST is CSRF-checked (csrf.ts);
 * reviewers get the queue and its actions, admins also the user, drift, audit, status and jobs pages.
 * Task actions go through TaskReview, the same code as the admin API and the CLI.
 */
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { z } from "zod";
import type { TaskReview } from "../../provisioning/task-review.js";
import type { AuthFailures } from "../../auth/failures.js";
import type { TokenVerifier } from "../../auth/tokens.js";
import type { Clock } from "../../clock.js";
import type { ApprovalStore } from "../../db/approvals.js";
import type { AuditLog } from "../../db/audit.js";
import type { JobQueue } from "../../db/jobs.js";
import type { StatusSources } from "../status/status-report.js";
import { decide } from "../../provisioning/approvals.js";
import type { DriftStore } from "../../db/drift.js";
import type { SessionStore } from "../../db/sessions.js";
import type { TaskStore } from "../../db/tasks.js";
import { isBridgeError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { ProvisioningDeps } from "../../provisioning/sync-user.js";
import { httpStatusOf } from "../../scim/protocol.js";
import { CSRF_FIELD, csrfTokenMatches } from "./csrf.js";
import { html, path } from "./html.js";
import { isAdmin, type Notice, type Viewer } from "./layout.js";
import { auditData, driftData, outcomeOf, queueData, userData, type PageSources } from "./page-data.js";
import { approvalsPage } from "./pages/approvals.js";
import { auditPage } from "./pages/audit.js";
import { driftPage } from "./pages/drift.js";
import { errorPage } from "./pages/error.js";
import { outcomeNotice, VERBS, type Verb } from "./pages/outcome.js";
import { queuePage } from "./pages/queue.js";
import { NOTE_MAX } from "./pages/task-card.js";
import { userPage } from "./pages/user.js";
import { sendPage } from "./send-page.js";
import { operationsPages } from "./operations-pages.js";
import { loadSession, viewerOf } from "./session.js";
import { safeNext, signInHandlers } from "./sign-in.js";
import { serveAsset } from "./static-assets.js";
import { usersWebRoutes } from "./users-routes.js";
import { evidencePages } from "./evidence-pages.js";

export interface AdminWebOptions {
  readonly provisioning: ProvisioningDeps;
  readonly groups: PageSources["groups"];
  readonly tasks: TaskStore;
  readonly review: TaskReview;
  readonly drift: DriftStore;
  readonly audit: AuditLog;
  readonly approvals: ApprovalStore;
  readonly jobs: JobQueue;
  /** What the status page reports (shared with GET /admin/api/status). */
  readonly status: StatusSources;
  readonly ruleWatch: PageSources["ruleWatch"];
  readonly sessions: SessionStore;
  readonly verifier: TokenVerifier;
  readonly authFailures?: AuthFailures;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * CSP: only this site's stylesheet and script, no inline code, forms post only here, no framing
 * (clickjacking a "Mark done" button), no base-tag tricks.
 */
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const actionForm = z.object({
  note: z.string().max(NOTE_MAX, `a note has at most ${NOTE_MAX} characters`).optional(),
  reason: z.string().max(NOTE_MAX, `a reason has at most ${NOTE_MAX} characters`).optional(),
  back: z.enum(["queue", "user"]).optional(),
});

const decisionForm = z.object({
  decision: z.enum(["approve", "reject"], { message: "choose approve or reject" }),
  note: z.string().max(NOTE_MAX, `a note has at most ${NOTE_MAX} characters`).optional(),
});

const isVerb = (v: unknown): v is Verb => typeof v === "string" && (VERBS as readonly string[]).includes(v);

export function adminWeb(o: AdminWebOptions): Router {
  const router = express.Router();
  const sources: PageSources = { provisioning: o.provisioning, groups: o.groups, tasks: o.tasks, drift: o.drift, audit: o.audit, ruleWatch: o.ruleWatch, approvals: o.approvals, jobs: o.jobs };
  const now = () => o.clock.now();
  const send = sendPage;
  const signIn = signInHandlers({ sessions: o.sessions, verifier: o.verifier, log: o.log, send, authFailures: o.authFailures });

  router.use((_req, res, next) => {
    res.setHeader("Content-Security-Policy", CSP);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  router.get("/assets/:name", serveAsset);
  router.use(express.urlencoded({ extended: false, limit: "32kb", parameterLimit: 20 }));
  router.use(loadSession(o.sessions, (session) => o.verifier.currentHash(session)));

  router.get("/sign-in", signIn.show);
  router.post("/sign-in", signIn.submit);

  // Everything below needs a session.
  router.use((req, res, next) => {
    if (req.webSession) return next();
    if (req.method !== "GET" && req.method !== "HEAD") return res.redirect(303, "/admin/sign-in?expired");
    // A SameSite=Strict cookie is not sent when a person follows a link from another site (a chat
    // message, the webhook): reload once from here, which is same-site, before asking them to sign in.
    if (req.get("sec-fetch-site") === "cross-site") {
      return send(res, 200, () => html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0"><title>scim-bridge</title></head><body><p><a href="${req.originalUrl}">Continue</a></p></body></html>`);
    }
    res.redirect(303, `/admin/sign-in?next=${encodeURIComponent(safeNext(req.originalUrl))}`);
  });
  // Synchronizer token on every POST; a form from another site cannot know it.
  router.use((req, res, next) => {
    if (req.method !== "POST") return next();
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (csrfTokenMatches(req.webSession?.session.csrfToken, body[CSRF_FIELD])) return next();
    o.log.warn("review page: CSRF token missing or wrong", { requestId: req.requestId, path: req.path, tokenName: req.webSession?.session.tokenName });
    send(res, 403, () => errorPage("Form expired", "This form has expired or did not come from this page. Reload the page and try again.", viewerOf(req)));
  });
  const adminOnly = (what: string) => (req: Request, res: Response, next: NextFunction) => {
    const viewer = viewerOf(req);
    if (isAdmin(viewer)) return next();
    send(res, 403, () => errorPage("Admins only", `You are signed in as a reviewer: you can work the task queue, but ${what} is for admins.`, viewer));
  };

  router.post("/sign-out", signIn.signOut);

  router.get("/", (req, res) => {
    const viewer = viewerOf(req);
    const verb = req.query["did"];
    const taskId = Number(req.query["task"]);
    const outcome = isVerb(verb) && Number.isInteger(taskId) ? outcomeOf(sources, verb, taskId) : undefined;
    const waiting = isAdmin(viewer) ? o.approvals.list().length : 0;
    // An admin lands here: changes held for approval come first, unless a task action just ran.
    const held: Notice | undefined =
      waiting > 0 ? { kind: "error", body: html`<p><strong>${waiting} ${waiting === 1 ? "change waits" : "changes wait"} for your approval.</strong> Deactivations or downgrades are held until an admin decides. <a href="/admin/approvals">Review them</a>.</p>` } : undefined;
    send(res, 200, () => queuePage(queueData(sources, viewer, now(), (outcome && outcomeNotice(outcome, o.provisioning.apps, viewer)) ?? held)));
  });

  router.post("/tasks/:id/:verb", (req, res) => {
    const viewer = viewerOf(req);
    const id = Number(req.params["id"]);
    const verb = req.params["verb"];
    const task = Number.isInteger(id) ? o.tasks.get(id) : undefined;
    if (!isVerb(verb) || !task) return send(res, 404, () => errorPage("Not found", `There is no task ${String(req.params["id"])} to ${String(verb)}.`, viewer));
    const form = actionForm.safeParse(req.body ?? {});
    const back = form.success && form.data.back === "user" && isAdmin(viewer) ? "user" : "queue";
    const failWith = (status: number, message: string) => {
      const n: Notice = { kind: "error", body: html`<p><strong>Task #${id} was not changed:</strong> ${message}</p>` };
      const user = back === "user" ? userData(sources, viewer, now(), task.userId, n) : undefined;
      send(res, status, () => (user ? userPage(user) : queuePage(queueData(sources, viewer, now(), n))));
    };
    if (!form.success) return failWith(400, form.error.issues.map((i) => i.message).join("; "));
    try {
      if (verb === "claim") o.review.claim(id, viewer.actor);
      else if (verb === "done") o.review.complete(id, viewer.actor, form.data.note?.trim() || null);
      else if (verb === "fail") o.review.fail(id, viewer.actor, form.data.reason ?? "");
      else o.review.reopen(id, viewer.actor);
    } catch (e: unknown) {
      if (!isBridgeError(e)) throw e;
      return failWith(httpStatusOf(e.code), e.message);
    }
    // Post/Redirect/Get: a reload does not repeat the action, and the page shows the stored result.
    const query = `?did=${verb}&task=${id}#outcome`;
    res.redirect(303, back === "user" ? `${path("users", task.userId)}${query}` : `/admin${query}`);
  });

  usersWebRoutes(router, adminOnly, { provisioning: o.provisioning, tasks: o.tasks, approvals: o.approvals, clock: o.clock });
  evidencePages(router, { provisioning: o.provisioning, status: o.status, clock: o.clock, adminOnly, send });

  router.get("/users/:id", adminOnly("the user page"), (req, res) => {
    const viewer = viewerOf(req);
    const userId = String(req.params["id"]);
    const verb = req.query["did"];
    const taskId = Number(req.query["task"]);
    const outcome = isVerb(verb) && Number.isInteger(taskId) ? outcomeOf(sources, verb, taskId) : undefined;
    const data = userData(sources, viewer, now(), userId, outcome && outcomeNotice(outcome, o.provisioning.apps, viewer));
    if (!data) return send(res, 404, () => errorPage("User not found", `No user with SCIM id ${userId} is known to the bridge.`, viewer));
    send(res, 200, () => userPage(data));
  });

  const approvalsData = (viewer: Viewer, n?: Notice) => ({
    viewer,
    now: now(),
    pending: o.approvals.list().map((set) => ({
      set,
      holds: o.approvals.holdsOf(set.id).map((h) => ({ ...h, userName: o.provisioning.directory.snapshot(h.userId).user?.userName ?? null })),
    })),
    decided: o.approvals.list({}).filter((s) => s.state !== "pending").slice(0, 10),
    notice: n,
  });

  router.get("/approvals", adminOnly("approving changes"), (req, res) => {
    const viewer = viewerOf(req);
    const did = req.query["did"];
    const set = Number(req.query["set"]);
    const n: Notice | undefined =
      (did === "approve" || did === "reject") && Number.isInteger(set)
        ? { kind: "success", body: did === "approve" ? html`<p>Change set ${set} approved: the bridge now carries out what is still wanted.</p>` : html`<p>Change set ${set} rejected: everyone keeps their access.</p>` }
        : undefined;
    send(res, 200, () => approvalsPage(approvalsData(viewer, n)));
  });

  router.post("/approvals/:id/decide", adminOnly("approving changes"), (req, res) => {
    const viewer = viewerOf(req);
    const id = Number(req.params["id"]);
    const form = decisionForm.safeParse(req.body ?? {});
    const failWith = (status: number, message: string) =>
      send(res, status, () => approvalsPage(approvalsData(viewer, { kind: "error", body: html`<p><strong>Change set ${String(req.params["id"])} was not decided:</strong> ${message}</p>` })));
    if (!Number.isInteger(id)) return failWith(404, "there is no such change set");
    if (!form.success) return failWith(400, form.error.issues.map((i) => i.message).join("; "));
    const result = decide({ db: o.provisioning.db, approvals: o.approvals, audit: o.audit, jobs: o.jobs }, id, form.data.decision, viewer.actor, form.data.note?.trim() || null, req.requestId);
    if (result === "not-found") return failWith(404, "there is no such change set");
    if (result === "decided") return failWith(409, `it was already ${o.approvals.get(id)!.state}`);
    res.redirect(303, `/admin/approvals?did=${form.data.decision}&set=${id}#outcome`);
  });

  router.get("/drift", adminOnly("the drift report"), (req, res) => {
    send(res, 200, () => driftPage(driftData(sources, viewerOf(req), now())));
  });

  router.get("/audit", adminOnly("the audit log"), (req, res) => {
    send(res, 200, () => auditPage(auditData(sources, viewerOf(req), now())));
  });

  operationsPages(router, { provisioning: o.provisioning, jobs: o.jobs, status: o.status, clock: o.clock, adminOnly, send });

  router.use((req, res) => send(res, 404, () => errorPage("Not found", `There is no page at ${req.originalUrl.split("?")[0]}.`, viewerOf(req))));
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const viewer = req.webSession ? viewerOf(req) : undefined;
    // body-parser's own errors (a form too large, too many fields) carry their 4xx status.
    const status = (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      return send(res, status, () => errorPage("Request refused", (err as Error).message, viewer));
    }
    o.log.error("review page request failed", { requestId: req.requestId, path: req.path, error: err });
    send(res, 500, () => errorPage("Something went wrong", `The bridge could not show this page. Quote request id ${req.requestId} when reporting it.`, viewer));
  });
  return router;
}
