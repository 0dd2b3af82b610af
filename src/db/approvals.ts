/**
 * Destructive actions waiting for a person (migration 10; docs/provisioning.md, "Approvals"):
 * change sets (a rules change, or an app past its deprovision limit), their holds (one per user and
 * app), and the window of IdP-driven deprovisions each app has carried out.
 */
import type { Clock } from "../clock.js";
import type { Db } from "./database.js";

export type ChangeKind = "rules-change" | "deprovision-limit";
export type ChangeState = "pending" | "approved" | "rejected" | "superseded";
export type HoldAction = "deactivate" | "downgrade";
export type HoldState = "held" | "done" | "void";

export interface ChangeSet {
  readonly id: number;
  readonly kind: ChangeKind;
  readonly app: string | null;
  readonly state: ChangeState;
  readonly summary: Record<string, unknown>;
  readonly createdAt: string;
  readonly decidedAt: string | null;
  readonly decidedBy: string | null;
  readonly note: string | null;
  /** Holds still waiting (state held). */
  readonly waiting: number;
}

export interface Hold {
  readonly changeId: number;
  readonly userId: string;
  readonly app: string;
  readonly action: HoldAction;
  readonly detail: Record<string, unknown>;
  readonly userVersion: number | null;
  readonly state: HoldState;
  readonly createdAt: string;
  readonly settledAt: string | null;
}

/** A hold with its change set's kind and state: what the worker needs to decide. */
export interface ActiveHold extends Hold {
  readonly changeKind: ChangeKind;
  readonly changeState: ChangeState;
}

interface RawChangeSet {
  id: number;
  kind: ChangeKind;
  app: string | null;
  state: ChangeState;
  summary: string;
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
  note: string | null;
  waiting: number;
}

interface RawHold {
  change_id: number;
  user_id: string;
  app: string;
  action: HoldAction;
  detail: string;
  user_version: number | null;
  state: HoldState;
  created_at: string;
  settled_at: string | null;
  change_kind?: ChangeKind;
  change_state?: ChangeState;
}

const toChangeSet = (r: RawChangeSet): ChangeSet => ({
  id: r.id,
  kind: r.kind,
  app: r.app,
  state: r.state,
  summary: JSON.parse(r.summary) as Record<string, unknown>,
  createdAt: r.created_at,
  decidedAt: r.decided_at,
  decidedBy: r.decided_by,
  note: r.note,
  waiting: r.waiting,
});

const toHold = (r: RawHold): Hold => ({
  changeId: r.change_id,
  userId: r.user_id,
  app: r.app,
  action: r.action,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
  userVersion: r.user_version,
  state: r.state,
  createdAt: r.created_at,
  settledAt: r.settled_at,
});

const CHANGE_SET = `SELECT c.*, (SELECT count(*) FROM holds h WHERE h.change_id = c.id AND h.state = 'held') AS waiting FROM change_sets c`;

export class ApprovalStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  private now(): string {
    return this.clock.now().toISOString();
  }

  open(kind: ChangeKind, app: string | null, summary: Record<string, unknown>): ChangeSet {
    const id = this.db
      .prepare("INSERT INTO change_sets (kind, app, state, summary, created_at) VALUES (?, ?, 'pending', ?, ?)")
      .run(kind, app, JSON.stringify(summary), this.now()).lastInsertRowid;
    return this.get(Number(id))!;
  }

  get(id: number): ChangeSet | undefined {
    const r = this.db.prepare(`${CHANGE_SET} WHERE c.id = ?`).get(id) as RawChangeSet | undefined;
    return r && toChangeSet(r);
  }

  /** Newest first; by default those still waiting for a decision. */
  list(filter: { state?: ChangeState } = { state: "pending" }): ChangeSet[] {
    const rows = (filter.state === undefined ? this.db.prepare(`${CHANGE_SET} ORDER BY c.id DESC`).all() : this.db.prepare(`${CHANGE_SET} WHERE c.state = ? ORDER BY c.id DESC`).all(filter.state)) as RawChangeSet[];
    return rows.map(toChangeSet);
  }

  /** The pending change set of a kind (and app), if any. */
  pending(kind: ChangeKind, app: string | null): ChangeSet | undefined {
    const r = this.db.prepare(`${CHANGE_SET} WHERE c.kind = ? AND c.app IS ? AND c.state = 'pending' ORDER BY c.id DESC LIMIT 1`).get(kind, app) as RawChangeSet | undefined;
    return r && toChangeSet(r);
  }

  holdsOf(changeId: number): Hold[] {
    return (this.db.prepare("SELECT * FROM holds WHERE change_id = ? ORDER BY app, user_id").all(changeId) as RawHold[]).map(toHold);
  }

  hold(changeId: number, h: { userId: string; app: string; action: HoldAction; detail: Record<string, unknown>; userVersion: number | null }): void {
    this.db
      .prepare(
        `INSERT INTO holds (change_id, user_id, app, action, detail, user_version, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'held', ?)
         ON CONFLICT (change_id, user_id, app) DO UPDATE SET action = excluded.action, detail = excluded.detail, user_version = excluded.user_version`,
      )
      .run(changeId, h.userId, h.app, h.action, JSON.stringify(h.detail), h.userVersion, this.now());
  }

  /**
   * The hold that decides a user's destructive action in an app: in a pending, approved or
   * rejected change set, still held. The newest wins.
   */
  activeHold(userId: string, app: string): ActiveHold | undefined {
    const r = this.db
      .prepare(
        `SELECT h.*, c.kind AS change_kind, c.state AS change_state FROM holds h JOIN change_sets c ON c.id = h.change_id
         WHERE h.user_id = ? AND h.app = ? AND h.state = 'held' AND c.state <> 'superseded' ORDER BY h.change_id DESC LIMIT 1`,
      )
      .get(userId, app) as RawHold | undefined;
    return r && { ...toHold(r), changeKind: r.change_kind!, changeState: r.change_state! };
  }

  /** Holds of a user still waiting, any app. */
  activeHoldsOf(userId: string): ActiveHold[] {
    const rows = this.db
      .prepare(
        `SELECT h.*, c.kind AS change_kind, c.state AS change_state FROM holds h JOIN change_sets c ON c.id = h.change_id
         WHERE h.user_id = ? AND h.state = 'held' AND c.state <> 'superseded' ORDER BY h.app, h.change_id DESC`,
      )
      .all(userId) as RawHold[];
    return rows.map((r) => ({ ...toHold(r), changeKind: r.change_kind!, changeState: r.change_state! }));
  }

  /** A hold ends: carried out after approval (done), or no longer wanted (void). */
  settle(changeId: number, userId: string, app: string, state: "done" | "void"): void {
    this.db.prepare("UPDATE holds SET state = ?, settled_at = ? WHERE change_id = ? AND user_id = ? AND app = ? AND state = 'held'").run(state, this.now(), changeId, userId, app);
  }

  /** Records a decision on a pending change set; false when it is not pending (decided already). */
  decide(id: number, state: "approved" | "rejected" | "superseded", actor: string, note: string | null): boolean {
    return this.db.prepare("UPDATE change_sets SET state = ?, decided_at = ?, decided_by = ?, note = ? WHERE id = ? AND state = 'pending'").run(state, this.now(), actor, note, id).changes === 1;
  }

  /** A pending change set whose holds all ended needs no decision any more. */
  closeIfEmpty(id: number): boolean {
    const set = this.get(id);
    if (!set || set.state !== "pending" || set.waiting > 0) return false;
    return this.decide(id, "superseded", "system", "nothing left to decide: every held action was no longer wanted");
  }

  /**
   * Admits one IdP-driven deprovision of `userId` in `app` when fewer than `limit` other users
   * were deprovisioned there since `since`; counts it. Call inside a write transaction: the count
   * and the insert must see the same state.
   */
  admitDeprovision(app: string, userId: string, since: string, limit: number): boolean {
    const mine = this.db.prepare("SELECT at FROM deprovisions WHERE app = ? AND user_id = ?").pluck().get(app, userId) as string | undefined;
    if (mine !== undefined && mine >= since) return true;
    const recent = this.db.prepare("SELECT count(*) FROM deprovisions WHERE app = ? AND at >= ?").pluck().get(app, since) as number;
    if (recent >= limit) return false;
    this.db.prepare("INSERT INTO deprovisions (app, user_id, at) VALUES (?, ?, ?) ON CONFLICT (app, user_id) DO UPDATE SET at = excluded.at").run(app, userId, this.now());
    return true;
  }

  /** Pending holds per app, for /metrics. */
  waitingByApp(): Map<string, number> {
    const rows = this.db
      .prepare("SELECT h.app, count(*) AS n FROM holds h JOIN change_sets c ON c.id = h.change_id WHERE h.state = 'held' AND c.state = 'pending' GROUP BY h.app")
      .all() as { app: string; n: number }[];
    return new Map(rows.map((r) => [r.app, r.n]));
  }
}
