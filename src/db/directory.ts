/**
 * The directory tables (users, user_emails, groups, group_members): the only place their SQL lives.
 * Every method is synchronous and runs inside the caller's transaction; the SCIM layer opens
 * one transaction per request so a write and its audit event land together or not at all.
 */
import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import { BridgeError } from "../errors.js";
import type { JsonObject } from "../domain/json.js";
import { type Db } from "./database.js";
import { fold } from "../domain/folding.js";
import type { Clock } from "../clock.js";
import { CountCache } from "./count-cache.js";

export interface UserRow {
  readonly pk: number;
  readonly id: string;
  readonly userName: string;
  readonly externalId: string | null;
  readonly active: boolean;
  readonly attributes: JsonObject;
  /**
   * The stored attributes as the JSON text they were written as (JSON.stringify's output), for a
   * list page that serves them without parsing them first (scim/render.ts, userJson).
   */
  readonly storedJson: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface GroupRow {
  readonly pk: number;
  readonly id: string;
  readonly displayName: string;
  readonly externalId: string | null;
  readonly attributes: JsonObject;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A member or group reference as listed on the other side of a membership. */
export interface MemberRef {
  readonly id: string;
  readonly display: string;
}

/**
 * Rows are read in better-sqlite3's raw mode, as arrays in the order of USER_COLUMNS and
 * GROUP_COLUMNS: building an object per row cost about half of reading a page of 100 users.
 */
const USER_COLUMNS = ["pk", "id", "user_name", "external_id", "active", "data", "version", "created_at", "updated_at"] as const;
const GROUP_COLUMNS = ["pk", "id", "display_name", "external_id", "data", "version", "created_at", "updated_at"] as const;

type RawUser = [pk: number, id: string, userName: string, externalId: string | null, active: number, data: string, version: number, createdAt: string, updatedAt: string];
type RawGroup = [pk: number, id: string, displayName: string, externalId: string | null, data: string, version: number, createdAt: string, updatedAt: string];

export interface ListQuery {
  readonly where: string;
  readonly params: readonly unknown[];
  readonly orderBy: string;
  readonly limit: number;
  readonly offset: number;
}

/**
 * A keyset page (RFC 9865 cursors): `where` already holds the condition "beyond the cursor", so
 * there is no OFFSET to scan past. `sortKey`, when given, is selected with each row, so the next
 * cursor can name the last row's place in the order.
 */
export interface KeysetQuery {
  readonly where: string;
  readonly params: readonly unknown[];
  readonly orderBy: string;
  readonly limit: number;
  readonly sortKey?: string | undefined;
}

/** A row with the value of its sort key (null when it has none, or when the order is by pk). */
export interface KeyedRow<Row> {
  readonly row: Row;
  readonly sortKey: string | number | null;
}

/** `attributes` is parsed when first read: a list page served from `storedJson` never parses it. */
function toUser([pk, id, userName, externalId, active, data, version, createdAt, updatedAt]: RawUser): UserRow {
  let attributes: JsonObject | undefined;
  return {
    pk,
    id,
    userName,
    externalId,
    active: active === 1,
    get attributes() {
      return (attributes ??= JSON.parse(data) as JsonObject);
    },
    storedJson: data,
    version,
    createdAt,
    updatedAt,
  };
}

function toGroup([pk, id, displayName, externalId, data, version, createdAt, updatedAt]: RawGroup): GroupRow {
  return { pk, id, displayName, externalId, attributes: JSON.parse(data) as JsonObject, version, createdAt, updatedAt };
}

/**
 * A resource table as the list and lookup queries see it. The aliases `u` and `g` are the ones
 * scim/filter/sql.ts and scim/list-query.ts write their WHERE and ORDER BY fragments against.
 */
interface ResourceTable<Raw, Row> {
  readonly from: "users u" | "groups g";
  readonly columns: string;
  readonly toRow: (raw: Raw) => Row;
}

const USERS: ResourceTable<RawUser, UserRow> = {
  from: "users u",
  columns: USER_COLUMNS.map((c) => `u.${c}`).join(", "),
  toRow: toUser,
};

const GROUPS: ResourceTable<RawGroup, GroupRow> = {
  from: "groups g",
  columns: GROUP_COLUMNS.map((c) => `g.${c}`).join(", "),
  toRow: toGroup,
};

/** users.user_name, user_name_key, external_id, active, data: where a user's attributes are stored. */
function userColumns(attributes: JsonObject): [string, string, string | null, 0 | 1, string] {
  const userName = attributes["userName"] as string;
  const externalId = (attributes["externalId"] as string | undefined) ?? null;
  // Only an asserted `active: true` grants access: a removed (unassigned) `active` is inactive (docs/scim.md).
  return [userName, fold(userName), externalId, attributes["active"] === true ? 1 : 0, JSON.stringify(attributes)];
}

/** groups.display_name, display_name_key, external_id, data. */
function groupColumns(attributes: JsonObject): [string, string, string | null, string] {
  const displayName = attributes["displayName"] as string;
  const externalId = (attributes["externalId"] as string | undefined) ?? null;
  return [displayName, fold(displayName), externalId, JSON.stringify(attributes)];
}

/** Runs a users write; a clash on user_name_key (userName is unique case-insensitively, RFC 7643 §4.1.1) is 409 uniqueness. */
function uniqueUserName(attributes: JsonObject, write: () => unknown): RawUser {
  try {
    return write() as RawUser;
  } catch (e: unknown) {
    const code = e instanceof Error && "code" in e ? (e as { code: unknown }).code : undefined;
    if (code === "SQLITE_CONSTRAINT_UNIQUE") {
      throw new BridgeError("uniqueness", `userName "${String(attributes["userName"])}" is already taken`, { cause: e });
    }
    throw e;
  }
}

interface EmailRow {
  value_key: string;
  type_key: string | null;
  is_primary: number;
}

function emailRows(attributes: JsonObject): EmailRow[] {
  const emails = attributes["emails"];
  if (!Array.isArray(emails)) return [];
  const rows: EmailRow[] = [];
  for (const e of emails) {
    if (typeof e !== "object" || e === null || Array.isArray(e)) continue;
    const value = e["value"];
    if (typeof value !== "string") continue;
    const type = e["type"];
    rows.push({ value_key: fold(value), type_key: typeof type === "string" ? fold(type) : null, is_primary: e["primary"] === true ? 1 : 0 });
  }
  return rows;
}

/**
 * The page size is written into the SQL rather than bound: a bound LIMIT made SQLite's index lookup
 * 3× slower (12 µs instead of 4 µs per `userName eq` in a micro-benchmark), and page sizes are few
 * (IdPs use 1 or 100), so the prepared-statement cache stays small.
 */
function limitClause(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`invalid page size ${limit}`);
  return String(limit);
}

/**
 * `IN` over a page of row keys. A single key (a GET by id, an IdP lookup) binds directly, which
 * SQLite plans as an index seek; a page binds one JSON array instead of up to 1,000 parameters.
 */
function keySet(pks: readonly number[]): string {
  return pks.length === 1 ? "(?)" : "(SELECT value FROM json_each(?))";
}

function keyParams(pks: readonly number[]): unknown[] {
  return pks.length === 1 ? [pks[0]] : [JSON.stringify(pks)];
}

/** Lookup by SCIM id, and pages and totals for the WHERE and ORDER BY that scim/list-query.ts builds. */
export interface RowReader<Row> {
  get(id: string): Row | undefined;
  list(q: ListQuery): Row[];
  listKeyed(q: KeysetQuery): KeyedRow<Row>[];
  count(where: string, params: readonly unknown[]): number;
}

/** Statements are prepared once per store; SQL text built from filters is cached by its text. */
export class Directory {
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();
  private readonly counts: CountCache;
  readonly users: RowReader<UserRow>;
  readonly groups: RowReader<GroupRow>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.counts = new CountCache(db);
    this.users = this.reader(USERS);
    this.groups = this.reader(GROUPS);
  }

  /** Runs `fn` in one IMMEDIATE transaction (takes the write lock up front, so no upgrade deadlock). */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private stmt(sql: string): Database.Statement<unknown[]> {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      // Filters are parameterised, so distinct SQL texts are few; the cap only guards against abuse.
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }

  /** A statement that returns rows as arrays; its SQL text is only ever run this way. */
  private rawStmt(sql: string): Database.Statement<unknown[]> {
    return this.stmt(sql).raw(true);
  }

  private reader<Raw, Row>(t: ResourceTable<Raw, Row>): RowReader<Row> {
    return {
      get: (id) => {
        const r = this.rawStmt(`SELECT ${t.columns} FROM ${t.from} WHERE id = ?`).get(id) as Raw | undefined;
        return r === undefined ? undefined : t.toRow(r);
      },
      list: (q) => {
        const sql = `SELECT ${t.columns} FROM ${t.from} WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT ${limitClause(q.limit)} OFFSET ?`;
        return (this.rawStmt(sql).all(...q.params, q.offset) as Raw[]).map(t.toRow);
      },
      listKeyed: (q) => {
        const key = q.sortKey === undefined ? "NULL" : q.sortKey;
        const sql = `SELECT ${t.columns}, ${key} AS sort_key FROM ${t.from} WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT ${limitClause(q.limit)}`;
        // The sort key is selected last, after the table's columns.
        return (this.rawStmt(sql).all(...q.params) as unknown[][]).map((r) => ({ row: t.toRow(r as Raw), sortKey: r.at(-1) as string | number | null }));
      },
      count: (where, params) => {
        const sql = `SELECT count(*) FROM ${t.from} WHERE ${where}`;
        return this.counts.get(`${sql}\u0000${JSON.stringify(params)}`, () => this.stmt(sql).pluck().get(...params) as number);
      },
    };
  }

  // ---- users ----

  insertUser(attributes: JsonObject): UserRow {
    const now = this.clock.now().toISOString();
    const r = uniqueUserName(attributes, () =>
      this.rawStmt(
        `INSERT INTO users (id, user_name, user_name_key, external_id, active, data, version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${USER_COLUMNS.join(", ")}`,
      ).get(randomUUID(), ...userColumns(attributes), now, now),
    );
    this.writeEmails(r[0], attributes);
    return toUser(r);
  }

  replaceUser(pk: number, attributes: JsonObject): UserRow {
    const r = uniqueUserName(attributes, () =>
      this.rawStmt(
        `UPDATE users SET user_name = ?, user_name_key = ?, external_id = ?, active = ?, data = ?,
           version = version + 1, updated_at = ? WHERE pk = ? RETURNING ${USER_COLUMNS.join(", ")}`,
      ).get(...userColumns(attributes), this.clock.now().toISOString(), pk),
    );
    this.stmt("DELETE FROM user_emails WHERE user_pk = ?").run(pk);
    this.writeEmails(pk, attributes);
    return toUser(r);
  }

  /**
   * Deletes the user; ON DELETE CASCADE removes its emails and every group membership. Its
   * identity-map links are released in the same transaction (kept as history, holding nothing),
   * so a user created again with the same email adopts cleanly and drift never reads a stale link;
   * the worker still deprovisions what they had (docs/provisioning.md).
   */
  deleteUser(pk: number): string[] {
    const groupIds = this.stmt(
      "SELECT g.id FROM group_members gm JOIN groups g ON g.pk = gm.group_pk WHERE gm.user_pk = ?",
    ).pluck().all(pk) as string[];
    if (groupIds.length > 0) {
      this.stmt(
        "UPDATE groups SET version = version + 1, updated_at = ? WHERE pk IN (SELECT group_pk FROM group_members WHERE user_pk = ?)",
      ).run(this.clock.now().toISOString(), pk);
    }
    const now = this.clock.now().toISOString();
    this.stmt("UPDATE app_accounts SET released_at = ?, updated_at = ? WHERE user_id = (SELECT id FROM users WHERE pk = ?) AND released_at IS NULL").run(now, now, pk);
    this.stmt("DELETE FROM users WHERE pk = ?").run(pk);
    return groupIds;
  }

  private writeEmails(pk: number, attributes: JsonObject): void {
    const insert = this.stmt("INSERT INTO user_emails (user_pk, value_key, type_key, is_primary) VALUES (?, ?, ?, ?)");
    for (const e of emailRows(attributes)) insert.run(pk, e.value_key, e.type_key, e.is_primary);
  }

  /** Groups of each user, for the readOnly `groups` attribute (RFC 7643 §4.1.2). One query per page. */
  groupsOfUsers(pks: readonly number[]): Map<number, MemberRef[]> {
    const out = new Map<number, MemberRef[]>(pks.map((pk) => [pk, []]));
    if (pks.length === 0) return out;
    // Read in the order of the (user_pk, group_pk) index, so SQLite sorts nothing: each user's
    // groups still come in group order.
    const rows = this.rawStmt(
      `SELECT gm.user_pk, g.id, g.display_name FROM group_members gm
       JOIN groups g ON g.pk = gm.group_pk
       WHERE gm.user_pk IN ${keySet(pks)} ORDER BY gm.user_pk, gm.group_pk`,
    ).all(...keyParams(pks)) as [owner: number, id: string, display: string][];
    for (const [owner, id, display] of rows) out.get(owner)?.push({ id, display });
    return out;
  }


  // ---- groups ----

  insertGroup(attributes: JsonObject): GroupRow {
    const now = this.clock.now().toISOString();
    const r = this.rawStmt(
      `INSERT INTO groups (id, display_name, display_name_key, external_id, data, version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${GROUP_COLUMNS.join(", ")}`,
    ).get(randomUUID(), ...groupColumns(attributes), now, now) as RawGroup;
    return toGroup(r);
  }

  /** Writes a group's own attributes and bumps its version (also used after member-only changes). */
  replaceGroup(pk: number, attributes: JsonObject): GroupRow {
    const r = this.rawStmt(
      `UPDATE groups SET display_name = ?, display_name_key = ?, external_id = ?, data = ?,
         version = version + 1, updated_at = ? WHERE pk = ? RETURNING ${GROUP_COLUMNS.join(", ")}`,
    ).get(...groupColumns(attributes), this.clock.now().toISOString(), pk) as RawGroup;
    return toGroup(r);
  }

  deleteGroup(pk: number): void {
    this.stmt("DELETE FROM groups WHERE pk = ?").run(pk);
  }

  /** Members of each group, for the `members` attribute. One query per page of groups. */
  membersOfGroups(pks: readonly number[]): Map<number, MemberRef[]> {
    const out = new Map<number, MemberRef[]>(pks.map((pk) => [pk, []]));
    if (pks.length === 0) return out;
    const rows = this.stmt(
      `SELECT gm.group_pk AS owner, u.id AS id, COALESCE(gm.display, json_extract(u.data, '$.displayName'), u.user_name) AS display
       FROM group_members gm JOIN users u ON u.pk = gm.user_pk
       WHERE gm.group_pk IN ${keySet(pks)} ORDER BY gm.user_pk`,
    ).all(...keyParams(pks)) as { owner: number; id: string; display: string }[];
    for (const r of rows) out.get(r.owner)?.push({ id: r.id, display: r.display });
    return out;
  }

  /** Resolves SCIM user ids to row keys; an id that names no user is a client error. */
  private userPk(id: string): number {
    const pk = this.stmt("SELECT pk FROM users WHERE id = ?").pluck().get(id) as number | undefined;
    if (pk === undefined) throw new BridgeError("invalidValue", `member "${id}" is not a known User`);
    return pk;
  }

  /**
   * Adds members, each with the display the client sent (null: derived on read). Ones already
   * present are left alone, display included (Entra re-adds members). Returns the ids added.
   */
  addMembers(groupPk: number, members: { readonly ids: readonly string[]; readonly displays?: Readonly<Record<string, string>> }): string[] {
    const insert = this.stmt("INSERT OR IGNORE INTO group_members (group_pk, user_pk, display) VALUES (?, ?, ?)");
    return members.ids.filter((id) => insert.run(groupPk, this.userPk(id), members.displays?.[id] ?? null).changes > 0);
  }

  /** Removes the listed members; ids that are not members (or not users) are ignored. Returns the ids removed. */
  removeMembers(groupPk: number, userIds: readonly string[]): string[] {
    const remove = this.stmt(
      "DELETE FROM group_members WHERE group_pk = ? AND user_pk = (SELECT pk FROM users WHERE id = ?)",
    );
    return userIds.filter((id) => remove.run(groupPk, id).changes > 0);
  }

  /** Removes every member; returns the ids removed. */
  removeAllMembers(groupPk: number): string[] {
    const ids = this.memberIdsOf(groupPk);
    this.stmt("DELETE FROM group_members WHERE group_pk = ?").run(groupPk);
    return ids;
  }

  /**
   * Members matching a value filter, as SQL over `users mu` (scim/filter/sql.ts memberFilterSql):
   * the group's rows are read through the group_members key, never loaded whole into memory.
   */
  memberIdsMatching(groupPk: number, filter: { readonly where: string; readonly params: readonly unknown[] }): string[] {
    return this.stmt(
      `SELECT mu.id FROM group_members gm JOIN users mu ON mu.pk = gm.user_pk WHERE gm.group_pk = ? AND (${filter.where})`,
    ).pluck().all(groupPk, ...filter.params) as string[];
  }

  memberIdsOf(groupPk: number): string[] {
    return this.stmt(
      "SELECT u.id FROM group_members gm JOIN users u ON u.pk = gm.user_pk WHERE gm.group_pk = ?",
    ).pluck().all(groupPk) as string[];
  }
}
