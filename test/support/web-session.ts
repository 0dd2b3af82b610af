/**
 * Signing in to the review page over plain HTTP, as a browser does it (GET the form for its CSRF
 * value and cookie, POST the token), for tests that need a real session without Chromium.
 */
import { expect } from "vitest";
import { SESSION_COOKIE } from "../../src/admin/web/session.js";

/** Signs in with `token`; returns the session cookie's value. */
export async function signInOverHttp(origin: string, token: string): Promise<string> {
  const form = await fetch(`${origin}/admin/sign-in`);
  const signInCookie = form.headers.getSetCookie()[0]!.split(";")[0]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await fetch(`${origin}/admin/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: signInCookie },
    body: new URLSearchParams({ csrf, token, next: "/admin" }),
  });
  expect(res.status, await res.text()).toBe(303);
  const session = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
  return session.slice(SESSION_COOKIE.length + 1).split(";")[0]!;
}

/** GET /admin with the session cookie: 200 while the session lives, a redirect to sign in once it ended. */
export async function reviewPageStatus(origin: string, sessionId: string): Promise<number> {
  const res = await fetch(`${origin}/admin`, { headers: { Cookie: `${SESSION_COOKIE}=${sessionId}` }, redirect: "manual" });
  await res.arrayBuffer();
  return res.status;
}
