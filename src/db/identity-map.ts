/**
 * The identity map (app_accounts): for every user and app, what exists in the app. The planner
 * compares it with wanted access; the worker writes every outcome back here.
 */
import type { Clock } from "../clock.js";
import type { AccountState, AppAccount, Profile, Settings } from "../domain/model.js";
import type { AccessReader, AppAccess } from "../domain/readers.js";
import type { Db } from "./database.js";

interface RawAccount {
  user_id: string;
  app: string;
  external_id: string | null;
  role: string | null;
  state: AccountState;
  profile: string | null;
  settings: string;
  created_by_bridge: number;
  last_sync_at: string | null;
  last_error: string | null;
}

const toAccount = (r: RawAccount): AppAccount => ({
  userId: r.user_id,
  app: r.app,
  externalId: r.external_id,
  role: r.role,
  state: r.state,
  profile: r.profile === null ? null : (JSON.parse(r.profile) as Profile),
  settings: JSON.parse(r.settings) as Settings,
  createdByBridge: r.created_by_bridge === 1,
  lastSyncAt: r.last_sync_at,
  lastError: r.last_error,
});

export class IdentityMap implements AccessReader {
  private readonly byUser;
  private readonly put;
  private readonly setError;
  private readonly accessOfOne;
  private readonly accessOfMany;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.byUser = db.prepare("SELECT * FROM app_accounts WHERE user_id = ? ORDER BY app");
    this.put = db.prepare(
      `INSERT INTO app_accounts (user_id, app, external_id, role, state, profile, settings, created_by_bridge, last_sync_at, last_error, updated_at)
       VALUES (@userId, @app, @externalId, @role, @state, @profile, @settings, @createdByBridge, @lastSyncAt, @lastError, @now)
       ON CONFLICT (user_id, app) DO UPDATE SET
         external_id = excluded.external_id, role = excluded.role, state = excluded.state, profile = excluded.profile,
         settings = excluded.settings, created_by_bridge = excluded.created_by_bridge, last_sync_at = excluded.last_sync_at,
         last_error = excluded.last_error, updated_at = excluded.updated_at`,
    );
    // The access extension is read with every SCIM user response: prepared once, not per request.
    const access = (where: string) =>
      db.prepare(
        `SELECT a.user_id, a.app, a.role, a.state, t.title AS task
         FROM app_accounts a LEFT JOIN tasks t ON t.user_id = a.user_id AND t.app = a.app AND t.state IN ('open', 'blocked')
         WHERE a.user_id ${where} ORDER BY a.user_id, a.app`,
      );
    this.accessOfOne = access("= ?");
    this.accessOfMany = access("IN (SELECT value FROM json_each(?))");
    this.setError = db.prepare(
      `INSERT INTO app_accounts (user_id, app, state, last_error, updated_at) VALUES (?, ?, 'error', ?, ?)
       ON CONFLICT (user_id, app) DO UPDATE SET last_error = excluded.last_error, updated_at = excluded.updated_at`,
    );
  }

  forUser(userId: string): AppAccount[] {
    return (this.byUser.all(userId) as RawAccount[]).map(toAccount);
  }

  get(userId: string, app: string): AppAccount | undefined {
    const r = this.db.prepare("SELECT * FROM app_accounts WHERE user_id = ? AND app = ?").get(userId, app) as RawAccount | undefined;
    return r && toAccount(r);
  }

  /** Records the account as it now stands after a successful action (clears the last error). */
  record(account: Omit<AppAccount, "lastSyncAt" | "lastError">): void {
    const now = this.clock.now().toISOString();
    this.put.run({
      userId: account.userId,
      app: account.app,
      externalId: account.externalId,
      role: account.role,
      state: account.state,
      profile: account.profile === null ? null : JSON.stringify(account.profile),
      settings: JSON.stringify(account.settings),
      createdByBridge: account.createdByBridge ? 1 : 0,
      lastSyncAt: now,
      lastError: null,
      now,
    });
  }

  /**
   * Records a failed action. The account keeps its state (an active agent whose update failed is
   * still active); a first create that failed leaves an `error` row with no external id.
   */
  recordError(userId: string, app: string, error: string): void {
    this.setError.run(userId, app, error, this.clock.now().toISOString());
  }

  list(filter: { app?: string; state?: AccountState } = {}): AppAccount[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.app !== undefined) {
      where.push("app = ?");
      params.push(filter.app);
    }
    if (filter.state !== undefined) {
      where.push("state = ?");
      params.push(filter.state);
    }
    const sql = `SELECT * FROM app_accounts ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY app, user_id`;
    return (this.db.prepare(sql).all(...params) as RawAccount[]).map(toAccount);
  }

  /**
   * Per-app state of a page of users with the title of any open task, for the SCIM access
   * extension. One query per page; a single user (a GET by id) binds directly.
   */
  ofUsers(userIds: readonly string[]): Map<string, AppAccess[]> {
    const out = new Map<string, AppAccess[]>();
    if (userIds.length === 0) return out;
    const one = userIds.length === 1;
    const rows = (one ? this.accessOfOne : this.accessOfMany).all(one ? userIds[0] : JSON.stringify(userIds)) as {
      user_id: string;
      app: string;
      role: string | null;
      state: string;
      task: string | null;
    }[];
    for (const r of rows) {
      const list = out.get(r.user_id) ?? [];
      list.push({ app: r.app, ...(r.role === null ? {} : { role: r.role }), state: r.state, ...(r.task === null ? {} : { pendingTask: r.task }) });
      out.set(r.user_id, list);
    }
    return out;
  }

  /** User ids that hold an account row (used by the reconciler to re-plan deleted users too). */
  userIds(): string[] {
    return this.db.prepare("SELECT DISTINCT user_id FROM app_accounts").pluck().all() as string[];
  }
}
