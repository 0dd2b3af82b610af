/**
 * Directory users and their access: per app, the wanted role with the rule that grants it, what
 * exists in the app (the identity map), what provisioning would do next, and the manual task owed.
 * A page of users (`GET /users`, SCIM filter syntax), all of them as CSV (`GET /users.csv` or
 * `GET /users?format=csv`), or one (`GET /users/{id}/access`).
 */
import type { Response } from "express";
import { z } from "zod";
import type { Clock } from "../clock.js";
import type { ApprovalStore } from "../db/approvals.js";
import { Directory } from "../db/directory.js";
import { type TaskStore } from "../db/tasks.js";
import { BridgeError } from "../errors.js";
import type { ProvisioningDeps } from "../provisioning/sync-user.js";
import { integerParam, noQuery, parseQuery } from "./input.js";
import { ADMIN_ONLY, type Routes } from "./routes.js";
import { userAccess } from "./user-access.js";
import { listUsers } from "./user-list.js";
import { exportUsersCsv } from "./users-csv.js";

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
  /** csv: every matching user (startIndex and count ignored), as /users.csv answers. */
  format: z.enum(["json", "csv"]).default("json"),
});

const csvQuery = z.strictObject({ filter: z.string().max(10_000).optional() });

export function usersRoutes(routes: Routes, o: UsersApiOptions): void {
  const directory = new Directory(o.provisioning.db, o.clock);
  const sources = { provisioning: o.provisioning, tasks: o.tasks, approvals: o.approvals, clock: o.clock };

  function sendCsv(res: Response, filter: string | undefined): void {
    const csv = exportUsersCsv(sources, directory, { filter });
    // RFC 4180 §3 registers text/csv with the optional header parameter.
    res.type("text/csv; charset=utf-8; header=present").attachment("users.csv").send(csv);
  }

  routes.get("/users", ADMIN_ONLY, (req, res) => {
    const q = parseQuery(listQuery, req);
    if (q.format === "csv") return sendCsv(res, q.filter);
    const page = listUsers(directory, q);
    const users = page.rows.map((u) => userAccess(sources, u.id, u.active)).filter((u) => u !== undefined);
    res.json({ totalResults: page.total, startIndex: page.startIndex, itemsPerPage: users.length, users });
  });

  routes.get("/users.csv", ADMIN_ONLY, (req, res) => {
    sendCsv(res, parseQuery(csvQuery, req).filter);
  });

  routes.get("/users/:id/access", ADMIN_ONLY, (req, res) => {
    const userId = String(req.params["id"]);
    parseQuery(noQuery, req);
    const access = userAccess(sources, userId, undefined);
    if (!access) throw new BridgeError("notFound", `user ${userId} not found`);
    res.json(access);
  });
}
