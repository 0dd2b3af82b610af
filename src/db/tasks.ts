/**
 * Manual tasks: the only place their SQL lives. A task row is its own small state machine:
 * open|blocked → done | failed | cancelled, with at most one open or blocked task per (user, app)
 * (a partial unique index guarantees it); a newer plan supersedes the open one.
 */
import type { Clock } from "../clock.js";
import type { Profile } from "../domain/model.js";
import type { Task, TaskState, TaskVerification, VerifiedHow } from "../domain/task.js";
import type { Db } from "./database.js";
import { TICKET_ACTOR_PREFIX, type TaskTicketStore } from "./task-tickets.js";


interface RawTask {
  id: number;
  app: string;
  user_id: string;
  action: string;
  role: string | null;
  title: string;
  steps: string;
  profile: string;
  state: TaskState;
  reason: string | null;
  assignee: string | null;
  claimed_at: string | null;
  due_at: string;
  request_id: string | null;
  completed_by: string | null;
  completed_at: string | null;
  note: string | null;
  verification: TaskVerification | null;
  verified_at: string | null;
  verified_how: VerifiedHow | null;
  superseded_by: number | null;
  created_at: string;
  updated_at: string;
}

const toTask = (r: RawTask): Task => ({
  id: r.id,
  app: r.app,
  userId: r.user_id,
  action: r.action,
  role: r.role,
  title: r.title,
  steps: JSON.parse(r.steps) as string[],
  profile: JSON.parse(r.profile) as Profile,
  state: r.state,
  reason: r.reason,
  assignee: r.assignee,
  claimedAt: r.claimed_at,
  dueAt: r.due_at,
  requestId: r.request_id,
  completedBy: r.completed_by,
  completedAt: r.completed_at,
  note: r.note,
  verification: r.verification,
  verifiedAt: r.verified_at,
  verifiedHow: r.verified_how,
  supersededBy: r.superseded_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A task as it is first written: open or blocked, not yet claimed or closed. */
export type NewTask = Pick<Task, "app" | "userId" | "action" | "role" | "title" | "steps" | "profile" | "reason" | "dueAt" | "requestId"> & {
  readonly state: "open" | "blocked";
  /** When it was raised (the time its due time counts from); now when not given. */
  readonly raisedAt?: string;
};

export interface TaskFilter {
  readonly app?: string | undefined;
  readonly state?: TaskState | undefined;
  readonly userId?: string | undefined;
  /** true: only open tasks past their due time; false: only the others; undefined: both. */
  readonly overdue?: boolean | undefined;
  readonly limit?: number | undefined;
}

/**
 * Apps whose tasks are also HaloPSA tickets: the outbox rows are written here, in the transaction
 * that writes the task, whichever path raised or ended it.
 */
export interface TaskTicketing {
  readonly store: TaskTicketStore;
  /** Task app → the halopsa app its tickets go to. */
  readonly targets: ReadonlyMap<string, string>;
}

export class TaskStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly ticketing?: TaskTicketing,
  ) {}

  /** The HaloPSA ticket of each of these tasks that has one. */
  ticketIdsOf(ids: readonly number[]): Map<number, number> {
    return this.ticketing?.store.ticketIdsOf(ids) ?? new Map();
  }

  /** The task ended in the bridge: its ticket (if any) gets the reason and is closed. */
  private closeTicket(id: number, note: string): void {
    this.ticketing?.store.requestClose(id, note);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  get(id: number): Task | undefined {
    const r = this.db.prepare("SELECT * FROM tasks WHERE id = ?").get(id) as RawTask | undefined;
    return r && toTask(r);
  }

  /** The open or blocked task of a user in an app, if any. */
  openFor(userId: string, app: string): Task | undefined {
    const r = this.db.prepare("SELECT * FROM tasks WHERE user_id = ? AND app = ? AND state IN ('open', 'blocked')").get(userId, app) as RawTask | undefined;
    return r && toTask(r);
  }

  /** The newest task of a user in an app, whatever its state. */
  latestFor(userId: string, app: string): Task | undefined {
    const r = this.db.prepare("SELECT * FROM tasks WHERE user_id = ? AND app = ? ORDER BY id DESC LIMIT 1").get(userId, app) as RawTask | undefined;
    return r && toTask(r);
  }

  /** Inserts a task; the caller has cancelled (superseded) any open one first, in the same transaction. */
  insert(t: NewTask): Task {
    const now = t.raisedAt ?? this.now();
    const r = this.db
      .prepare(
        `INSERT INTO tasks (app, user_id, action, role, title, steps, profile, state, reason, due_at, request_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(t.app, t.userId, t.action, t.role, t.title, JSON.stringify(t.steps), JSON.stringify(t.profile), t.state, t.reason, t.dueAt, t.requestId, now, now) as RawTask;
    // A blocked task is not to be worked yet: it gets its ticket when the task that unblocks it is raised.
    const target = t.state === "open" ? this.ticketing?.targets.get(t.app) : undefined;
    if (target !== undefined) this.ticketing!.store.enqueueCreate(r.id, target);
    return toTask(r);
  }

  /** Cancels an open or blocked task, saying why and (optionally) which task replaces it. */
  cancel(id: number, reason: string, supersededBy: number | null = null): void {
    const cancelled = this.db
      .prepare("UPDATE tasks SET state = 'cancelled', reason = ?, superseded_by = ?, updated_at = ? WHERE id = ? AND state IN ('open', 'blocked')")
      .run(reason, supersededBy, this.now(), id).changes > 0;
    if (cancelled) this.closeTicket(id, `Cancelled in scim-bridge: ${reason}`);
  }

  setSupersededBy(id: number, by: number): void {
    this.db.prepare("UPDATE tasks SET superseded_by = ? WHERE id = ?").run(by, id);
  }

  claim(id: number, assignee: string): boolean {
    const now = this.now();
    return this.db.prepare("UPDATE tasks SET assignee = ?, claimed_at = ?, updated_at = ? WHERE id = ? AND state = 'open'").run(assignee, now, now, id).changes > 0;
  }

  /**
   * Closes an open task as done or failed. False when it was not open (already closed or blocked).
   * A done task carries its verification: `pending` where the app can be read, else `unverifiable`.
   */
  close(id: number, state: "done" | "failed", by: string, note: string | null, reason: string | null = null, verification: TaskVerification | null = null): boolean {
    const now = this.now();
    const closed =
      this.db
        .prepare("UPDATE tasks SET state = ?, completed_by = ?, completed_at = ?, note = ?, reason = ?, verification = ?, updated_at = ? WHERE id = ? AND state = 'open'")
        .run(state, by, now, note, reason, state === "done" ? verification : null, now, id).changes > 0;
    // Done from its ticket: the ticket is already closed. Done here: close it, saying who did it.
    // A failed task stays open in HaloPSA too: the person may retry it.
    if (closed && state === "done") {
      if (by.startsWith(TICKET_ACTOR_PREFIX)) this.ticketing?.store.closedInHaloPsa(id);
      else this.closeTicket(id, `Done in scim-bridge by ${by}${note ? `: ${note}` : ""}`);
    }
    return closed;
  }

  /** Marks a done task whose verification is pending as verified. False when it was not. */
  verify(id: number, how: VerifiedHow): boolean {
    const now = this.now();
    return (
      this.db
        .prepare("UPDATE tasks SET verification = 'verified', verified_at = ?, verified_how = ?, updated_at = ? WHERE id = ? AND state = 'done' AND verification = 'pending'")
        .run(now, how, now, id).changes > 0
    );
  }

  /** Done tasks still waiting for the app to show their work, of one app (and one user, when given). */
  pendingVerification(app: string, userId?: string): Task[] {
    const sql = `SELECT * FROM tasks WHERE app = ? AND state = 'done' AND verification = 'pending' ${userId === undefined ? "" : "AND user_id = ?"} ORDER BY id`;
    return (this.db.prepare(sql).all(...(userId === undefined ? [app] : [app, userId])) as RawTask[]).map(toTask);
  }

  /**
   * Opens a done task that is not verified again, saying why (the app does not show the work, or
   * its ticket was reopened). False when it is not such a task, or another task is open for the
   * same user and app (the caller cancels that one first). Reopened from its ticket (`by` a
   * HaloPSA agent): the ticket is open already. Reopened here: its ticket reopens with the reason.
   */
  reopenDone(id: number, reason: string, by: string): boolean {
    const now = this.now();
    const reopened = this.openAgain(
      `UPDATE tasks SET state = 'open', completed_by = NULL, completed_at = NULL, reason = ?, verification = NULL, verified_at = NULL, verified_how = NULL, updated_at = ?
       WHERE id = ? AND state = 'done' AND (verification IS NULL OR verification != 'verified')`,
      reason,
      now,
      id,
    );
    if (reopened) {
      if (by.startsWith(TICKET_ACTOR_PREFIX)) this.ticketing?.store.reopenedInHaloPsa(id);
      else this.ticketing?.store.requestReopen(id, `Reopened in scim-bridge: ${reason}`);
    }
    return reopened;
  }

  /** Opens a failed task again (the person will retry it). False when another task is open for the same user and app. */
  reopen(id: number): boolean {
    return this.openAgain("UPDATE tasks SET state = 'open', completed_by = NULL, completed_at = NULL, reason = NULL, updated_at = ? WHERE id = ? AND state = 'failed'", this.now(), id);
  }

  /** Runs a reopening UPDATE: false when it matched nothing or another task is open for the same user and app. */
  private openAgain(sql: string, ...params: unknown[]): boolean {
    try {
      return this.db.prepare(sql).run(...params).changes > 0;
    } catch (e: unknown) {
      if (e instanceof Error && "code" in e && e.code === "SQLITE_CONSTRAINT_UNIQUE") return false;
      throw e;
    }
  }

  list(f: TaskFilter = {}): Task[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.app !== undefined) {
      where.push("app = ?");
      params.push(f.app);
    }
    if (f.state !== undefined) {
      where.push("state = ?");
      params.push(f.state);
    }
    if (f.userId !== undefined) {
      where.push("user_id = ?");
      params.push(f.userId);
    }
    if (f.overdue !== undefined) {
      where.push(f.overdue ? "(state = 'open' AND due_at < ?)" : "NOT (state = 'open' AND due_at < ?)");
      params.push(this.now());
    }
    // Overdue first, then the oldest due time: the order a person should work in.
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY (state = 'open' AND due_at < ?) DESC, state IN ('open', 'blocked') DESC, due_at, id LIMIT ?`;
    return (this.db.prepare(sql).all(...params, this.now(), f.limit ?? 500) as RawTask[]).map(toTask);
  }

  /** Open, blocked and overdue counts per app. */
  counts(): Record<string, { open: number; blocked: number; overdue: number }> {
    const rows = this.db
      .prepare(
        `SELECT app, sum(state = 'open') AS open, sum(state = 'blocked') AS blocked, sum(state = 'open' AND due_at < ?) AS overdue
         FROM tasks WHERE state IN ('open', 'blocked') GROUP BY app`,
      )
      .all(this.now()) as { app: string; open: number; blocked: number; overdue: number }[];
    return Object.fromEntries(rows.map((r) => [r.app, { open: r.open, blocked: r.blocked, overdue: r.overdue }]));
  }

  /** Blocked tasks of an app: re-planned when the app's accounts change (a guard may now allow them). */
  blockedUserIds(app: string): string[] {
    return this.db.prepare("SELECT user_id FROM tasks WHERE app = ? AND state = 'blocked'").pluck().all(app) as string[];
  }
}
