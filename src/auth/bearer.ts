/**
 * Bearer authentication (RFC 6750) with passport-http-bearer's strategy. The strategy is driven
 * directly, the way passport's middleware drives it (a per-request object with success/fail/error),
 * because the full passport middleware cost ~13% of a SCIM lookup's CPU in `npm run bench` and
 * brought nothing here: no sessions, one strategy.
 *
 * Only the Authorization header is given to the strategy: RFC 6750 §2.3 URI-query tokens end up
 * in proxy logs and browser history, and an IdP never sends a token in a form body.
 * Failures are answered by the caller-supplied `deny` so each API uses its own error format.
 *
 * Scopes: a route names the set of scopes it accepts. SCIM accepts only `scim`; the admin API
 * authenticates `admin` and `reviewer` tokens at its door and then narrows each route with
 * `requireScope` (reviewers may work the task queue, nothing else).
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { Strategy as BearerStrategy } from "passport-http-bearer";
import type { Scope } from "../db/tokens.js";
import type { Principal, TokenVerifier } from "./tokens.js";

export type Deny = (res: Response, status: 401 | 403, detail: string) => void;

declare module "express-serve-static-core" {
  interface Request {
    principal?: Principal;
  }
}

/** The callbacks passport attaches to a strategy for one request (passport's "augmented" strategy). */
interface StrategyRun {
  success(principal: Principal): void;
  fail(): void;
  error(err: unknown): void;
  authenticate(req: { headers: { authorization?: string | undefined } }): void;
}

/** One scope or the set of scopes a route accepts. */
export type Scopes = Scope | readonly Scope[];

const scopeSet = (scopes: Scopes): ReadonlySet<Scope> => new Set<Scope>(typeof scopes === "string" ? [scopes] : scopes);

function refusal(principal: Principal, what = "this API"): string {
  return `Token "${principal.name}" has scope "${principal.scope}" and cannot call ${what}`;
}

export function bearerAuth(verifier: TokenVerifier, onFailure: (req: Request) => void): (scopes: Scopes, deny: Deny) => RequestHandler {
  const strategy = new BearerStrategy((token, done) => {
    // passport-http-bearer's verify callback: (err, user | false).
    done(null, verifier.verify(token) ?? false);
  });
  return (scopes, deny) => {
    const allowed = scopeSet(scopes);
    if (allowed.size === 0) throw new Error("bearerAuth: a route must accept at least one scope");
    return (req: Request, res: Response, next: NextFunction) => {
      const run = Object.create(strategy) as StrategyRun;
      run.success = (principal) => {
        if (!allowed.has(principal.scope)) {
          deny(res, 403, refusal(principal));
          return;
        }
        req.principal = principal;
        next();
      };
      run.fail = () => {
        onFailure(req);
        deny(res, 401, "A valid bearer token is required");
      };
      run.error = (err) => next(err);
      run.authenticate({ headers: { authorization: req.headers.authorization } });
    };
  };
}

/**
 * Narrows an authenticated route to `scopes`. Placed after `bearerAuth`; without a principal (the
 * route was mounted without authentication, a wiring mistake) it refuses with 401 rather than
 * letting the request through.
 */
export function requireScope(scopes: Scopes, deny: Deny): RequestHandler {
  const allowed = scopeSet(scopes);
  if (allowed.size === 0) throw new Error("requireScope: a route must accept at least one scope");
  return (req: Request, res: Response, next: NextFunction) => {
    const principal = req.principal;
    if (!principal) return deny(res, 401, "A valid bearer token is required");
    if (!allowed.has(principal.scope)) return deny(res, 403, refusal(principal, `this endpoint (it takes ${[...allowed].join(" or ")})`));
    next();
  };
}
