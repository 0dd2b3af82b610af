/**
 * Directory users and their access: per app, the wanted role with the rule that grants it, what
 * exists in the app (the identity map), what provisioning would do next, and the manual task owed.
 * A page of users (`GET /users`, SCIM filter syntax) or one (`GET /users/{id}/access`).
 */
import { z } from "zod";
import type { Clock } from "../clock.js";
import type { ApprovalStore } from "../db/approvals.js";
import { Directory } from "../db/directory.js";
import { type TaskStore } from "../db/tasks.js";
import { isOverdue } from "../domain/task.js";
import { BridgeError } from "../errors.js";
import { describeAction } from "../provisioning/plan.js";
import { explain } from "../provisioning/rules.js";
import { planUser, type ProvisioningDeps } from "../provisioning/sync-user.js";
import { parseListQuery, runPage } from "../scim/list-query.js";
import { userResource } from "../scim/schema.js";
import { integerParam, noQuery, parseQuery } from "./input.js";
import { ADMIN_ONLY, type Routes } from "./routes.js";

export interface UsersApiOptions {
  readonly provisioning: ProvisioningDeps;
  readonly tasks: TaskStore;
  readonly approvals: ApprovalStore;
  readonly clock: Clock;
}

/** Each user on a page is planned (a few indexed reads per app), so pages stay smaller than SCIM's 1,000. */
const MAX_USERS_PER_PAGE = 200;

const listQuery = z.strictObject({
  filter: z.string().max(10_000).optional(),
  startIndex: integerParam(1, Number.MAX_SAFE_INTEGER).default(1),
  count: integerParam(0, MAX_USERS_PER_PAGE).default(50),
});

export function usersRoutes(routes: Routes, o: UsersApiOptions): void {
  const deps = o.provisioning;
  const directory = new Directory(deps.db, o.clock);

  /** A user's access per app; undefined when neither the directory nor the identity map knows the user. */
  function accessOf(userId: string, active: boolean | undefined) {
    const p = planUser(deps, userId);
    if (p.userName === null && p.accounts.length === 0) return undefined;
    const apps = [...new Set([...deps.apps.map((a) => a.name), ...p.accounts.map((a) => a.app)])];
    const owed = o.tasks.list({ userId }).filter((t) => t.state === "open" || t.state === "blocked");
    const holds = o.approvals.activeHoldsOf(userId);
    const now = o.clock.now();
    return {
      userId,
      userName: p.userName,
      active: active ?? (p.userName === null ? false : deps.directory.snapshot(userId).user?.active === true),
      apps: apps.map((app) => {
        const w = p.wanted.find((x) => x.app === app);
        const account = p.accounts.find((a) => a.app === app);
        const action = p.actions.find((a) => a.app === app);
        const task = owed.find((t) => t.app === app);
        const hold = holds.find((h) => h.app === app);
        return {
          app,
          wanted: w ? { role: w.role, because: explain(w), reasons: w.reasons } : null,
          account: account ?? null,
          pendingAction: action ? describeAction(action) : null,
          // Present only while a manual task is owed in this app.
          ...(task ? { openTask: { id: task.id, title: task.title, state: task.state, dueAt: task.dueAt, overdue: isOverdue(task, now) } } : {}),
          // Present only while the pending action is destructive and waits for (or was refused) approval.
          ...(hold ? { held: { changeSet: hold.changeId, state: hold.changeState, action: hold.action, detail: hold.detail } } : {}),
        };
      }),
    };
  }

  routes.get("/users", ADMIN_ONLY, (req, res) => {
    const q = parseQuery(listQuery, req);
    // The same filter language, parser and SQL as SCIM's GET /Users (RFC 7644 §3.4.2.2).
    const page = parseListQuery(userResource, { filter: q.filter, startIndex: q.startIndex, count: q.count });
    const { total, rows } = runPage(
      page,
      (limit, offset) => directory.users.list({ where: page.where, params: page.params, orderBy: page.orderBy, limit, offset }),
      () => directory.users.count(page.where, page.params),
    );
    const users = rows.map((u) => accessOf(u.id, u.active)).filter((u) => u !== undefined);
    res.json({ totalResults: total, startIndex: page.startIndex, itemsPerPage: users.length, users });
  });

  routes.get("/users/:id/access", ADMIN_ONLY, (req, res) => {
    const userId = String(req.params["id"]);
    parseQuery(noQuery, req);
    const access = accessOf(userId, undefined);
    if (!access) throw new BridgeError("notFound", `user ${userId} not found`);
    res.json(access);
  });
}
