/**
 * Bearer tokens over HTTP, admin tokens only: list (never a hash or a secret), create, rotate with
 * an overlap, revoke, each by id or by name. The same path as the CLI (auth/token-lifecycle.ts),
 * with the caller's token as the actor (auth/actors.ts) and the request id in the audit log. An answer carrying a secret is sent with
 * `Cache-Control: no-store` (RFC 9111 §5.2.2.5) so no proxy or browser cache keeps it.
 */
import type { Request, Response } from "express";
import { z } from "zod";
import { tokenActor } from "../auth/actors.js";
import { DEFAULT_OVERLAP_MS, MAX_OVERLAP_MS, TokenLifecycle, tokenName, type Caller, type Purpose } from "../auth/token-lifecycle.js";
import type { Clock } from "../clock.js";
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import { SCOPES, tokenState, type Scope, type TokenRow } from "../db/tokens.js";
import { noQuery, parseBody, parseQuery } from "./input.js";
import { ADMIN_ONLY, type Routes } from "./routes.js";

export interface TokensApiOptions {
  readonly db: Db;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

const createBody = z.strictObject({
  name: tokenName,
  scope: z.enum(SCOPES as [Scope, ...Scope[]]),
});

const rotateBody = z.strictObject({
  overlapSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_OVERLAP_MS / 1000)
    .optional(),
});

const noBody = z.strictObject({});

export function tokenView(t: TokenRow, now: Date) {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    expiresAt: t.expiresAt,
    revokedAt: t.revokedAt,
    replacedBy: t.replacedBy,
    state: tokenState(t, now),
  };
}

function caller(req: Request): Caller {
  // The router authenticates before any route runs; a missing principal is a wiring bug.
  if (!req.principal) throw new Error("token route reached without an authenticated principal");
  return { actor: tokenActor(req.principal.name), requestId: req.requestId };
}

function sendSecret(res: Response, status: number, body: object): void {
  res.setHeader("Cache-Control", "no-store");
  res.status(status).json(body);
}

export function tokensRoutes(routes: Routes, o: TokensApiOptions): void {
  const tokens = new TokenLifecycle(o.db, o.audit, o.clock);
  const view = (t: TokenRow) => tokenView(t, o.clock.now());
  // The path names a token by id or by name (percent-encoded); a name several tokens share is refused with their ids (409).
  const target = (req: Request, purpose: Purpose) => tokens.resolve(String(req.params["id"]), purpose);

  routes.get("/tokens", ADMIN_ONLY, (req, res) => {
    parseQuery(noQuery, req);
    res.json({ tokens: tokens.list().map(view) });
  });

  routes.post("/tokens", ADMIN_ONLY, (req, res) => {
    parseQuery(noQuery, req);
    const { name, scope } = parseBody(createBody, req);
    const { token, row } = tokens.create(name, scope, caller(req));
    sendSecret(res, 201, { secret: token, token: view(row) });
  });

  routes.post("/tokens/:id/rotate", ADMIN_ONLY, (req, res) => {
    parseQuery(noQuery, req);
    const { overlapSeconds } = parseBody(rotateBody, req);
    const rotated = tokens.rotate(target(req, "rotate").id, overlapSeconds === undefined ? DEFAULT_OVERLAP_MS : overlapSeconds * 1000, caller(req));
    sendSecret(res, 200, { secret: rotated.token, token: view(rotated.row), previous: view(rotated.previous), sessionsEnded: rotated.sessionsEnded });
  });

  routes.post("/tokens/:id/revoke", ADMIN_ONLY, (req, res) => {
    parseQuery(noQuery, req);
    parseBody(noBody, req);
    const { token, sessionsEnded } = tokens.revoke(target(req, "revoke").id, caller(req));
    res.json({ token: view(token), sessionsEnded });
  });
}
