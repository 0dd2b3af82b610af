/**
 * The task → HaloPSA ticket outbox (migrations 12 and 14; docs/manual-tasks.md, "Tasks as HaloPSA tickets"):
 * the only place its SQL lives. A row is written in the transaction that raises or ends its task
 * (TaskStore calls in), so a crash can neither lose a ticket nor make one for a task that never was.
 * The ticket sync claims due rows, carries them out against HaloPSA and records what happened.
 */
import type { Clock } from "../clock.js";
import type { Db } from "./database.js";

export type TicketState = "to-create" | "open" | "to-close" | "closed" | "to-reopen";

/** The actor of a task completed because its ticket was closed: `halopsa:<agent>`. */
export const TICKET_ACTOR_PREFIX = "halopsa:";

export interface TaskTicket {
  readonly taskId: number;
  readonly halopsaApp: string;
  readonly ticketId: number | null;
  readonly state: TicketState;
  /** What the bridge posts on the ticket when it closes (to-close) or reopens (to-reopen) it. */
  readonly note: string | null;
  readonly attempts: number;
  readonly runAt: string;
  readonly lastError: string | null;
  /** When the task was raised: part of the tag that finds the ticket again after a lost answer. */
  readonly taskCreatedAt: string;
}

interface RawTicket {
  task_id: number;
  halopsa_app: string;
  ticket_id: number | null;
  state: TicketState;
  note: string | null;
  attempts: number;
  run_at: string;
  last_error: string | null;
  task_created_at: string;
}

const toTicket = (r: RawTicket): TaskTicket => ({
  taskId: r.task_id,
  halopsaApp: r.halopsa_app,
  ticketId: r.ticket_id,
  state: r.state,
  note: r.note,
  attempts: r.attempts,
  runAt: r.run_at,
  lastError: r.last_error,
  taskCreatedAt: r.task_created_at,
});

const SELECT = "SELECT k.*, t.created_at AS task_created_at FROM task_tickets k JOIN tasks t ON t.id = k.task_id";

/** A linked ticket the read-back watches, with where its task stands. */
export interface WatchedTicket {
  readonly taskId: number;
  readonly ticketId: number;
  readonly state: "open" | "closed";
  readonly taskState: string;
}

export interface TicketSyncHealth {
  /** Rows waiting to be carried out in HaloPSA, by step. */
  readonly toCreate: number;
  readonly toClose: number;
  readonly toReopen: number;
  /** Of those, rows whose last attempt failed, and the newest failure. */
  readonly failing: number;
  readonly lastError: string | null;
}

/** A done task's ticket is watched this long for a reopen in HaloPSA; after that, the task stands. */
const REOPEN_WATCH_MS = 14 * 24 * 3_600_000;

export class TaskTicketStore {
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Called when a row falls due (on the next turn of the event loop, once the caller's transaction has committed). */
  subscribe(listener: () => void): void {
    this.listeners.push(listener);
  }

  private notify(): void {
    if (this.listeners.length > 0) setImmediate(() => this.listeners.forEach((l) => l()));
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  get(taskId: number): TaskTicket | undefined {
    const r = this.db.prepare(`${SELECT} WHERE k.task_id = ?`).get(taskId) as RawTicket | undefined;
    return r && toTicket(r);
  }

  /** The ticket ids of these tasks (those that have one). */
  ticketIdsOf(taskIds: readonly number[]): Map<number, number> {
    if (taskIds.length === 0) return new Map();
    const rows = this.db
      .prepare(`SELECT task_id, ticket_id FROM task_tickets WHERE ticket_id IS NOT NULL AND task_id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(taskIds)) as { task_id: number; ticket_id: number }[];
    return new Map(rows.map((r) => [r.task_id, r.ticket_id]));
  }

  /** A ticket to create for a task just raised (the caller's transaction). */
  enqueueCreate(taskId: number, halopsaApp: string): void {
    const now = this.now();
    this.db
      .prepare("INSERT INTO task_tickets (task_id, halopsa_app, state, run_at, created_at, updated_at) VALUES (?, ?, 'to-create', ?, ?, ?)")
      .run(taskId, halopsaApp, now, now, now);
    this.notify();
  }

  /**
   * The task ended in the bridge (superseded, cancelled, done there): its ticket gets `note` and is
   * closed. A ticket never asked for is simply not made; one whose create may have landed is
   * looked for and closed. False when there was nothing to do.
   */
  requestClose(taskId: number, note: string): boolean {
    const now = this.now();
    const never = this.db.prepare("UPDATE task_tickets SET state = 'closed', note = ?, updated_at = ? WHERE task_id = ? AND state = 'to-create' AND attempts = 0").run(note, now, taskId);
    if (never.changes > 0) return false;
    const queued =
      this.db
        .prepare("UPDATE task_tickets SET state = 'to-close', note = ?, run_at = ?, attempts = 0, last_error = NULL, updated_at = ? WHERE task_id = ? AND state IN ('to-create', 'open', 'to-reopen')")
        .run(note, now, now, taskId).changes > 0;
    if (queued) this.notify();
    return queued;
  }

  /**
   * A done task reopened in the bridge (read-back found the work missing): the same ticket comes
   * back, with `note`. A ticket never made (its task ended before the create) is made now; one
   * whose create may have been tried is looked for first (attempts 1: the next try searches).
   */
  requestReopen(taskId: number, note: string): void {
    const now = this.now();
    const made = this.db
      .prepare("UPDATE task_tickets SET state = 'to-reopen', note = ?, run_at = ?, attempts = 0, last_error = NULL, updated_at = ? WHERE task_id = ? AND ticket_id IS NOT NULL AND state IN ('to-close', 'closed')")
      .run(note, now, now, taskId).changes;
    const unmade = this.db
      .prepare(
        `UPDATE task_tickets SET state = 'to-create', note = NULL, run_at = ?, attempts = CASE WHEN state = 'closed' AND attempts = 0 THEN 0 ELSE 1 END, last_error = NULL, updated_at = ?
         WHERE task_id = ? AND ticket_id IS NULL AND state IN ('to-close', 'closed')`,
      )
      .run(now, now, taskId).changes;
    if (made + unmade > 0) this.notify();
  }

  /** The task was completed because its ticket was closed in HaloPSA (the completion's transaction). */
  closedInHaloPsa(taskId: number): void {
    this.db.prepare("UPDATE task_tickets SET state = 'closed', updated_at = ? WHERE task_id = ? AND state = 'open'").run(this.now(), taskId);
  }

  /** The ticket is open in HaloPSA again (reopened there). */
  reopenedInHaloPsa(taskId: number): void {
    this.db.prepare("UPDATE task_tickets SET state = 'open', updated_at = ? WHERE task_id = ? AND state = 'closed' AND ticket_id IS NOT NULL").run(this.now(), taskId);
  }

  /** Rows to create, close or reopen whose time has come, oldest first. */
  due(limit: number): TaskTicket[] {
    return (this.db.prepare(`${SELECT} WHERE k.state IN ('to-create', 'to-close', 'to-reopen') AND k.run_at <= ? ORDER BY k.run_at, k.task_id LIMIT ?`).all(this.now(), limit) as RawTicket[]).map(
      toTicket,
    );
  }

  /** When the next row falls due, if any. */
  nextDueAt(): string | undefined {
    return this.db.prepare("SELECT min(run_at) FROM task_tickets WHERE state IN ('to-create', 'to-close', 'to-reopen')").pluck().get() as string | null ?? undefined;
  }

  /**
   * Counts an attempt before it is made and pushes the row's next try out by `retryInMs`, so a
   * crash mid-call still counts and the next attempt knows to look for what this one may have made.
   * Only a due row is claimed, so two drains that listed the same row never both carry it out.
   */
  claim(taskId: number, retryInMs: number): TaskTicket | undefined {
    const now = this.clock.now();
    const r = this.db
      .prepare("UPDATE task_tickets SET attempts = attempts + 1, run_at = ?, updated_at = ? WHERE task_id = ? AND state IN ('to-create', 'to-close', 'to-reopen') AND run_at <= ? RETURNING task_id")
      .get(new Date(now.getTime() + retryInMs).toISOString(), now.toISOString(), taskId, now.toISOString());
    return r === undefined ? undefined : this.get(taskId);
  }

  /** HaloPSA holds the ticket. A row the bridge meanwhile asked to close stays to be closed, now with its id. */
  recordCreated(taskId: number, ticketId: number): void {
    this.db
      .prepare(
        `UPDATE task_tickets SET ticket_id = ?, state = CASE state WHEN 'to-create' THEN 'open' ELSE state END,
           attempts = CASE state WHEN 'to-create' THEN 0 ELSE attempts END, last_error = NULL, updated_at = ? WHERE task_id = ?`,
      )
      .run(ticketId, this.now(), taskId);
  }

  /** HaloPSA shows the ticket open again, with the bridge's note. */
  recordReopened(taskId: number): void {
    this.db.prepare("UPDATE task_tickets SET state = 'open', last_error = NULL, updated_at = ? WHERE task_id = ? AND state = 'to-reopen'").run(this.now(), taskId);
  }

  recordClosed(taskId: number): void {
    this.db.prepare("UPDATE task_tickets SET state = 'closed', last_error = NULL, updated_at = ? WHERE task_id = ? AND state = 'to-close'").run(this.now(), taskId);
  }

  recordFailure(taskId: number, error: string): void {
    this.db.prepare("UPDATE task_tickets SET last_error = ?, updated_at = ? WHERE task_id = ?").run(error, this.now(), taskId);
  }

  /**
   * Tickets the read-back reads: open ones, and closed ones whose task is done (or was just
   * reopened) within the reopen watch, so a ticket reopened in HaloPSA reopens its task.
   */
  watched(halopsaApp: string): WatchedTicket[] {
    const since = new Date(this.clock.now().getTime() - REOPEN_WATCH_MS).toISOString();
    return (
      this.db
        .prepare(
          `SELECT k.task_id, k.ticket_id, k.state, t.state AS task_state FROM task_tickets k JOIN tasks t ON t.id = k.task_id
           WHERE k.halopsa_app = ? AND k.ticket_id IS NOT NULL
             AND (k.state = 'open' OR (k.state = 'closed' AND t.state IN ('done', 'open') AND t.updated_at >= ?))
           ORDER BY k.ticket_id`,
        )
        .all(halopsaApp, since) as { task_id: number; ticket_id: number; state: "open" | "closed"; task_state: string }[]
    ).map((r) => ({ taskId: r.task_id, ticketId: r.ticket_id, state: r.state, taskState: r.task_state }));
  }

  health(): TicketSyncHealth {
    const r = this.db
      .prepare(
        `SELECT coalesce(sum(state = 'to-create'), 0) AS to_create, coalesce(sum(state = 'to-close'), 0) AS to_close, coalesce(sum(state = 'to-reopen'), 0) AS to_reopen,
           coalesce(sum(last_error IS NOT NULL), 0) AS failing,
           (SELECT last_error FROM task_tickets WHERE last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1) AS last_error
         FROM task_tickets WHERE state IN ('to-create', 'to-close', 'to-reopen')`,
      )
      .get() as { to_create: number; to_close: number; to_reopen: number; failing: number; last_error: string | null };
    return { toCreate: r.to_create, toClose: r.to_close, toReopen: r.to_reopen, failing: r.failing, lastError: r.last_error };
  }
}
