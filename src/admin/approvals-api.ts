/**
 * Destructive changes waiting for an admin (docs/provisioning.md, "Approvals"): list, show with
 * the people affected, approve, reject. Admin scope only; each decision is an audit event with the
 * token's name as its actor, the same path as the CLI and the web page (provisioning/approvals.ts).
 */
import type { Request } from "express";
import { z } from "zod";
import type { ApprovalStore, ChangeSet, Hold } from "../db/approvals.js";
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import type { DirectoryReader, ProvisioningQueue } from "../domain/readers.js";
import { tokenActor } from "../auth/actors.js";
import { BridgeError } from "../errors.js";
import { decide, describeChangeSet } from "../provisioning/approvals.js";
import { noQuery, parseBody, parseQuery, pathId } from "./input.js";
import { ADMIN_ONLY, type Routes } from "./routes.js";

export interface ApprovalsApiOptions {
  readonly db: Db;
  readonly approvals: ApprovalStore;
  readonly audit: AuditLog;
  readonly jobs: ProvisioningQueue;
  readonly directory: DirectoryReader;
}

const listQuery = z.strictObject({ state: z.enum(["pending", "approved", "rejected", "superseded", "all"]).default("pending") });
const decisionBody = z.strictObject({
  note: z
    .string()
    .trim()
    .max(4000)
    .optional()
    .transform((n) => (n === "" ? undefined : n)),
});

export const changeSetView = (set: ChangeSet) => ({
  id: set.id,
  kind: set.kind,
  app: set.app,
  state: set.state,
  description: describeChangeSet(set),
  summary: set.summary,
  waiting: set.waiting,
  createdAt: set.createdAt,
  decidedAt: set.decidedAt,
  decidedBy: set.decidedBy,
  note: set.note,
});

export const holdView = (h: Hold, directory: DirectoryReader) => ({
  userId: h.userId,
  userName: directory.snapshot(h.userId).user?.userName ?? null,
  app: h.app,
  action: h.action,
  detail: h.detail,
  state: h.state,
  createdAt: h.createdAt,
  settledAt: h.settledAt,
});

function actor(req: Request): string {
  // The router authenticates before any route runs; a missing principal is a wiring bug.
  if (!req.principal) throw new Error("approval route reached without an authenticated principal");
  return tokenActor(req.principal.name);
}

export function approvalsRoutes(routes: Routes, o: ApprovalsApiOptions): void {
  const show = (set: ChangeSet) => ({ changeSet: changeSetView(set), holds: o.approvals.holdsOf(set.id).map((h) => holdView(h, o.directory)) });

  routes.get("/approvals", ADMIN_ONLY, (req, res) => {
    const { state } = parseQuery(listQuery, req);
    res.json({ changeSets: o.approvals.list(state === "all" ? {} : { state }).map(changeSetView) });
  });

  routes.get("/approvals/:id", ADMIN_ONLY, (req, res) => {
    const id = pathId(req, "change set");
    parseQuery(noQuery, req);
    const set = o.approvals.get(id);
    if (!set) throw new BridgeError("notFound", `change set ${id} not found`);
    res.json(show(set));
  });

  for (const decision of ["approve", "reject"] as const) {
    routes.post(`/approvals/:id/${decision}`, ADMIN_ONLY, (req, res) => {
      const id = pathId(req, "change set");
      parseQuery(noQuery, req);
      const { note } = parseBody(decisionBody, req);
      const result = decide(o, id, decision, actor(req), note ?? null, req.requestId);
      if (result === "not-found") throw new BridgeError("notFound", `change set ${id} not found`);
      if (result === "decided") throw new BridgeError("preconditionFailed", `change set ${id} is ${o.approvals.get(id)!.state}: only a pending change set can be decided`);
      res.json(show(result));
    });
  }
}
