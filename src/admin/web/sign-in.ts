/**
 * Signing in and out of the review page. An admin or reviewer token is exchanged for a session:
 * the token is checked by the same TokenVerifier as the APIs, then forgotten. It is never stored,
 * logged or written back into a page; a SCIM token is refused (it is for the IdP only).
 */
import type { Request, Response } from "express";
import { z } from "zod";
import type { AuthFailures } from "../../auth/failures.js";
import type { TokenVerifier } from "../../auth/tokens.js";
import type { SessionStore } from "../../db/sessions.js";
import type { Logger } from "../../log.js";
import { csrfTokenMatches, newCsrfToken } from "./csrf.js";
import { html } from "./html.js";
import type { Notice } from "./layout.js";
import { errorPage } from "./pages/error.js";
import { signInPage } from "./pages/sign-in.js";
import { clearSessionCookie, cookieOptions, readCookie, setSessionCookie, SIGN_IN_COOKIE } from "./session.js";
import type { SendPage } from "./send-page.js";

const SIGN_IN_PATH = "/admin/sign-in";
/** Time to paste a token before the sign-in form's CSRF value runs out. */
const SIGN_IN_FORM_MS = 3_600_000;

/** Only a path on this site under /admin: `next` must never send anyone elsewhere (open redirect). */
export function safeNext(value: unknown): string {
  return typeof value === "string" && /^\/admin(?:[/?#][\w\-./?#=&%~]*)?$/.test(value) && !value.includes("//") && !value.startsWith(SIGN_IN_PATH)
    ? value
    : "/admin";
}

const signInForm = z.object({
  token: z.string().max(1024).default(""),
  csrf: z.string().max(256).optional(),
  next: z.string().max(2048).optional(),
});

export interface SignInDeps {
  readonly sessions: SessionStore;
  readonly verifier: TokenVerifier;
  readonly log: Logger;
  readonly send: SendPage;
  /** Failed sign-ins count with the API's failed authentications (/metrics). */
  readonly authFailures?: AuthFailures;
}

export function signInHandlers(d: SignInDeps) {
  /** Renders the form with a fresh double-submit value in the form and in the cookie. */
  function showForm(req: Request, res: Response, status: number, next: string, notice?: Notice): void {
    const csrfToken = newCsrfToken();
    res.cookie(SIGN_IN_COOKIE, csrfToken, cookieOptions(req, SIGN_IN_PATH, SIGN_IN_FORM_MS));
    d.send(res, status, () => signInPage({ csrfToken, next, notice }));
  }

  function refuse(req: Request, res: Response, status: 401 | 403, reason: string, next: string, message: string): void {
    d.log.warn("review page sign-in refused", { requestId: req.requestId, ip: req.ip, reason });
    showForm(req, res, status, next, { kind: "error", body: html`<p>${message}</p>` });
  }

  return {
    show(req: Request, res: Response): void {
      if (req.webSession) return res.redirect(303, safeNext(req.query["next"]));
      const notice: Notice | undefined =
        req.query["expired"] !== undefined
          ? { kind: "error", body: html`<p>Your session has ended. Sign in again, then repeat what you were doing.</p>` }
          : req.query["signed-out"] !== undefined
            ? { kind: "success", body: html`<p>You are signed out.</p>` }
            : undefined;
      showForm(req, res, 200, safeNext(req.query["next"]), notice);
    },

    submit(req: Request, res: Response): void {
      const form = signInForm.safeParse(req.body ?? {});
      const next = safeNext(form.success ? form.data.next : undefined);
      if (!form.success || !csrfTokenMatches(readCookie(req, SIGN_IN_COOKIE), form.data.csrf)) {
        d.log.warn("review page sign-in refused", { requestId: req.requestId, ip: req.ip, reason: "csrf" });
        return d.send(res, 403, () =>
          errorPage("Sign-in form expired", html`This sign-in form has expired or did not come from this site. <a href="${SIGN_IN_PATH}">Open the sign-in page again</a> and paste your token.`),
        );
      }
      const presented = form.data.token.trim();
      const checked = presented === "" ? undefined : d.verifier.check(presented);
      if (!checked?.ok) {
        d.authFailures?.record(checked ? checked.reason : "missing");
        return refuse(req, res, 401, "unknown token", next, "That token was not recognised. Check that it was pasted whole; it may also have been revoked.");
      }
      const principal = checked.principal;
      if (principal.scope === "scim" || principal.scope === "metrics") {
        d.authFailures?.record("wrong_scope");
        const forWhom = principal.scope === "scim" ? "a SCIM token, for the identity provider only" : "a metrics token, for the Prometheus scraper only";
        return refuse(req, res, 403, `${principal.scope} token`, next, `“${principal.name}” is ${forWhom}. Sign in with an admin or reviewer token.`);
      }
      const { id, session } = d.sessions.create(principal.name, principal.scope, checked.credential);
      d.log.info("review page sign-in", { requestId: req.requestId, tokenName: principal.name, scope: principal.scope });
      const { maxAge: _maxAge, ...signInCookie } = cookieOptions(req, SIGN_IN_PATH, 0);
      res.clearCookie(SIGN_IN_COOKIE, signInCookie);
      setSessionCookie(req, res, id, session);
      res.redirect(303, next);
    },

    signOut(req: Request, res: Response): void {
      if (req.webSession) d.sessions.delete(req.webSession.id);
      clearSessionCookie(req, res);
      res.redirect(303, `${SIGN_IN_PATH}?signed-out`);
    },
  };
}
