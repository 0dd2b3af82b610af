/**
 * Reads behind offboarding evidence (docs/offboarding-evidence.md): a person's history across the
 * audit log, the removal-related events of every app account, and when each request arrived.
 * Nothing here is stored for the purpose: it is all derived from the audit log, the tasks and the
 * directory the bridge keeps anyway.
 */
import { toRow, type AuditRow, type RawAudit } from "./audit.js";
import type { Db } from "./database.js";

/** The actions that open, close or withdraw a removal (src/admin/evidence/deprovisioning.ts). */
export const REMOVAL_EVENT_ACTIONS = [
  "provision.deactivate",
  "provision.deactivate.failed",
  "provision.deactivate.conflict",
  "provision.discard",
  "provision.create",
  "provision.reactivate",
  "approval.held",
  "task.raised",
  "task.blocked",
  "task.cancelled",
  "task.done",
  "drift.deactivate",
] as const;

/** A task as the evidence reads it; `verifiedAt` is read when the tasks table has that column. */
export interface EvidenceTask {
  readonly id: number;
  readonly userId: string;
  readonly app: string;
  readonly action: string;
  readonly title: string;
  readonly state: string;
  readonly verifiedAt: string | null;
}

interface RawTask {
  id: number;
  user_id: string;
  app: string;
  action: string;
  title: string;
  state: string;
  verified_at: string | null;
}

const taskOf = (r: RawTask): EvidenceTask => ({ id: r.id, userId: r.user_id, app: r.app, action: r.action, title: r.title, state: r.state, verifiedAt: r.verified_at });

export class EvidenceReader {
  constructor(private readonly db: Db) {}

  /**
   * Every event about a user, oldest first: their SCIM resource, each group change that names them
   * as a member added, removed or present, their app accounts (`userId/app`), their tasks, and
   * the decisions on change sets that held one of their accounts.
   */
  userEvents(userId: string): AuditRow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM audit_events e WHERE
           (e.resource_type = 'User' AND e.resource_id = @userId)
        OR (e.resource_type = 'AppAccount' AND substr(e.resource_id, 1, length(@userId) + 1) = @userId || '/')
        OR (e.resource_type = 'Task' AND e.resource_id IN (SELECT CAST(id AS TEXT) FROM tasks WHERE user_id = @userId))
        OR (e.resource_type = 'ChangeSet' AND e.action IN ('approval.approve', 'approval.reject')
            AND e.resource_id IN (SELECT CAST(change_id AS TEXT) FROM holds WHERE user_id = @userId))
        OR (e.resource_type = 'Group' AND EXISTS (
              SELECT 1 FROM json_each(e.after, '$.members') WHERE value = @userId
              UNION ALL SELECT 1 FROM json_each(e.after, '$.membersAdded') WHERE value = @userId
              UNION ALL SELECT 1 FROM json_each(e.after, '$.membersRemoved') WHERE value = @userId
              UNION ALL SELECT 1 FROM json_each(e.before, '$.members') WHERE value = @userId))
        ORDER BY e.seq`,
      )
      .all({ userId }) as RawAudit[];
    return rows.map(toRow);
  }

  /**
   * Events of every app account and task that can open, close or withdraw a removal, oldest first,
   * and every `task.reopen…` (a task reopened by a person, or because reading the app back showed
   * the work was not done).
   */
  removalEvents(): AuditRow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM audit_events WHERE resource_type IN ('AppAccount', 'Task')
           AND (action IN (SELECT value FROM json_each(?)) OR substr(action, 1, 11) = 'task.reopen') ORDER BY seq`,
      )
      .all(JSON.stringify(REMOVAL_EVENT_ACTIONS)) as RawAudit[];
    return rows.map(toRow);
  }

  /** Every task of the user, oldest first, with when it was raised and by which request. */
  userTasks(userId: string): (EvidenceTask & { readonly createdAt: string; readonly requestId: string | null })[] {
    const rows = this.db.prepare("SELECT * FROM tasks WHERE user_id = ? ORDER BY id").all(userId) as (RawTask & { created_at: string; request_id: string | null })[];
    return rows.map((r) => ({ ...taskOf(r), createdAt: r.created_at, requestId: r.request_id }));
  }

  /** The tasks with these ids. */
  tasks(ids: readonly number[]): Map<number, EvidenceTask> {
    const rows = this.db.prepare("SELECT * FROM tasks WHERE id IN (SELECT value FROM json_each(?))").all(JSON.stringify(ids)) as RawTask[];
    return new Map(rows.map((r) => [r.id, taskOf(r)]));
  }

  /** When each request arrived: the time of its first audit event (for an IdP request, the SCIM write). */
  requestTimes(requestIds: Iterable<string>): Map<string, string> {
    const rows = this.db
      .prepare("SELECT request_id AS id, min(at) AS at FROM audit_events WHERE request_id IN (SELECT value FROM json_each(?)) GROUP BY request_id")
      .all(JSON.stringify([...new Set(requestIds)])) as { id: string; at: string }[];
    return new Map(rows.map((r) => [r.id, r.at]));
  }

  /** Group display names by SCIM id (a deleted group is named by its id). */
  groupNames(): Map<string, string> {
    const rows = this.db.prepare("SELECT id, display_name AS name FROM groups").all() as { id: string; name: string }[];
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  /**
   * The userName each user last had, from the audit log of their SCIM writes (so a user the IdP
   * deleted keeps the name the auditor knows them by).
   */
  userNames(userIds: Iterable<string>): Map<string, string> {
    const rows = this.db
      .prepare(
        `SELECT resource_id AS id, json_extract(coalesce(after, before), '$.userName') AS name FROM audit_events
         WHERE resource_type = 'User' AND resource_id IN (SELECT value FROM json_each(?)) ORDER BY seq`,
      )
      .all(JSON.stringify([...new Set(userIds)])) as { id: string; name: unknown }[];
    const names = new Map<string, string>();
    for (const r of rows) if (typeof r.name === "string") names.set(r.id, r.name);
    return names;
  }

  /** True when the audit log holds anything about the user (a deleted user's history stays readable). */
  hasHistory(userId: string): boolean {
    return this.db.prepare("SELECT 1 FROM audit_events WHERE resource_type = 'User' AND resource_id = ? LIMIT 1").get(userId) !== undefined;
  }
}
