/**
 * The identity map (app_accounts): for every user and app, what exists in the app. The planner
 * compares it with wanted access; the worker writes every outcome back here.
 *
 * Ownership is an invariant of the store (docs/provisioning.md): two UNIQUE indexes (migration 8)
 * make an account (app, instance, external id) and an email in an app, compared by matching key,
 * belong to at most one live user. A write that would break them fails with `OwnershipConflict`
 * naming the holder; a deleted user's rows are released (directory.ts) and hold nothing.
 */
import type { Clock } from "../clock.js";
import { matchingKey } from "../domain/folding.js";
import type { AccountOutcome, AccountState, AppAccount, Profile, Settings } from "../domain/model.js";
import type { AccessReader, AppAccess } from "../domain/readers.js";
import type { Db } from "./database.js";

interface RawAccount {
  user_id: string;
  app: string;
  instance: string;
  external_id: string | null;
  role: string | null;
  state: AccountState;
  profile: string | null;
  settings: string;
  created_by_bridge: number;
  last_sync_at: string | null;
  last_error: string | null;
  conflict_with: string | null;
  create_unsettled_at: string | null;
  released_at: string | null;
}

const toAccount = (r: RawAccount): AppAccount => ({
  userId: r.user_id,
  app: r.app,
  instance: r.instance,
  externalId: r.external_id,
  role: r.role,
  state: r.state,
  profile: r.profile === null ? null : (JSON.parse(r.profile) as Profile),
  settings: JSON.parse(r.settings) as Settings,
  createdByBridge: r.created_by_bridge === 1,
  lastSyncAt: r.last_sync_at,
  lastError: r.last_error,
  conflictWith: r.conflict_with,
  createUnsettledAt: r.create_unsettled_at,
  releasedAt: r.released_at,
});

/** Who holds an account, when a write was refused for it. */
export class OwnershipConflict extends Error {
  override readonly name = "OwnershipConflict";
  constructor(
    readonly holder: { readonly userId: string; readonly userName: string | null },
    readonly what: string,
    options?: { cause?: unknown },
  ) {
    super(`${what} belongs to another user of the bridge (${holder.userName ?? holder.userId})`, options);
  }
}

/** A live link holds its account and its email until the account is removed. */
const holds = (state: AccountState) => state !== "removed";

export class IdentityMap implements AccessReader {
  private readonly byUser;
  private readonly one;
  private readonly put;
  private readonly holderBy;
  private readonly accessOfOne;
  private readonly accessOfMany;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.byUser = db.prepare("SELECT * FROM app_accounts WHERE user_id = ? ORDER BY app");
    this.one = db.prepare("SELECT * FROM app_accounts WHERE user_id = ? AND app = ?");
    this.put = db.prepare(
      `INSERT INTO app_accounts (user_id, app, instance, external_id, external_key, email_key, role, state, profile, settings,
                                 created_by_bridge, last_sync_at, last_error, conflict_with, create_unsettled_at, updated_at)
       VALUES (@userId, @app, @instance, @externalId, @externalKey, @emailKey, @role, @state, @profile, @settings,
               @createdByBridge, @now, NULL, NULL, NULL, @now)
       ON CONFLICT (user_id, app) DO UPDATE SET
         instance = excluded.instance, external_id = excluded.external_id, external_key = excluded.external_key,
         email_key = excluded.email_key, role = excluded.role, state = excluded.state, profile = excluded.profile,
         settings = excluded.settings, created_by_bridge = excluded.created_by_bridge, last_sync_at = excluded.last_sync_at,
         last_error = NULL, conflict_with = NULL, create_unsettled_at = NULL, updated_at = excluded.updated_at`,
    );
    this.holderBy = (column: "external_key" | "email_key") =>
      db.prepare(
        `SELECT a.user_id, u.user_name FROM app_accounts a LEFT JOIN users u ON u.id = a.user_id
         WHERE a.app = ? AND a.instance = ? AND a.${column} = ? AND a.released_at IS NULL AND a.user_id <> ? LIMIT 1`,
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
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  forUser(userId: string): AppAccount[] {
    return (this.byUser.all(userId) as RawAccount[]).map(toAccount);
  }

  get(userId: string, app: string): AppAccount | undefined {
    const r = this.one.get(userId, app) as RawAccount | undefined;
    return r && toAccount(r);
  }

  /**
   * The live user other than `exceptUserId` holding the account `externalId` of an app instance,
   * or the email `email` there (by matching key).
   */
  holderOf(app: string, instance: string, by: { externalId: string } | { email: string }, exceptUserId: string): { userId: string; userName: string | null } | undefined {
    const [column, value] = "externalId" in by ? (["external_key", by.externalId] as const) : (["email_key", by.email] as const);
    const r = this.holderBy(column).get(app, instance, matchingKey(value), exceptUserId) as { user_id: string; user_name: string | null } | undefined;
    return r && { userId: r.user_id, userName: r.user_name };
  }

  /**
   * Records the account as it now stands after a successful action: clears the last error, any
   * conflict and any unsettled create. Throws OwnershipConflict when another live user holds the
   * account or the email in this app instance; the caller's transaction then writes nothing.
   */
  record(outcome: AccountOutcome, instance: string): void {
    const live = holds(outcome.state);
    const row = {
      userId: outcome.userId,
      app: outcome.app,
      instance,
      externalId: outcome.externalId,
      externalKey: live && outcome.externalId !== null ? matchingKey(outcome.externalId) : null,
      emailKey: live && outcome.profile ? matchingKey(outcome.profile.email) : null,
      role: outcome.role,
      state: outcome.state,
      profile: outcome.profile === null ? null : JSON.stringify(outcome.profile),
      settings: JSON.stringify(outcome.settings),
      createdByBridge: outcome.createdByBridge ? 1 : 0,
      now: this.now(),
    };
    this.guarded(outcome.userId, outcome.app, instance, row.externalId, outcome.profile?.email ?? null, () => this.put.run(row));
  }

  /**
   * Before anything is written to the app: makes this user's row hold the email it is about to be
   * given there, so two users whose emails share a matching key can never both be provisioned (the
   * second gets OwnershipConflict). A no-op when the row already holds it.
   */
  reserveEmail(userId: string, app: string, instance: string, profile: Profile): void {
    const key = matchingKey(profile.email);
    const now = this.now();
    this.guarded(userId, app, instance, null, profile.email, () =>
      this.db
        .prepare(
          `INSERT INTO app_accounts (user_id, app, instance, email_key, state, profile, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)
           ON CONFLICT (user_id, app) DO UPDATE SET email_key = excluded.email_key, instance = excluded.instance, updated_at = excluded.updated_at
           WHERE app_accounts.email_key IS NOT excluded.email_key OR app_accounts.instance <> excluded.instance`,
        )
        .run(userId, app, instance, key, JSON.stringify(profile), now),
    );
  }

  /** Runs a write, turning a broken ownership index into OwnershipConflict naming the holder. */
  private guarded(userId: string, app: string, instance: string, externalId: string | null, email: string | null, write: () => void): void {
    try {
      write();
    } catch (e: unknown) {
      if (!(e instanceof Error && "code" in e && e.code === "SQLITE_CONSTRAINT_UNIQUE")) throw e;
      const byAccount = externalId === null ? undefined : this.holderOf(app, instance, { externalId }, userId);
      const holder = byAccount ?? (email === null ? undefined : this.holderOf(app, instance, { email }, userId));
      if (!holder) throw e;
      throw new OwnershipConflict(holder, byAccount ? `the ${app} account ${externalId}` : `the ${app} account for ${email}`, { cause: e });
    }
  }

  /**
   * Records a failed action. The account keeps its state (an active agent whose update failed is
   * still active); a first create that failed leaves an `error` row with no external id.
   * `conflictWith` names the user holding the account this one was refused; `unsettledAt` the time
   * of a create whose effect is unknown (kept from the first such failure until one settles).
   */
  recordError(userId: string, app: string, error: string, extra: { conflictWith?: string; unsettledAt?: string; instance?: string } = {}): void {
    const now = this.now();
    this.db
      .prepare(
        `INSERT INTO app_accounts (user_id, app, instance, state, last_error, conflict_with, create_unsettled_at, updated_at)
         VALUES (@userId, @app, @instance, 'error', @error, @conflictWith, @unsettledAt, @now)
         ON CONFLICT (user_id, app) DO UPDATE SET last_error = excluded.last_error, conflict_with = excluded.conflict_with,
           -- nothing exists in the app yet (a reservation, a first create that failed): an error row
           state = CASE WHEN app_accounts.external_id IS NULL THEN 'error' ELSE app_accounts.state END,
           create_unsettled_at = coalesce(app_accounts.create_unsettled_at, excluded.create_unsettled_at), updated_at = excluded.updated_at`,
      )
      .run({ userId, app, instance: extra.instance ?? "", error, conflictWith: extra.conflictWith ?? null, unsettledAt: extra.unsettledAt ?? null, now });
  }

  /** Live links (not released) of an app, optionally of one state; every row of the app with `all`. */
  list(filter: { app?: string; state?: AccountState; all?: boolean } = {}): AppAccount[] {
    const where: string[] = filter.all ? [] : ["released_at IS NULL"];
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
   * The users other than `exceptUserId` who would still hold `role` in an app instance: a live link,
   * confirmed (`active`: an invitation nobody accepted yet is no one to rely on), and not on its
   * way out (no open task removes, disables, deletes or downgrades it). The keep-one guard asks this
   * inside the write transaction that raises a removal, so each removal it lets through is counted
   * by the next one (docs/manual-tasks.md, "Keep one Account Admin").
   */
  keepersOf(app: string, instance: string, role: string, exceptUserId: string): AppAccount[] {
    return (
      this.db
        .prepare(
          `SELECT a.* FROM app_accounts a
           WHERE a.app = ? AND a.instance = ? AND a.role = ? AND a.state = 'active' AND a.released_at IS NULL AND a.user_id != ?
             AND NOT EXISTS (
               SELECT 1 FROM tasks t WHERE t.app = a.app AND t.user_id = a.user_id AND t.state = 'open'
                 AND (t.action IN ('remove', 'disable', 'delete') OR (t.action = 'changeRole' AND t.role IS NOT a.role)))
           ORDER BY a.user_id`,
        )
        .all(app, instance, role, exceptUserId) as RawAccount[]
    ).map(toAccount);
  }

  /** Per instance, how many live links of the app were made against it. */
  instancesOf(app: string): Map<string, number> {
    const rows = this.db.prepare("SELECT instance, count(*) AS n FROM app_accounts WHERE app = ? AND released_at IS NULL GROUP BY instance").all(app) as {
      instance: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.instance, r.n]));
  }

  /** Deletes a user's link to an app outright (an admin's `apps forget` or `apps rebind`; the audit log keeps what it was). */
  drop(userId: string, app: string): void {
    this.db.prepare("DELETE FROM app_accounts WHERE user_id = ? AND app = ?").run(userId, app);
  }

  /** Links made before instance binding (migration 8) are taken to belong to the instance configured at the first start after it. */
  bindUnboundLinks(app: string, instance: string): number {
    return this.db.prepare("UPDATE app_accounts SET instance = ? WHERE app = ? AND instance = ''").run(instance, app).changes;
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

  /** User ids that hold an account row, released or not (the reconciler re-plans deleted users too). */
  userIds(): string[] {
    return this.db.prepare("SELECT DISTINCT user_id FROM app_accounts").pluck().all() as string[];
  }
}
