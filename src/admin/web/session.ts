/**
 * The review page's session cookie. httpOnly (no script can read it), SameSite=Strict (browsers do
 * not send it with cross-site requests, a first layer against CSRF), Path=/admin, and Secure when
 * the request came over HTTPS, as express sees it with "trust proxy" (X-Forwarded-Proto from the
 * reverse proxy). Plain HTTP stays usable for http://localhost:8080/admin.
 */
import type { CookieOptions, Request, RequestHandler, Response } from "express";
import { tokenActor } from "../../auth/actors.js";
import type { Session, SessionStore } from "../../db/sessions.js";
import type { Viewer } from "./layout.js";

export const SESSION_COOKIE = "scim_bridge_session";
/** The sign-in form's double-submit CSRF value (csrf.ts). */
export const SIGN_IN_COOKIE = "scim_bridge_sign_in";

declare module "express-serve-static-core" {
  interface Request {
    /** The review-page session, when the cookie names a live one. */
    webSession?: { readonly id: string; readonly session: Session };
  }
}

/** One cookie from the Cookie header (RFC 6265 §5.4); values we set are base64url, so no decoding. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function cookieOptions(req: Request, path: string, maxAgeMs: number): CookieOptions {
  return { httpOnly: true, sameSite: "strict", secure: req.secure, path, maxAge: maxAgeMs };
}

export function setSessionCookie(req: Request, res: Response, id: string, session: Session): void {
  res.cookie(SESSION_COOKIE, id, cookieOptions(req, "/admin", Date.parse(session.expiresAt) - Date.parse(session.createdAt)));
}

export function clearSessionCookie(req: Request, res: Response): void {
  const { maxAge: _maxAge, ...options } = cookieOptions(req, "/admin", 0);
  res.clearCookie(SESSION_COOKIE, options);
}

/**
 * Attaches the live session named by the cookie, if any, and the principal the access log names.
 * `currentHash` is the credential check (TokenVerifier.currentHash): a session whose token was
 * revoked, expired or changed in the environment since sign-in is ended here, on its next request.
 */
export function loadSession(sessions: SessionStore, currentHash: (s: Session) => string | undefined): RequestHandler {
  return (req, _res, next) => {
    const id = readCookie(req, SESSION_COOKIE);
    const session = id === undefined || id === "" ? undefined : sessions.find(id, currentHash);
    if (id !== undefined && session) {
      req.webSession = { id, session };
      req.principal = { name: session.tokenName, scope: session.scope };
    }
    next();
  };
}

export function viewerOf(req: Request): Viewer {
  const s = req.webSession;
  if (!s) throw new Error("viewerOf: no session (the route must sit behind the session gate)");
  return { name: s.session.tokenName, actor: tokenActor(s.session.tokenName), scope: s.session.scope, csrfToken: s.session.csrfToken };
}
