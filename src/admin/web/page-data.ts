/**
 * Reads what each page shows from the stores. Pages are pure functions of this data; every read
 * here is an indexed SQLite query, so a page is built in a few milliseconds.
 */
import type { ApprovalStore } from "../../db/approvals.js";
import type { AuditLog } from "../../db/audit.js";
import type { DriftStore } from "../../db/drift.js";
import type { JobQueue } from "../../db/jobs.js";
import type { TaskStore } from "../../db/tasks.js";
import type { Task } from "../../domain/task.js";
import { describeAction } from "../../provisioning/plan.js";
import { explain, profileOf } from "../../provisioning/rules.js";
import { planUser, type ProvisioningDeps } from "../../provisioning/sync-user.js";
import type { RuleCheck } from "../../provisioning/rule-check.js";
import { unwantedReason } from "../../provisioning/unwanted-tasks.js";
import { raisesTasks } from "../../apps/app-types.js";
import { isAdmin, type Notice, type Viewer } from "./layout.js";
import type { AuditData, AuditResource } from "./pages/audit.js";
import type { DriftData, DriftPerson } from "./pages/drift.js";
import type { Outcome, Verb } from "./pages/outcome.js";
import type { QueueData } from "./pages/queue.js";
import type { UserPageData } from "./pages/user.js";
import { EvidenceReader } from "../../db/evidence.js";
import { userTimeline } from "../user-timeline.js";

export interface PageSources {
  readonly provisioning: ProvisioningDeps;
  /** Directory groups by SCIM id, to name them in the audit log. */
  readonly groups: { get(id: string): { readonly displayName: string } | undefined };
  readonly tasks: TaskStore;
  readonly drift: DriftStore;
  readonly audit: AuditLog;
  /** Destructive actions held for an admin's decision, shown on the user page. */
  readonly approvals: Pick<ApprovalStore, "activeHoldsOf">;
  /** The user's job, to say plainly on the user page when it has stopped (dead letter). */
  readonly jobs: Pick<JobQueue, "forUser">;
  /** Rules checked against the directory, for the warning on the home page. */
  readonly ruleWatch: { check(): RuleCheck };
}

/** How many closed tasks of a user the user page lists. */
const USER_TASKS = 50;
export const AUDIT_EVENTS = 100;

export function queueData(s: PageSources, viewer: Viewer, now: Date, notice?: Notice): QueueData {
  // Open first (overdue leading, then by due time), then blocked: the order to work in.
  const tasks = [...s.tasks.list({ state: "open" }), ...s.tasks.list({ state: "blocked" })];
  const ruleCheck = isAdmin(viewer) ? s.ruleWatch.check() : undefined;
  return { viewer, now, apps: s.provisioning.apps, tasks, counts: s.tasks.counts(), notice, ruleCheck };
}

export function outcomeOf(s: PageSources, verb: Verb, taskId: number): Outcome | undefined {
  const task = s.tasks.get(taskId);
  if (!task) return undefined;
  return { verb, task, next: s.tasks.openFor(task.userId, task.app), account: s.provisioning.accounts.get(task.userId, task.app) };
}

/** Undefined when the bridge knows nothing of this user (not in the directory, no account, no task). */
export function userData(s: PageSources, viewer: Viewer, now: Date, userId: string, notice?: Notice): UserPageData | undefined {
  const deps = s.provisioning;
  const plan = planUser(deps, userId);
  const tasks: Task[] = s.tasks.list({ userId, limit: 500 }).sort((a, b) => b.id - a.id);
  const { user, groups } = deps.directory.snapshot(userId);
  if (!user && plan.accounts.length === 0 && tasks.length === 0) return undefined;
  const profile = user && profileOf(user);
  const holds = s.approvals.activeHoldsOf(userId);
  const appNames = [...new Set([...deps.apps.map((a) => a.name), ...plan.accounts.map((a) => a.app)])];
  return {
    viewer,
    now,
    apps: deps.apps,
    userId,
    user: profile && { userName: profile.userName, displayName: profile.displayName, email: profile.email, active: user.active, groups: groups.map((g) => g.displayName) },
    rows: appNames.map((app) => {
      const wanted = plan.wanted.find((w) => w.app === app);
      const action = plan.actions.find((a) => a.app === app);
      const openTask = tasks.find((t) => t.app === app && (t.state === "open" || t.state === "blocked"));
      // A task the plan no longer wants is never shown as awaited next to the access it contradicts:
      // the user's pass (already queued by the change) cancels it.
      const appConfig = deps.apps.find((a) => a.name === app);
      const unwanted = openTask && appConfig && raisesTasks(appConfig) ? unwantedReason(appConfig, openTask, wanted, plan.removal) : undefined;
      return {
        app,
        account: plan.accounts.find((a) => a.app === app),
        wanted: wanted && { role: wanted.role, because: explain(wanted) },
        nextAction: action && describeAction(action),
        openTask: unwanted === undefined ? openTask : undefined,
        withdrawing: openTask && unwanted !== undefined ? { task: openTask, reason: unwanted } : undefined,
        held: action && holds.find((h) => h.app === app),
      };
    }),
    tasks: tasks.slice(0, USER_TASKS),
    deadJob: deadJobOf(s, userId),
    notice,
    timeline: userTimeline(new EvidenceReader(deps.db), userId, profile?.userName),
  };
}

function deadJobOf(s: PageSources, userId: string): { readonly id: number; readonly error: string } | undefined {
  const job = s.jobs.forUser(userId);
  return job?.dead ? { id: job.id, error: job.lastError ?? "no error recorded" } : undefined;
}

export function driftData(s: PageSources, viewer: Viewer, now: Date): DriftData {
  const items = s.drift.list();
  const deps = s.provisioning;
  const names = [...new Set([...deps.apps.map((a) => a.name), ...items.map((i) => i.app)])];
  // One directory read per user named by drift, however many items name them.
  const people = new Map<string, DriftPerson>();
  for (const userId of new Set(items.flatMap((i) => (i.userId === null ? [] : [i.userId])))) {
    const { user } = deps.directory.snapshot(userId);
    const profile = user && profileOf(user);
    people.set(userId, { userName: profile?.userName ?? null, displayName: profile?.displayName ?? null });
  }
  return {
    viewer,
    now,
    apps: deps.apps,
    people,
    report: names.map((app) => ({
      app,
      readable: deps.connectors.get(app)?.readBack !== undefined,
      lastPass: s.drift.lastPass(app),
      items: items.filter((i) => i.app === app),
    })),
  };
}

/** The `displayName` an audit snapshot carries (groups and users do), if any. */
function displayNameIn(...snapshots: unknown[]): string | undefined {
  for (const v of snapshots) {
    if (typeof v === "object" && v !== null && "displayName" in v && typeof v.displayName === "string") return v.displayName;
  }
  return undefined;
}

export function auditData(s: PageSources, viewer: Viewer, now: Date): AuditData {
  const events = s.audit.recent(AUDIT_EVENTS);
  const names = new Map<string, string | undefined>();
  const nameOf = (userId: string): string | undefined => {
    if (!names.has(userId)) {
      const { user } = s.provisioning.directory.snapshot(userId);
      names.set(userId, user && profileOf(user).displayName);
    }
    return names.get(userId);
  };
  const resources = new Map<number, AuditResource>();
  for (const e of events) {
    const id = e.resourceId;
    if (id === null) continue;
    if (e.resourceType === "User") resources.set(e.seq, { text: nameOf(id) ?? displayNameIn(e.after, e.before) ?? id, userId: id });
    else if (e.resourceType === "AppAccount" && id.includes("/")) {
      const userId = id.slice(0, id.lastIndexOf("/"));
      resources.set(e.seq, { text: `${nameOf(userId) ?? userId} in ${id.slice(id.lastIndexOf("/") + 1)}`, userId });
    } else if (e.resourceType === "Task" && /^\d+$/.test(id)) {
      const task = s.tasks.get(Number(id));
      resources.set(e.seq, { text: `task #${id}${task ? ` for ${nameOf(task.userId) ?? task.profile.displayName}` : ""}`, userId: task?.userId ?? null });
    } else if (e.resourceType === "Group") {
      const name = s.groups.get(id)?.displayName ?? displayNameIn(e.after, e.before);
      if (name !== undefined) resources.set(e.seq, { text: name, userId: null });
    }
  }
  return { viewer, now, events, resources, limit: AUDIT_EVENTS };
}
