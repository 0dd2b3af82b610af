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

  /** Newest first; used by tests and (later) the admin API. */
  recent(limit: number, resourceId?: string): AuditRow[] {
    const rows = (
      resourceId === undefined
        ? this.db.prepare("SELECT * FROM audit_events ORDER BY seq DESC LIMIT ?").all(limit)
        : this.db.prepare("SELECT * FROM audit_events WHERE resource_id = ? ORDER BY seq DESC LIMIT ?").all(resourceId, limit)
    ) as { seq: number; at: string; actor: string; request_id: string | null; action: string; resource_type: string; resource_id: string | null; before: string | null; after: string | null }[];
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      requestId: r.request_id,
      action: r.action,
      resourceType: r.resource_type,
      resourceId: r.resource_id,
      before: r.before === null ? undefined : (JSON.parse(r.before) as unknown),
      after: r.after === null ? undefined : (JSON.parse(r.after) as unknown),
    }));
  }
}
