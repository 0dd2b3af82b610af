/**
 * Who gets in and what they may do: reviewers work the queue but not the admin pages, SCIM and
 * unknown tokens cannot sign in, forms without the session's CSRF token are refused, a forged
 * cross-site form changes nothing, and the session cookie carries the right attributes.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { issueToken } from "../../src/auth/tokens.js";
import { systemClock } from "../../src/clock.js";
import { TokenStore } from "../../src/db/tokens.js";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { accessibilityProblems, createUser, joinGroup, launchChromium, newContext, screenshot, signIn, startWebBridge, type WebBridge } from "./browser.js";

describe("review page access", () => {
  let browser: Browser;
  let w: WebBridge;
  let reviewerToken: string;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    // Behind a reverse proxy on loopback: X-Forwarded-Proto decides whether the cookie is Secure.
    [browser, w] = await Promise.all([launchChromium(), startWebBridge({ SCIM_BRIDGE_TRUST_PROXY: "loopback" })]);
    reviewerToken = issueToken(new TokenStore(w.bridge.running.db, systemClock), "rita", "reviewer").token;
  });
  afterAll(async () => {
    await browser?.close();
    await w?.bridge.close();
  });
  beforeEach(async () => {
    problems = [];
    context = await newContext(browser, problems);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context.close();
    expect(problems).toEqual([]);
  });

  async function newTask(name: string): Promise<{ userId: string; taskId: number }> {
    const userId = await createUser(w, name, `${name.split(" ")[0]!.toLowerCase()}@example.com`);
    await joinGroup(w, userId, "Huntress Users");
    return { userId, taskId: w.bridge.running.tasks.openFor(userId, "huntress")!.id };
  }
  const sessionCookie = async () => (await context.cookies(`${w.origin}/admin`)).find((c) => c.name === "scim_bridge_session");
  /**
   * Submits the task's "Mark done" form after tampering with its CSRF field (null removes it), as
   * a forged or stale form would arrive. The page's CSP forbids fetch(), so the form is the way in.
   */
  async function submitDone(taskId: number, csrf: string | null, note: string): Promise<{ status: number; text: string }> {
    const form = page.locator(`#task-${taskId} form[action$="/done"]`);
    await form.locator("input[name=csrf]").evaluate((e: any, value: string | null) => (value === null ? e.remove() : (e.value = value)), csrf);
    await form.getByLabel("Note or evidence (optional)").fill(note);
    const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), form.getByRole("button", { name: "Mark done" }).click()]);
    await page.waitForLoadState();
    return { status: res.status(), text: (await page.locator("main").textContent()) ?? "" };
  }

  it("lets a reviewer claim and complete tasks, but not open the drift, audit or user pages (403)", async () => {
    const { userId, taskId } = await newTask("Gus Guard");
    await signIn(page, w.origin, reviewerToken);
    expect(await page.locator(".who").textContent()).toContain("Signed in as rita (reviewer)");
    expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link").allTextContents()).toEqual(["Task queue"]);
    // The user's name is shown but not linked: the user page is for admins.
    expect(await page.locator(`#task-${taskId} a[href^="/admin/users/"]`).count()).toBe(0);
    await page.locator(`#task-${taskId}`).getByRole("button", { name: "Claim" }).click();
    await page.waitForURL(/did=claim/);
    await page.locator(`#task-${taskId}`).getByLabel("Note or evidence (optional)").fill("sent by Rita");
    await page.locator(`#task-${taskId}`).getByRole("button", { name: "Mark done" }).click();
    await page.waitForURL(/did=done/);
    expect(w.bridge.running.tasks.get(taskId)).toMatchObject({ state: "done", assignee: "token:rita", completedBy: "token:rita", note: "sent by Rita" });
    expect(w.bridge.running.accounts.get(userId, "huntress")?.state).toBe("invited");

    for (const path of ["/admin/drift", "/admin/audit", `/admin/users/${userId}`]) {
      const res = await page.goto(`${w.origin}${path}`);
      expect(res?.status(), path).toBe(403);
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Admins only");
    }
    expect(await page.getByRole("alert").textContent()).toContain("You are signed in as a reviewer: you can work the task queue, but the user page is for admins.");
    await screenshot(page, "08-reviewer-forbidden");
  });

  it("refuses a SCIM token at sign-in with a clear message, and starts no session", async () => {
    await page.goto(`${w.origin}/admin/sign-in`);
    await page.getByLabel("Admin or reviewer token").fill(SCIM_TOKEN);
    const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.getByRole("button", { name: "Sign in" }).click()]);
    expect(res.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.getByRole("alert").textContent()).toBe("“env:SCIM_BRIDGE_SCIM_TOKEN” is a SCIM token, for the identity provider only. Sign in with an admin or reviewer token.");
    expect(await sessionCookie()).toBeUndefined();
    // The token is not put back into the form or anywhere in the page.
    expect(await page.getByLabel("Admin or reviewer token").inputValue()).toBe("");
    expect(await page.content()).not.toContain(SCIM_TOKEN);
    expect(w.bridge.logLines.join("\n")).not.toContain(SCIM_TOKEN);
  });

  it("refuses an unknown token with a message, not a stack trace", async () => {
    await page.goto(`${w.origin}/admin/sign-in`);
    await page.getByLabel("Admin or reviewer token").fill("scimbridge_not-a-real-token");
    const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.getByRole("button", { name: "Sign in" }).click()]);
    expect(res.status()).toBe(401);
    await page.waitForLoadState();
    expect(await page.getByRole("alert").textContent()).toBe("That token was not recognised. Check that it was pasted whole; it may also have been revoked.");
    expect(await page.content()).not.toMatch(/at \w+ \(|Error:/);
    expect(await sessionCookie()).toBeUndefined();
    await screenshot(page, "09-sign-in-refused");
  });

  it("sets the session cookie httpOnly, SameSite=Strict and Path=/admin, and keeps only its hash", async () => {
    await signIn(page, w.origin, ADMIN_TOKEN);
    const cookie = (await sessionCookie())!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/admin", secure: false });
    expect(cookie.expires - Date.now() / 1000).toBeGreaterThan(11.9 * 3600);
    expect(cookie.expires - Date.now() / 1000).toBeLessThanOrEqual(12 * 3600);
    expect(JSON.stringify(w.bridge.running.db.prepare("SELECT * FROM sessions").all())).not.toContain(cookie.value);
  });

  it("marks the cookies Secure when the request came over HTTPS through the trusted proxy", async () => {
    const form = await fetch(`${w.origin}/admin/sign-in`, { headers: { "X-Forwarded-Proto": "https" } });
    const signInCookie = form.headers.getSetCookie()[0]!;
    expect(signInCookie).toMatch(/; Secure/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const res = await fetch(`${w.origin}/admin/sign-in`, {
      method: "POST",
      redirect: "manual",
      headers: { "X-Forwarded-Proto": "https", "Content-Type": "application/x-www-form-urlencoded", Cookie: signInCookie.split(";")[0]! },
      body: new URLSearchParams({ csrf, token: ADMIN_TOKEN, next: "/admin" }),
    });
    expect(res.status).toBe(303);
    const session = res.headers.getSetCookie().find((c) => c.startsWith("scim_bridge_session="))!;
    expect(session).toMatch(/; Path=\/admin/);
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/; SameSite=Strict/);
  });

  it("refuses a sign-in form posted without its CSRF value (login CSRF)", async () => {
    const res = await fetch(`${w.origin}/admin/sign-in`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().some((c) => c.startsWith("scim_bridge_session="))).toBe(false);
    expect(await res.text()).toContain("This sign-in form has expired or did not come from this site.");
  });

  it("refuses a POST without the CSRF token, or with a wrong one (403), and changes nothing", async () => {
    const { taskId } = await newTask("Hal Host");
    // The token of another session does not work either.
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await signIn(otherPage, w.origin, ADMIN_TOKEN);
    const otherCsrf = await otherPage.locator(`#task-${taskId} input[name=csrf]`).first().inputValue();
    await other.close();

    await signIn(page, w.origin, ADMIN_TOKEN);
    const csrf = await page.locator(`#task-${taskId} input[name=csrf]`).first().inputValue();
    expect(otherCsrf).not.toBe(csrf);
    for (const [forged, note] of [[null, "no token"], ["x".repeat(43), "wrong token"], ["", "empty token"], [otherCsrf, "another session's token"]] as const) {
      const res = await submitDone(taskId, forged, note);
      expect(res.status, note).toBe(403);
      expect(res.text).toContain("This form has expired or did not come from this page.");
      if (note === "no token") await screenshot(page, "10-csrf-refused");
      await page.goto(`${w.origin}/admin`);
    }
    expect(w.bridge.running.tasks.get(taskId)?.state).toBe("open");
    // The page's own token works (303: Post/Redirect/Get back to the queue).
    expect((await submitDone(taskId, csrf, "with the token")).status).toBe(303);
    expect(w.bridge.running.tasks.get(taskId)).toMatchObject({ state: "done", note: "with the token" });
  });

  it("does nothing with a form another site submits on a signed-in person's behalf", async () => {
    const { taskId } = await newTask("Ivy Ink");
    await signIn(page, w.origin, ADMIN_TOKEN);
    const csrf = await page.locator(`#task-${taskId} input[name=csrf]`).first().inputValue();
    // Even knowing the CSRF token, the forged POST arrives without the SameSite=Strict cookie.
    await context.route("http://attacker.test/**", (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<form id="f" method="post" action="${w.origin}/admin/tasks/${taskId}/done"><input name="csrf" value="${csrf}"><input name="note" value="forged"></form><script>document.getElementById("f").submit()</script>`,
      }),
    );
    await page.goto("http://attacker.test/");
    await page.waitForURL(/\/admin\/sign-in\?expired$/);
    expect(w.bridge.running.tasks.get(taskId)?.state).toBe("open");
  });

  it("follows a link from another site to a page even though the cookie is SameSite=Strict", async () => {
    const { userId } = await newTask("Jo Jolt");
    await signIn(page, w.origin, ADMIN_TOKEN);
    await context.route("http://chat.test/**", (route) => route.fulfill({ contentType: "text/html", body: `<a href="${w.origin}/admin/users/${userId}">Jo's access</a>` }));
    await page.goto("http://chat.test/");
    await page.getByRole("link", { name: "Jo's access" }).click();
    await page.waitForURL(`${w.origin}/admin/users/${userId}`);
    await page.getByRole("heading", { level: 1, name: "Jo Jolt" }).waitFor();
  });

  it("sends a person whose session expired back to sign in, and then to where they were going", async () => {
    const { userId } = await newTask("Kit Knot");
    await signIn(page, w.origin, ADMIN_TOKEN);
    w.bridge.running.db.prepare("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z'").run();
    await page.goto(`${w.origin}/admin/users/${userId}`);
    expect(new URL(page.url()).pathname).toBe("/admin/sign-in");
    await page.getByLabel("Admin or reviewer token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${w.origin}/admin/users/${userId}`);
  });

  it("has an accessibility check that catches unlabelled fields, nameless buttons and skipped headings", async () => {
    await page.setContent(`<h1>A</h1><h3>C</h3><input id="x"><button></button><img src="x.png"><p id="d"></p><p id="d"></p>`);
    expect(await accessibilityProblems(page)).toEqual(["no lang on <html>", "heading jumps from h1 to h3", "field without a label: x", "nameless button", expect.stringMatching(/^image without alt/), "duplicate id d"]);
    problems.length = 0; // the image does not exist
  });

  it("serves pages with a strict CSP and no inline script or style", async () => {
    await newTask("Lee Link");
    await signIn(page, w.origin, ADMIN_TOKEN);
    const res = await page.goto(`${w.origin}/admin`);
    const headers = await res!.allHeaders();
    expect(headers["content-security-policy"]).toBe("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["cache-control"]).toBe("no-store");
    const markup = await res!.text();
    expect(markup).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(markup).not.toMatch(/\sstyle=|\son\w+=/);
    expect(markup).not.toMatch(/https?:\/\/(?!huntress\.io)/);
  });
});
