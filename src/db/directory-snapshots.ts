/**
 * The provisioning view of the directory: a user with the groups rules match on (id, displayName,
 * externalId). Read-only; the SCIM side writes these tables through directory.ts.
 */
import { fold } from "../domain/folding.js";
import type { JsonObject } from "../domain/json.js";
import type { DirectoryEntry, DirectoryGroup, DirectoryReader, DirectorySnapshot, GroupCatalog } from "../domain/readers.js";
import type { Db } from "./database.js";

interface GroupRecord {
  id: string;
  display_name: string;
  external_id: string | null;
}

interface UserRecord {
  pk: number;
  id: string;
  user_name: string;
  active: number;
  data: string;
}

const toGroup = (g: GroupRecord): DirectoryGroup => ({ id: g.id, displayName: g.display_name, externalId: g.external_id });

const snapshotOf = (u: UserRecord, groups: DirectoryGroup[]): DirectoryEntry => ({
  user: { id: u.id, userName: u.user_name, active: u.active === 1, attributes: JSON.parse(u.data) as JsonObject },
  groups,
});

export class DirectorySnapshots implements DirectoryReader, GroupCatalog {
  private readonly userStmt;
  private readonly groupsStmt;
  private readonly idsStmt;
  private readonly versionStmt;
  private readonly allGroupsStmt;
  private readonly byUserNameStmt;
  private readonly byEmailStmt;
  private readonly usersAfterStmt;
  private readonly groupsOfPageStmt;

  constructor(db: Db) {
    this.userStmt = db.prepare("SELECT pk, id, user_name, active, data FROM users WHERE id = ?");
    this.groupsStmt = db.prepare(
      `SELECT g.id, g.display_name, g.external_id FROM group_members gm JOIN groups g ON g.pk = gm.group_pk
       WHERE gm.user_pk = ? ORDER BY g.pk`,
    );
    this.idsStmt = db.prepare("SELECT id FROM users ORDER BY pk").pluck();
    this.versionStmt = db.prepare("SELECT version FROM users WHERE id = ?").pluck();
    this.allGroupsStmt = db.prepare("SELECT id, display_name, external_id FROM groups ORDER BY pk");
    this.byUserNameStmt = db.prepare("SELECT id, user_name FROM users WHERE user_name_key = ?");
    this.byEmailStmt = db.prepare("SELECT DISTINCT u.id, u.user_name FROM user_emails e JOIN users u ON u.pk = e.user_pk WHERE e.value_key = ? ORDER BY u.pk");
    this.usersAfterStmt = db.prepare("SELECT pk, id, user_name, active, data FROM users WHERE pk > ? ORDER BY pk LIMIT ?");
    this.groupsOfPageStmt = db.prepare(
      `SELECT gm.user_pk AS user_pk, g.id, g.display_name, g.external_id FROM group_members gm JOIN groups g ON g.pk = gm.group_pk
       WHERE gm.user_pk BETWEEN ? AND ? ORDER BY gm.user_pk, g.pk`,
    );
  }

  /**
   * The users a person's reference names, for tools that take "who" as typed: a userName, else an
   * email (both caseExact=false, compared as the directory stores them: folded). Emails are not
   * unique, so more than one user may come back. A SCIM id is the caller's to check with snapshot().
   */
  usersNamed(reference: string): { id: string; userName: string }[] {
    const key = fold(reference.trim());
    const byUserName = this.byUserNameStmt.all(key) as { id: string; user_name: string }[];
    const rows = byUserName.length > 0 ? byUserName : (this.byEmailStmt.all(key) as { id: string; user_name: string }[]);
    return rows.map((r) => ({ id: r.id, userName: r.user_name }));
  }

  snapshot(userId: string): DirectorySnapshot {
    const u = this.userStmt.get(userId) as UserRecord | undefined;
    if (!u) return { user: undefined, groups: [] };
    return snapshotOf(u, (this.groupsStmt.all(u.pk) as GroupRecord[]).map(toGroup));
  }

  /**
   * Pages by row key (no OFFSET), each page's memberships in one range read of group_members'
   * user index. A page is read when the caller asks for it: rows written between pages are seen
   * as a pass user by user would see them.
   */
  *snapshotPages(size: number): Iterable<DirectoryEntry[]> {
    let after = 0;
    for (;;) {
      const users = this.usersAfterStmt.all(after, size) as UserRecord[];
      if (users.length === 0) return;
      const first = users[0]!.pk;
      after = users.at(-1)!.pk;
      const groups = new Map<number, DirectoryGroup[]>();
      for (const m of this.groupsOfPageStmt.all(first, after) as (GroupRecord & { user_pk: number })[]) {
        const list = groups.get(m.user_pk) ?? [];
        list.push(toGroup(m));
        groups.set(m.user_pk, list);
      }
      yield users.map((u) => snapshotOf(u, groups.get(u.pk) ?? []));
    }
  }

  /** The user's version (it grows with every change the IdP makes), or null once deleted. */
  versionOf(userId: string): number | null {
    return (this.versionStmt.get(userId) as number | undefined) ?? null;
  }

  userIds(): string[] {
    return this.idsStmt.all() as string[];
  }

  allGroups(): DirectoryGroup[] {
    return (this.allGroupsStmt.all() as GroupRecord[]).map(toGroup);
  }
}
