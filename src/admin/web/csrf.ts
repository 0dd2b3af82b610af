/**
 * CSRF protection for the review page (OWASP CSRF cheat sheet).
 *
 * - Signed in: the synchronizer token pattern. Each session has a random token, stored with the
 *   session server-side; every form carries it in a hidden `csrf` field and every POST is checked
 *   against it. A forged cross-site form cannot read the page, so it cannot know the token.
 * - The sign-in form has no session yet: a double-submit cookie. GET /admin/sign-in sets a random
 *   value in an httpOnly, SameSite=Strict cookie and in the form; the POST must bring both, equal.
 *   This stops login CSRF (being signed in, unknowingly, as someone else).
 *
 * The SameSite=Strict session cookie is a second layer: browsers do not send it on cross-site POSTs.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** Name of the hidden form field every POST form carries. */
export const CSRF_FIELD = "csrf";

export function newCsrfToken(): string {
  return randomBytes(32).toString("base64url");
}

/** True when `presented` (straight from a form body: anything) equals `expected`, in constant time. */
export function csrfTokenMatches(expected: string | undefined, presented: unknown): boolean {
  if (typeof expected !== "string" || expected === "" || typeof presented !== "string") return false;
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(presented, "utf8");
  // timingSafeEqual needs equal lengths; the length of a random token is no secret.
  return a.length === b.length && timingSafeEqual(a, b);
}
