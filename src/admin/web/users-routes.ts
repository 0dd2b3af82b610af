/**
 * GET /admin/users (the access matrix page) and GET /admin/users.csv (the same list, every page,
 * as CSV), with the admin API's list code (admin/user-list.ts) and its SCIM filter machinery.
 */
import type { Request, RequestHandler, Response, Router } from "express";
import { z } from "zod";
import type { Clock } from "../../clock.js";
import type { ApprovalStore } from "../../db/approvals.js";
import { Directory } from "../../db/directory.js";
import type { TaskStore } from "../../db/tasks.js";
import type { UserCondition } from "../../db/user-conditions.js";
import { isBridgeError } from "../../errors.js";
import type { ProvisioningDeps } from "../../provisioning/sync-user.js";
import { describeUsers, listUsers, type UserListQuery } from "../user-list.js";
import { exportUsersCsv } from "../users-csv.js";
import { errorPage } from "./pages/error.js";
import { usersPage, type UsersFilter } from "./pages/users.js";
import { sendPage } from "./send-page.js";
import { viewerOf } from "./session.js";

export interface UsersWebOptions {
  readonly provisioning: ProvisioningDeps;
  readonly tasks: TaskStore;
  readonly approvals: ApprovalStore;
  readonly clock: Clock;
}

/** Each user on a page is planned per app; 50 keep a page quick to build and to read. */
const PAGE_SIZE = 50;

const flag = z.literal("1").optional().transform((v) => v === "1");
const filterForm = z.object({
  q: z.string().max(200, "a search has at most 200 characters").default(""),
  active: z.enum(["", "yes", "no"], { message: "active is yes, no or empty" }).default(""),
  task: flag,
  dead: flag,
  drift: flag,
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
});

function queryOf(f: UsersFilter): Omit<UserListQuery, "startIndex" | "count"> {
  const conditions: UserCondition[] = [];
  if (f.task) conditions.push("openTask");
  if (f.dead) conditions.push("deadJob");
  if (f.drift) conditions.push("drift");
  return { search: f.q, active: f.active === "" ? undefined : f.active === "yes", conditions, sortBy: "userName" };
}

export function usersWebRoutes(router: Router, adminOnly: (what: string) => RequestHandler, o: UsersWebOptions): void {
  const directory = new Directory(o.provisioning.db, o.clock);
  const sources = { provisioning: o.provisioning, tasks: o.tasks, approvals: o.approvals, clock: o.clock };

  /** The filter, or undefined after answering 400 with what was wrong. */
  function filterOf(req: Request, res: Response): UsersFilter | undefined {
    const parsed = filterForm.safeParse(req.query);
    if (parsed.success) return parsed.data;
    sendPage(res, 400, () => errorPage("Search refused", parsed.error.issues.map((i) => i.message).join("; "), viewerOf(req)));
    return undefined;
  }

  /** A search the SCIM filter parser refuses (it cannot, for text it quotes itself) is still a calm 400. */
  function refused(req: Request, res: Response, e: unknown): void {
    if (!isBridgeError(e)) throw e;
    sendPage(res, 400, () => errorPage("Search refused", e.message, viewerOf(req)));
  }

  router.get("/users", adminOnly("the user list"), (req, res) => {
    const filter = filterOf(req, res);
    if (!filter) return;
    try {
      const page = listUsers(directory, { ...queryOf(filter), startIndex: (filter.page - 1) * PAGE_SIZE + 1, count: PAGE_SIZE });
      const users = describeUsers(sources, page.rows);
      sendPage(res, 200, () => usersPage({ viewer: viewerOf(req), apps: o.provisioning.apps, filter, users, total: page.total, pageSize: PAGE_SIZE }));
    } catch (e: unknown) {
      refused(req, res, e);
    }
  });

  router.get("/users.csv", adminOnly("the user list"), (req, res) => {
    const filter = filterOf(req, res);
    if (!filter) return;
    try {
      const csv = exportUsersCsv(sources, directory, queryOf(filter));
      res.type("text/csv; charset=utf-8; header=present").attachment("users.csv").send(csv);
    } catch (e: unknown) {
      refused(req, res, e);
    }
  });
}
