/**
 * Bearer authentication (RFC 6750) with passport-http-bearer's strategy. The strategy is driven
 * directly, the way passport's middleware drives it (a per-request object with success/fail/error),
 * because the full passport middleware cost ~13% of a SCIM lookup's CPU in `npm run bench` and
 * brought nothing here: no sessions, one strategy.
 *
 * Only the Authorization header is given to the strategy: RFC 6750 §2.3 URI-query tokens end up
 * in proxy logs and browser history, and an IdP never sends a token in a form body.
 * Failures are answered by the caller-supplied `deny` so each API uses its own error format, and
 * reported to `onFailure` with a reason (failures.ts) and never the presented token.
 *
 * Scopes: a route names the set of scopes it accepts. SCIM accepts only `scim`; the admin API
 * authenticates `admin` and `reviewer` tokens at its door and then narrows each route with
 * `requireScope` (reviewers may work the task queue, nothing else).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Strategy as BearerStrategy } from "passport-http-bearer";
import type { Handler } from "../http/handler.js";
import type { Scope } from "../db/tokens.js";
import type { AuthFailure } from "./failures.js";
import type { Principal, TokenVerifier, Verification } from "./tokens.js";

export type Deny<Res extends ServerResponse = ServerResponse> = (res: Res, status: 401 | 403, detail: string) => void;

declare module "node:http" {
  interface IncomingMessage {
    principal?: Principal;
    /**
     * Set by bearerAuth on the requests it lets in, so a later requireScope refusal is counted
     * and logged like a refusal at the door.
     */
    reportAuthFailure?: (failure: AuthFailure) => void;
  }
}

/** The callbacks passport attaches to a strategy for one request (passport's "augmented" strategy). */
interface StrategyRun {
  success(verification: Verification): void;
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

export function bearerAuth(verifier: TokenVerifier, onFailure: (req: IncomingMessage, failure: AuthFailure) => void): <Res extends ServerResponse>(scopes: Scopes, deny: Deny<Res>) => Handler<Res> {
  // passport-http-bearer's verify callback is (err, user | false). The whole verification is passed
  // as the "user", so the strategy calls success() for every token it extracted and the refusal
  // reason survives; fail() then means only that no token could be read from the header.
  const strategy = new BearerStrategy((token, done) => done(null, verifier.check(token)));
  return <Res extends ServerResponse>(scopes: Scopes, deny: Deny<Res>): Handler<Res> => {
    const allowed = scopeSet(scopes);
    if (allowed.size === 0) throw new Error("bearerAuth: a route must accept at least one scope");
    return (req, res, next) => {
      const run = Object.create(strategy) as StrategyRun;
      run.success = (verification) => {
        if (!verification.ok) {
          onFailure(req, verification.reason === "unknown" ? { reason: "unknown" } : { reason: verification.reason, tokenName: verification.tokenName });
          deny(res, 401, "A valid bearer token is required");
          return;
        }
        const principal = verification.principal;
        if (!allowed.has(principal.scope)) {
          onFailure(req, { reason: "wrong_scope", tokenName: principal.name });
          deny(res, 403, refusal(principal));
          return;
        }
        req.principal = principal;
        req.reportAuthFailure = (failure) => onFailure(req, failure);
        next();
      };
      run.fail = () => {
        onFailure(req, { reason: req.headers.authorization === undefined ? "missing" : "malformed" });
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
export function requireScope<Res extends ServerResponse>(scopes: Scopes, deny: Deny<Res>): Handler<Res> {
  const allowed = scopeSet(scopes);
  if (allowed.size === 0) throw new Error("requireScope: a route must accept at least one scope");
  return (req, res, next) => {
    const principal = req.principal;
    if (!principal) return deny(res, 401, "A valid bearer token is required");
    if (!allowed.has(principal.scope)) {
      req.reportAuthFailure?.({ reason: "wrong_scope", tokenName: principal.name });
      return deny(res, 403, refusal(principal, `this endpoint (it takes ${[...allowed].join(" or ")})`));
    }
    next();
  };
}
