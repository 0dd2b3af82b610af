/**
 * Every admin route names the scopes it accepts, so none is reachable by a scope by accident: the
 * router lets admin and reviewer tokens in at its door (ADMIN_API_SCOPES) and each route narrows
 * with requireScope. Reviewers work the task queue; everything else takes an admin token.
 */
import type { Request, Response, Router } from "express";
import { requireScope, type Scopes } from "../auth/bearer.js";
import type { Scope } from "../db/tokens.js";
import { denyProblem } from "./problem.js";

/** Express 5 forwards rejected promises to the error handler; this keeps handlers small. */
export type Handler = (req: Request, res: Response) => void | Promise<void>;

/** Every scope some admin route accepts: what the router's authentication lets through. */
export const ADMIN_API_SCOPES: readonly Scope[] = ["admin", "reviewer"];
/** Jobs, reconcile, drift, users, seats, audit. */
export const ADMIN_ONLY: readonly Scope[] = ["admin"];
/** The task queue: list, read, claim, complete, fail, reopen. */
export const TASK_WORK: readonly Scope[] = ["admin", "reviewer"];

export interface Routes {
  get(path: string, scopes: Scopes, handler: Handler): void;
  post(path: string, scopes: Scopes, handler: Handler): void;
}

export function routesOn(router: Router): Routes {
  return {
    get: (path, scopes, handler) => void router.get(path, requireScope(scopes, denyProblem), handler),
    post: (path, scopes, handler) => void router.post(path, requireScope(scopes, denyProblem), handler),
  };
}
