/**
 * The notification outbox (notifications table) and the overdue marks on tasks: the only place
 * their SQL lives.
 */
import type { Clock } from "../clock.js";
import type { Db } from "./database.js";

export interface OutboxMessage {
  readonly id: number;
  readonly kind: string;
  readonly payload: Record<string, unknown>;
  readonly attempts: number;
}

export class NotificationOutbox {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  private now(): string {
    return this.clock.now().toISOString();
  }

  /** Queues a message; call inside the transaction of the event it announces. */
  add(kind: string, payload: Record<string, unknown>): void {
    const now = this.now();
    this.db.prepare("INSERT INTO notifications (kind, payload, next_at, created_at) VALUES (?, ?, ?, ?)").run(kind, JSON.stringify(payload), now, now);
  }

  /** Messages due for a (first or next) delivery attempt, oldest first. */
  due(limit = 20): OutboxMessage[] {
    const rows = this.db
      .prepare("SELECT id, kind, payload, attempts FROM notifications WHERE sent_at IS NULL AND dead = 0 AND next_at <= ? ORDER BY id LIMIT ?")
      .all(this.now(), limit) as { id: number; kind: string; payload: string; attempts: number }[];
    return rows.map((r) => ({ id: r.id, kind: r.kind, payload: JSON.parse(r.payload) as Record<string, unknown>, attempts: r.attempts }));
  }

  sent(id: number): void {
    this.db.prepare("UPDATE notifications SET sent_at = ?, attempts = attempts + 1 WHERE id = ?").run(this.now(), id);
  }

  /** A failed attempt: try again at `nextAt`, or give up (dead) after the last attempt. */
  failed(id: number, error: string, nextAt: Date | null): void {
    this.db
      .prepare("UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_at = COALESCE(?, next_at), dead = ? WHERE id = ?")
      .run(error, nextAt?.toISOString() ?? null, nextAt === null ? 1 : 0, id);
  }

  stats(): { pending: number; dead: number; sent: number } {
    const r = this.db
      .prepare("SELECT sum(sent_at IS NULL AND dead = 0) AS pending, sum(dead = 1) AS dead, sum(sent_at IS NOT NULL) AS sent FROM notifications")
      .get() as { pending: number | null; dead: number | null; sent: number | null };
    return { pending: r.pending ?? 0, dead: r.dead ?? 0, sent: r.sent ?? 0 };
  }

  /**
   * Open tasks past due whose overdue notice has not gone out, marked as noticed in the same
   * statement; call inside the transaction that queues the notices.
   */
  takeNewlyOverdue(): { id: number; app: string; title: string; dueAt: string; assignee: string | null }[] {
    const now = this.now();
    return this.db
      .prepare(
        `UPDATE tasks SET overdue_notified_at = ? WHERE state = 'open' AND due_at < ? AND overdue_notified_at IS NULL
         RETURNING id, app, title, due_at AS dueAt, assignee`,
      )
      .all(now, now) as { id: number; app: string; title: string; dueAt: string; assignee: string | null }[];
  }
}
