/**
 * Removals of access, derived from the audit log (docs/offboarding-evidence.md): per user and app,
 * from the IdP request that took the access away to the moment it was actually gone.
 *
 * A removal opens at the first event that means "this account must go" (a deactivate carried out
 * or attempted, a removal task raised, a removal held for approval) and starts at the time of the
 * request that caused it: the SCIM write (user deactivated or deleted, group membership removed)
 * or the rules change. It closes when the access is gone: the deactivation the app's API confirmed,
 * or the removal task done (its read-back verification time when the task has one). It is
 * withdrawn, and never counted, when the access is wanted again first: the removal task cancelled
 * or an invitation raised in its place, an account created or reactivated (the "mistake undone").
 * A removal task reopened after it was done (reading the app back found the account still there)
 * opens its removal again. A removal still open is someone waiting.
 */
import type { AuditRow } from "../db/audit.js";
import type { Db } from "../db/database.js";
import { EvidenceReader, type EvidenceTask } from "../db/evidence.js";

/** Task actions that take access away (src/domain/task.ts). */
const REMOVAL_TASKS: ReadonlySet<string> = new Set(["remove", "delete", "disable"]);
/** Identity map states in which the person can no longer sign in. */
const GONE: ReadonlySet<string> = new Set(["disabled", "removed"]);

export interface Removal {
  readonly userId: string;
  readonly app: string;
  /** The request that took the access away, and when it arrived. */
  readonly requestId: string | null;
  readonly requestedAt: string;
  /** When the access was gone; null while still waiting. */
  readonly goneAt: string | null;
  /** Who removed it: the actor of the closing event (`worker` for an app's API, a reviewer's token for a task). */
  readonly goneBy: string | null;
  /** How it is known to be gone: the app's API answered, a task was marked done, or read back after it. */
  readonly how: "api" | "task" | "task-verified" | "reconciler" | null;
  readonly seconds: number | null;
  /** While waiting: what on (an open task, an approval, a failing job). */
  readonly waitingOn: WaitingOn | null;
}

export type WaitingOn =
  | { readonly kind: "task"; readonly taskId: number; readonly title: string; readonly state: string }
  | { readonly kind: "approval" }
  | { readonly kind: "retrying-job"; readonly error: string };

interface Open {
  requestId: string | null;
  /** The first event of the removal: its start when the request itself is not in the log. */
  openedAt: string;
  waitingOn: WaitingOn | null;
}

const field = (value: unknown, name: string): unknown => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined);

/** The user and app an AppAccount event is about (`userId/app`; the app name has no slash). */
function accountOf(resourceId: string | null): { userId: string; app: string } | undefined {
  const cut = resourceId?.lastIndexOf("/") ?? -1;
  return cut > 0 ? { userId: resourceId!.slice(0, cut), app: resourceId!.slice(cut + 1) } : undefined;
}

/** Every removal the log records, oldest request first. */
export function removals(reader: Pick<EvidenceReader, "removalEvents" | "tasks" | "requestTimes">): Removal[] {
  const events = reader.removalEvents();
  const taskIds = events.map((e) => (e.resourceType === "Task" ? Number(e.resourceId) : Number(field(e.after, "taskId")))).filter((id) => Number.isInteger(id));
  const tasks = reader.tasks(taskIds);
  const open = new Map<string, Open>();
  const closed: ((Omit<Removal, "requestedAt" | "seconds"> & { openedAt: string }) | undefined)[] = [];
  /** Where in `closed` each removal task's completion is, should a read-back reopen it. */
  const closedBy = new Map<number, number>();

  const close = (key: string, e: AuditRow, how: NonNullable<Removal["how"]>, goneAt: string) => {
    const o = open.get(key);
    if (!o) return;
    open.delete(key);
    const [userId, app] = splitKey(key);
    closed.push({ userId, app, requestId: o.requestId, openedAt: o.openedAt, goneAt, goneBy: e.actor, how, waitingOn: null });
  };
  const begin = (key: string, e: AuditRow, waitingOn: WaitingOn | null) => {
    const o = open.get(key);
    if (o) o.waitingOn = waitingOn ?? o.waitingOn;
    else open.set(key, { requestId: e.requestId, openedAt: e.at, waitingOn });
  };

  for (const e of events) {
    const task = taskOf(e, tasks);
    const account = e.resourceType === "Task" ? task && { userId: task.userId, app: task.app } : accountOf(e.resourceId);
    if (!account) continue;
    const key = `${account.userId}/${account.app}`;
    const state = field(e.after, "state");
    switch (e.action) {
      case "provision.deactivate":
        begin(key, e, null);
        if (typeof state === "string" && GONE.has(state)) close(key, e, "api", e.at);
        break;
      case "provision.discard":
      case "drift.deactivate":
        close(key, e, e.action === "drift.deactivate" ? "reconciler" : "api", e.at);
        break;
      case "provision.deactivate.failed":
      case "provision.deactivate.conflict":
        begin(key, e, { kind: "retrying-job", error: String(field(e.after, "error") ?? "") });
        break;
      case "approval.held":
        begin(key, e, { kind: "approval" });
        break;
      case "task.raised":
      case "task.blocked":
        if (!task) break;
        if (REMOVAL_TASKS.has(task.action)) begin(key, e, { kind: "task", taskId: task.id, title: task.title, state: task.state });
        else open.delete(key); // an invitation or re-enable in its place: wanted again
        break;
      case "task.cancelled":
        if (task && REMOVAL_TASKS.has(task.action)) open.delete(key);
        break;
      case "task.done":
        if (task && REMOVAL_TASKS.has(task.action) && open.has(key)) {
          closedBy.set(task.id, closed.length);
          close(key, e, task.verifiedAt ? "task-verified" : "task", task.verifiedAt ?? e.at);
        }
        break;
      default:
        if (e.action.startsWith("task.reopen")) {
          // Reading the app back found the account still there (or a person reopened the task): not gone after all.
          const at = task ? closedBy.get(task.id) : undefined;
          const undone = at === undefined ? undefined : closed[at];
          if (task && undone) {
            closed[at!] = undefined;
            closedBy.delete(task.id);
            open.set(key, { requestId: undone.requestId, openedAt: undone.openedAt, waitingOn: { kind: "task", taskId: task.id, title: task.title, state: task.state } });
          }
        } else if (typeof state === "string" && !GONE.has(state)) open.delete(key); // provision.create, provision.reactivate: wanted again
    }
  }
  const all = [
    ...closed.filter((c) => c !== undefined),
    ...[...open].map(([key, o]) => {
      const [userId, app] = splitKey(key);
      return { userId, app, requestId: o.requestId, openedAt: o.openedAt, goneAt: null, goneBy: null, how: null, waitingOn: o.waitingOn ?? { kind: "retrying-job" as const, error: "queued" } };
    }),
  ];
  const times = reader.requestTimes(all.flatMap((r) => (r.requestId === null ? [] : [r.requestId])));
  return all
    .map((r) => {
      // A request the log does not know (an old or a CLI one) starts at the first event it caused.
      const { openedAt, ...removal } = r;
      const requestedAt = (r.requestId !== null ? times.get(r.requestId) : undefined) ?? openedAt;
      const seconds = r.goneAt === null ? null : Math.max(0, (Date.parse(r.goneAt) - Date.parse(requestedAt)) / 1000);
      return { ...removal, requestedAt, seconds };
    })
    .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}

function taskOf(e: AuditRow, tasks: ReadonlyMap<number, EvidenceTask>): EvidenceTask | undefined {
  const id = e.resourceType === "Task" ? Number(e.resourceId) : Number(field(e.after, "taskId"));
  return tasks.get(id);
}

function splitKey(key: string): [string, string] {
  const cut = key.lastIndexOf("/");
  return [key.slice(0, cut), key.slice(cut + 1)];
}

/** Completed removals of one app as a histogram: how many took at most each bound, their total and count. */
export interface RemovalHistogram {
  /** Per bound of `buckets` (seconds), how many removals took at most that long (cumulative). */
  readonly cumulative: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/**
 * How long each completed removal took, per app, as histogram buckets: what the Prometheus metric
 * shows. Worked out from the audit log at most once per `maxAgeMs` of real time (a minute by
 * default): the work grows with the log, and a scraper polling every few seconds must not keep a
 * core busy. Only the buckets are kept between reads, never a list of every removal ever made,
 * so the memory it holds does not grow with history.
 */
export function removalHistograms(
  db: Db,
  buckets: readonly number[],
  maxAgeMs = 60_000,
  now: () => number = () => performance.now(),
): { byApp(): ReadonlyMap<string, RemovalHistogram> } {
  const reader = new EvidenceReader(db);
  let last: { at: number; byApp: ReadonlyMap<string, RemovalHistogram> } | undefined;
  const build = (): Map<string, RemovalHistogram> => {
    const byApp = new Map<string, { cumulative: number[]; sum: number; count: number }>();
    for (const r of removals(reader)) {
      if (r.seconds === null) continue;
      let h = byApp.get(r.app);
      if (!h) byApp.set(r.app, (h = { cumulative: buckets.map(() => 0), sum: 0, count: 0 }));
      buckets.forEach((bound, i) => {
        if (r.seconds! <= bound) h.cumulative[i]!++;
      });
      h.sum += r.seconds;
      h.count++;
    }
    return byApp;
  };
  return {
    byApp: () => {
      if (last === undefined || now() - last.at >= maxAgeMs) last = { at: now(), byApp: build() };
      return last.byApp;
    },
  };
}
