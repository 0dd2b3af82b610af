/**
 * Bearer authentication (RFC 6750) through passport-http-bearer, on a private Passport instance
 * (no global state). Failures are answered by the caller-supplied `deny` so each API can use its
 * own error format (SCIM errors on /scim/v2).
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { Passport } from "passport";
import { Strategy as BearerStrategy } from "passport-http-bearer";
import type { Scope } from "../db/tokens.js";
import type { Principal, TokenVerifier } from "./tokens.js";

export type Deny = (res: Response, status: 401 | 403, detail: string) => void;

declare module "express-serve-static-core" {
  interface Request {
    principal?: Principal;
  }
}

export function bearerAuth(verifier: TokenVerifier, onFailure: (req: Request) => void): (scope: Scope, deny: Deny) => RequestHandler {
  const passport = new Passport();
  passport.use(
    new BearerStrategy((token, done) => {
      const principal = verifier.verify(token);
      // passport-http-bearer's callback: (err, user | false).
      done(null, principal ?? false);
    }),
  );
  return (scope, deny) => (req: Request, res: Response, next: NextFunction) => {
    // Only the Authorization header is accepted: RFC 6750 §2.3 URI tokens end up in proxy logs and
    // browser history, and form-body tokens are never how an IdP sends one.
    if (req.get("authorization") === undefined) {
      onFailure(req);
      deny(res, 401, "A valid bearer token is required");
      return;
    }
    const authenticate = passport.authenticate("bearer", { session: false }, (err: unknown, principal: Principal | false) => {
      if (err) {
        next(err);
        return;
      }
      if (!principal) {
        onFailure(req);
        deny(res, 401, "A valid bearer token is required");
        return;
      }
      if (principal.scope !== scope) {
        deny(res, 403, `Token "${principal.name}" has scope "${principal.scope}" and cannot call this API`);
        return;
      }
      req.principal = principal;
      next();
    }) as RequestHandler;
    void authenticate(req, res, next);
  };
}
