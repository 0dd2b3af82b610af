/**
 * The audit log over HTTP: a filtered page, newest first (`GET /audit`), and the same filters as a
 * JSON-lines export in the order things happened (`GET /audit/export`), for a SIEM or an auditor.
 * Admin tokens only: the log holds every user's before/after.
 */
import { once } from "node:events";
import type { Response } from "express";
import { z } from "zod";
import type { AuditLog, AuditRow } from "../db/audit.js";
import { integerParam, parseQuery, textParam, timeParam } from "./input.js";
import { ADMIN_ONLY, type Routes } from "./routes.js";

export interface AuditApiOptions {
  readonly audit: AuditLog;
}

const filters = {
  resourceType: textParam.optional(),
  resourceId: textParam.optional(),
  action: textParam.optional(),
  actor: textParam.optional(),
  requestId: textParam.optional(),
  since: timeParam.optional(),
  until: timeParam.optional(),
};

const listQuery = z.strictObject({ ...filters, before: integerParam(1, Number.MAX_SAFE_INTEGER).optional(), limit: integerParam(1, 1000).default(100) });
const exportQuery = z.strictObject(filters);

/** Rows per query while exporting: each query is short, so the worker and SCIM writes never wait on an export. */
const EXPORT_BATCH = 500;

export function auditView(e: AuditRow) {
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    requestId: e.requestId,
    action: e.action,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    before: e.before ?? null,
    after: e.after ?? null,
  };
}

export function auditRoutes(routes: Routes, o: AuditApiOptions): void {
  routes.get("/audit", ADMIN_ONLY, (req, res) => {
    const { before, limit, ...f } = parseQuery(listQuery, req);
    const events = o.audit.find({ ...f, beforeSeq: before, order: "newest", limit });
    // The cursor for the next (older) page, while this one was full.
    res.json({ events: events.map(auditView), nextBefore: events.length === limit ? events[events.length - 1]!.seq : null });
  });

  routes.get("/audit/export", ADMIN_ONLY, async (req, res) => {
    const f = parseQuery(exportQuery, req);
    // A fixed end: events written during a long export are left for the next one, so it always ends.
    const maxSeq = o.audit.lastSeq();
    res.status(200).type("application/x-ndjson");
    res.setHeader("Content-Disposition", `attachment; filename="scim-bridge-audit-${maxSeq}.ndjson"`);
    let afterSeq = 0;
    for (;;) {
      const rows = o.audit.find({ ...f, afterSeq, maxSeq, order: "oldest", limit: EXPORT_BATCH });
      if (rows.length > 0 && !(await write(res, rows.map((r) => `${JSON.stringify(auditView(r))}\n`).join("")))) return;
      if (rows.length < EXPORT_BATCH) break;
      afterSeq = rows[rows.length - 1]!.seq;
    }
    res.end();
  });
}

/** Writes a chunk, waiting for the client to drain its buffer; false when the client went away. */
async function write(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  const ac = new AbortController();
  try {
    await Promise.race([once(res, "drain", { signal: ac.signal }), once(res, "close", { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
  return !res.destroyed;
}
