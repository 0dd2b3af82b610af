/**
 * The append-only audit log. Written inside the same transaction as the change it records.
 */
import type { Db } from "./database.js";
import type { Clock } from "../clock.js";

export interface AuditEvent {
  /** Who acted: a token name, "cli", or "system". */
  readonly actor: string;
  readonly requestId: string | null;
  /** What happened, e.g. "user.create", "group.members", "token.revoke". */
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string | null;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface AuditRow extends AuditEvent {
  readonly seq: number;
  readonly at: string;
}

/** A search of the log. Every field narrows; `seq` bounds page through it without OFFSET. */
export interface AuditQuery {
  readonly resourceType?: string | undefined;
  readonly resourceId?: string | undefined;
  /** An exact action ("task.done"), or a prefix ending in "*" ("task.*"). */
  readonly action?: string | undefined;
  readonly actor?: string | undefined;
  readonly requestId?: string | undefined;
  /** ISO UTC times as stored: `at >= since`, `at < until`. */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly beforeSeq?: number | undefined;
  readonly afterSeq?: number | undefined;
  /** Only rows up to this seq (a fixed end for an export while new events keep arriving). */
  readonly maxSeq?: number | undefined;
  readonly order: "newest" | "oldest";
  readonly limit: number;
}

export interface RawAudit {
  seq: number;
  at: string;
  actor: string;
  request_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  before: string | null;
  after: string | null;
}

export const toRow = (r: RawAudit): AuditRow => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  requestId: r.request_id,
  action: r.action,
  resourceType: r.resource_type,
  resourceId: r.resource_id,
  before: r.before === null ? undefined : (JSON.parse(r.before) as unknown),
  after: r.after === null ? undefined : (JSON.parse(r.after) as unknown),
});

export class AuditLog {
  private readonly insert;
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.insert = db.prepare(
      `INSERT INTO audit_events (at, actor, request_id, action, resource_type, resource_id, before, after)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  append(e: AuditEvent): void {
    this.insert.run(
      this.clock.now().toISOString(),
      e.actor,
      e.requestId,
      e.action,
      e.resourceType,
      e.resourceId,
      e.before === undefined ? null : JSON.stringify(e.before),
      e.after === undefined ? null : JSON.stringify(e.after),
    );
  }

  /** Newest first; used by tests. */
  recent(limit: number, resourceId?: string): AuditRow[] {
    return this.find({ resourceId, order: "newest", limit });
  }

  /**
   * Events matching `q`. Walks the primary key in order and stops at `limit`, so a page costs
   * `limit` matching rows however long the log; the resource and request-id filters use their indexes.
   */
  find(q: AuditQuery): AuditRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      where.push(sql);
      params.push(value);
    };
    if (q.resourceType !== undefined) add("resource_type = ?", q.resourceType);
    if (q.resourceId !== undefined) add("resource_id = ?", q.resourceId);
    if (q.action !== undefined) {
      // A prefix compares exactly (LIKE would fold case and read % and _ as wildcards).
      const prefix = q.action.endsWith("*") ? q.action.slice(0, -1) : undefined;
      if (prefix === undefined) add("action = ?", q.action);
      else {
        where.push("substr(action, 1, ?) = ?");
        params.push([...prefix].length, prefix); // substr counts code points
      }
    }
    if (q.actor !== undefined) add("actor = ?", q.actor);
    if (q.requestId !== undefined) add("request_id = ?", q.requestId);
    if (q.since !== undefined) add("at >= ?", q.since);
    if (q.until !== undefined) add("at < ?", q.until);
    if (q.beforeSeq !== undefined) add("seq < ?", q.beforeSeq);
    if (q.afterSeq !== undefined) add("seq > ?", q.afterSeq);
    if (q.maxSeq !== undefined) add("seq <= ?", q.maxSeq);
    const sql = `SELECT * FROM audit_events ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY seq ${q.order === "newest" ? "DESC" : "ASC"} LIMIT ?`;
    return (this.db.prepare(sql).all(...params, q.limit) as RawAudit[]).map(toRow);
  }

  /** The newest event's seq (0 for an empty log). */
  lastSeq(): number {
    return (this.db.prepare("SELECT coalesce(max(seq), 0) FROM audit_events").pluck().get() as number) ?? 0;
  }
}
