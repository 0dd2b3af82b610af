/**
 * The task queue over HTTP: list (overdue first), read, claim, complete, fail with a reason,
 * reopen, and counts per app. Admin and reviewer tokens. Every outcome goes through TaskReview,
 * the same path as the web page and the CLI, with the token as the actor (auth/actors.ts).
 */
import type { Request } from "express";
import { z } from "zod";
import { tokenActor } from "../auth/actors.js";
import type { TaskReview } from "../provisioning/task-review.js";
import type { Clock } from "../clock.js";
import { type TaskStore } from "../db/tasks.js";
import { isOverdue, type Task, type TaskState } from "../domain/task.js";
import { BridgeError } from "../errors.js";
import { raisesTasks, type AppConfig } from "../apps/app-types.js";
import { booleanParam, integerParam, noQuery, parseBody, parseQuery, pathId, textParam } from "./input.js";
import { TASK_WORK, type Routes } from "./routes.js";

export interface TasksApiOptions {
  readonly tasks: TaskStore;
  readonly review: TaskReview;
  readonly apps: readonly AppConfig[];
  readonly clock: Clock;
}

const TASK_STATES = ["open", "blocked", "done", "failed", "cancelled"] as const satisfies readonly TaskState[];

const listQuery = z.strictObject({
  app: textParam.optional(),
  state: z.enum(TASK_STATES).optional(),
  overdue: booleanParam.optional(),
  user: textParam.optional(),
  limit: integerParam(1, 500).optional(),
});

/** Claim and reopen take no body; a JSON body must be `{}`. */
const noBody = z.strictObject({});

/** A note is evidence ("sent from the portal at 10:02"); a blank one is no note. */
const completeBody = z.strictObject({
  note: z
    .string()
    .trim()
    .max(4000)
    .nullish()
    .transform((n) => (n ? n : null)),
});

const failBody = z.strictObject({
  reason: z.string({ message: "a reason is required to fail a task" }).trim().min(1, "a reason is required to fail a task").max(4000),
});

/** A task on the wire: the row, plus whether it is overdue now and its HaloPSA ticket, if it has one. */
export function taskView(t: Task, now: Date, ticketId: number | null = null) {
  return {
    id: t.id,
    app: t.app,
    userId: t.userId,
    action: t.action,
    role: t.role,
    title: t.title,
    steps: t.steps,
    profile: t.profile,
    state: t.state,
    overdue: isOverdue(t, now),
    reason: t.reason,
    assignee: t.assignee,
    claimedAt: t.claimedAt,
    dueAt: t.dueAt,
    requestId: t.requestId,
    completedBy: t.completedBy,
    completedAt: t.completedAt,
    note: t.note,
    verification: t.verification,
    verifiedAt: t.verifiedAt,
    verifiedHow: t.verifiedHow,
    supersededBy: t.supersededBy,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    ticketId,
  };
}

interface Count {
  open: number;
  blocked: number;
  overdue: number;
}

/** Open, blocked and overdue tasks per app (every manual app listed, even at zero) and in total. */
export function taskCounts(tasks: TaskStore, apps: readonly AppConfig[]): { apps: Record<string, Count>; total: Count } {
  const zero = (): Count => ({ open: 0, blocked: 0, overdue: 0 });
  const byApp: Record<string, Count> = Object.fromEntries(apps.filter(raisesTasks).map((a) => [a.name, zero()]));
  Object.assign(byApp, tasks.counts());
  const total = zero();
  for (const c of Object.values(byApp)) {
    total.open += c.open;
    total.blocked += c.blocked;
    total.overdue += c.overdue;
  }
  return { apps: byApp, total };
}

function actor(req: Request): string {
  // The router authenticates before any route runs; a missing principal is a wiring bug.
  if (!req.principal) throw new Error("task route reached without an authenticated principal");
  return tokenActor(req.principal.name);
}

export function tasksRoutes(routes: Routes, o: TasksApiOptions): void {
  const view = (t: Task, ticketIds: ReadonlyMap<number, number> = o.tasks.ticketIdsOf([t.id])) => taskView(t, o.clock.now(), ticketIds.get(t.id) ?? null);

  routes.get("/tasks", TASK_WORK, (req, res) => {
    const q = parseQuery(listQuery, req);
    const tasks = o.tasks.list({ app: q.app, state: q.state, overdue: q.overdue, userId: q.user, limit: q.limit });
    const ticketIds = o.tasks.ticketIdsOf(tasks.map((t) => t.id));
    res.json({ tasks: tasks.map((t) => view(t, ticketIds)), counts: taskCounts(o.tasks, o.apps) });
  });

  routes.get("/tasks/counts", TASK_WORK, (req, res) => {
    parseQuery(noQuery, req);
    res.json(taskCounts(o.tasks, o.apps));
  });

  routes.get("/tasks/:id", TASK_WORK, (req, res) => {
    const id = pathId(req, "task");
    parseQuery(noQuery, req);
    const task = o.tasks.get(id);
    if (!task) throw notFound(id);
    res.json(view(task));
  });

  routes.post("/tasks/:id/claim", TASK_WORK, (req, res) => {
    const id = pathId(req, "task");
    parseQuery(noQuery, req);
    parseBody(noBody, req);
    res.json(view(o.review.claim(id, actor(req))));
  });

  routes.post("/tasks/:id/complete", TASK_WORK, (req, res) => {
    const id = pathId(req, "task");
    parseQuery(noQuery, req);
    const { note } = parseBody(completeBody, req);
    res.json(view(o.review.complete(id, actor(req), note)));
  });

  routes.post("/tasks/:id/fail", TASK_WORK, (req, res) => {
    const id = pathId(req, "task");
    parseQuery(noQuery, req);
    const { reason } = parseBody(failBody, req);
    res.json(view(o.review.fail(id, actor(req), reason)));
  });

  routes.post("/tasks/:id/reopen", TASK_WORK, (req, res) => {
    const id = pathId(req, "task");
    parseQuery(noQuery, req);
    parseBody(noBody, req);
    res.json(view(o.review.reopen(id, actor(req))));
  });
}

function notFound(id: number) {
  return new BridgeError("notFound", `task ${id} not found`);
}
