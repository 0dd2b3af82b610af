/**
 * A person's access timeline (docs/offboarding-evidence.md): every change to what they may reach,
 * oldest first. What the IdP did (user created, deactivated, deleted; added to or removed from a
 * group, with the SCIM request id), what the bridge and people did in each app (accounts created,
 * changed, deactivated; tickets reassigned; tasks raised, claimed, done, failed, cancelled,
 * reopened; removals held and decided), who did it, and how it was verified when the event says.
 * Read from the audit log alone, so a user the IdP deleted keeps their history.
 */
import type { AuditRow } from "../db/audit.js";
import type { EvidenceReader } from "../db/evidence.js";

export interface TimelineEntry {
  /** The audit event's number; null for a task raised without an event of its own (read from the task). */
  readonly seq: number | null;
  readonly at: string;
  /** idp: a SCIM write; app: an account or a task in an app; approval: a person deciding a held removal. */
  readonly source: "idp" | "app" | "approval";
  readonly app: string | null;
  readonly action: string;
  readonly summary: string;
  /** Who: the IdP token's name, a reviewer or admin, `worker`, `reconciler`, or whatever the event records (`read-back`, `halopsa:<agent>`). */
  readonly actor: string;
  readonly requestId: string | null;
  /** The event's own `verification` detail, when it carries one (how the bridge saw the work done). */
  readonly verification: unknown;
  readonly taskId: number | null;
}

export interface UserTimeline {
  readonly userId: string;
  readonly userName: string | null;
  /** False once the IdP deleted the user: the history is what the audit log kept. */
  readonly inDirectory: boolean;
  readonly entries: readonly TimelineEntry[];
}

const field = (value: unknown, name: string): unknown => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined);
const text = (value: unknown): string => (typeof value === "string" || typeof value === "number" ? String(value) : "");
const has = (list: unknown, id: string): boolean => Array.isArray(list) && list.includes(id);

function idpSummary(e: AuditRow, userId: string, groupName: (id: string | null) => string): string {
  const wasActive = field(e.before, "active");
  const isActive = field(e.after, "active");
  switch (e.action) {
    case "user.create":
      return isActive === false ? "IdP created the user, inactive" : "IdP created the user";
    case "user.replace":
    case "user.patch":
      if (wasActive !== false && isActive === false) return "IdP deactivated the user";
      if (wasActive === false && isActive !== false) return "IdP reactivated the user";
      return "IdP updated the user";
    case "user.delete":
      return "IdP deleted the user";
    case "group.create":
      return `IdP created group ${groupName(e.resourceId)} with them in it`;
    case "group.patch":
      if (has(field(e.after, "membersAdded"), userId)) return `IdP added them to group ${groupName(e.resourceId)}`;
      if (has(field(e.after, "membersRemoved"), userId)) return `IdP removed them from group ${groupName(e.resourceId)}`;
      return `IdP changed group ${groupName(e.resourceId)}, of which they are a member`;
    case "group.replace":
      return `IdP replaced the members of group ${groupName(e.resourceId)}, keeping or adding them`;
    case "group.delete":
      return `IdP deleted group ${groupName(e.resourceId)}, of which they were a member`;
    default:
      return e.action;
  }
}

function appSummary(e: AuditRow, taskId: number | null): string {
  const after = e.after;
  const task = `task #${taskId ?? "?"}`;
  const role = text(field(after, "role"));
  const error = text(field(after, "error"));
  switch (e.action) {
    case "provision.create":
      return `account created${role && ` as ${role}`} (${text(field(after, "state"))})`;
    case "provision.update":
      return "account updated";
    case "provision.changeRole":
      return `role changed${role && ` to ${role}`}`;
    case "provision.reactivate":
      return "account reactivated";
    case "provision.deactivate": {
      const state = text(field(after, "state"));
      return state === "disabled" || state === "removed" ? `account deactivated (${state})` : "removal started";
    }
    case "provision.discard":
      return "account that never reached the app forgotten";
    case "halopsa.tickets-reassigned":
      return "open tickets reassigned";
    case "task.raised":
      return `${task} raised: ${text(field(after, "title"))}`;
    case "task.blocked":
      return `${task} raised, blocked: ${text(field(after, "title"))}`;
    case "task.cancelled":
      return `${task} cancelled: ${text(field(after, "reason"))}`;
    case "task.claim":
      return `${task} claimed`;
    case "task.done": {
      const note = text(field(after, "note"));
      return `${task} done${note && `: ${note}`}`;
    }
    case "task.failed":
      return `${task} failed: ${text(field(after, "reason"))}`;
    case "task.reopen": {
      const reason = text(field(after, "reason"));
      return `${task} reopened${reason && `: ${reason}`}`;
    }
    case "task.verified": {
      const evidence = text(field(after, "evidence"));
      return `${task} verified by read-back${evidence && `: ${evidence}`}`;
    }
    case "task.reopened-by-read-back":
      return `${task} reopened by read-back: ${text(field(after, "reason"))}`;
    case "approval.held":
      return `removal held for approval (change set ${text(field(after, "changeSet"))})`;
    case "approval.approve":
      return `held change set ${e.resourceId ?? ""} approved`;
    case "approval.reject":
      return `held change set ${e.resourceId ?? ""} rejected`;
    default:
      if (e.action.endsWith(".failed") || e.action.endsWith(".conflict")) return `${e.action}${error && `: ${error}`}`;
      return e.resourceType === "Task" ? `${task}: ${e.action}` : e.action;
  }
}

/** The timeline, or undefined when neither the directory nor the audit log knows the user. */
export function userTimeline(reader: EvidenceReader, userId: string, directoryUserName: string | undefined): UserTimeline | undefined {
  if (directoryUserName === undefined && !reader.hasHistory(userId)) return undefined;
  const events = reader.userEvents(userId);
  const taskIds = events.filter((e) => e.resourceType === "Task").map((e) => Number(e.resourceId));
  const tasks = reader.tasks(taskIds);
  const groups = reader.groupNames();
  const groupName = (id: string | null) => `"${(id !== null && groups.get(id)) || id || "?"}"`;
  const entries = events.map((e): TimelineEntry => {
    const slash = e.resourceType === "AppAccount" ? (e.resourceId ?? "").lastIndexOf("/") : -1;
    const taskId = e.resourceType === "Task" ? Number(e.resourceId) : typeof field(e.after, "taskId") === "number" ? (field(e.after, "taskId") as number) : null;
    const app = slash >= 0 ? e.resourceId!.slice(slash + 1) : taskId !== null ? (tasks.get(taskId)?.app ?? null) : null;
    const source = e.resourceType === "User" || e.resourceType === "Group" ? "idp" : e.resourceType === "ChangeSet" ? "approval" : "app";
    return {
      seq: e.seq,
      at: e.at,
      source,
      app,
      action: e.action,
      summary: source === "idp" ? idpSummary(e, userId, groupName) : appSummary(e, taskId),
      actor: e.actor,
      requestId: e.requestId,
      verification: field(e.after, "verification") ?? null,
      taskId,
    };
  });
  // A follow-up task (confirm an accepted invitation) is raised with the completion it follows and
  // has no event of its own: the task row says when and for which request.
  const announced = new Set(entries.filter((x) => x.action === "task.raised" || x.action === "task.blocked").map((x) => x.taskId));
  const followUps = reader
    .userTasks(userId)
    .filter((t) => !announced.has(t.id))
    .map(
      (t): TimelineEntry => ({
        seq: null,
        at: t.createdAt,
        source: "app",
        app: t.app,
        action: "task.raised",
        summary: `task #${t.id} raised: ${t.title}`,
        actor: "bridge",
        requestId: t.requestId,
        verification: null,
        taskId: t.id,
      }),
    );
  // Stable: events keep their log order; a follow-up comes after the events of its moment.
  const ordered = [...entries, ...followUps].sort((a, b) => a.at.localeCompare(b.at));
  const userName = directoryUserName ?? reader.userNames([userId]).get(userId) ?? null;
  return { userId, userName, inDirectory: directoryUserName !== undefined, entries: ordered };
}
