/**
 * The provisioning view of the directory: a user with the groups rules match on (id, displayName,
 * externalId). Read-only; the SCIM side writes these tables through directory.ts.
 */
import type { JsonObject } from "../domain/json.js";
import type { DirectoryReader, DirectorySnapshot } from "../domain/readers.js";
import type { Db } from "./database.js";

export class DirectorySnapshots implements DirectoryReader {
  private readonly userStmt;
  private readonly groupsStmt;
  private readonly idsStmt;
  private readonly versionStmt;

  constructor(db: Db) {
    this.userStmt = db.prepare("SELECT pk, id, user_name, active, data FROM users WHERE id = ?");
    this.groupsStmt = db.prepare(
      `SELECT g.id, g.display_name, g.external_id FROM group_members gm JOIN groups g ON g.pk = gm.group_pk
       WHERE gm.user_pk = ? ORDER BY g.pk`,
    );
    this.idsStmt = db.prepare("SELECT id FROM users ORDER BY pk").pluck();
    this.versionStmt = db.prepare("SELECT version FROM users WHERE id = ?").pluck();
  }

  snapshot(userId: string): DirectorySnapshot {
    const u = this.userStmt.get(userId) as { pk: number; id: string; user_name: string; active: number; data: string } | undefined;
    if (!u) return { user: undefined, groups: [] };
    const groups = (this.groupsStmt.all(u.pk) as { id: string; display_name: string; external_id: string | null }[]).map((g) => ({
      id: g.id,
      displayName: g.display_name,
      externalId: g.external_id,
    }));
    return { user: { id: u.id, userName: u.user_name, active: u.active === 1, attributes: JSON.parse(u.data) as JsonObject }, groups };
  }

  /** The user's version (it grows with every change the IdP makes), or null once deleted. */
  versionOf(userId: string): number | null {
    return (this.versionStmt.get(userId) as number | undefined) ?? null;
  }

  userIds(): string[] {
    return this.idsStmt.all() as string[];
  }
}
