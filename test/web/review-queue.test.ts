/**
 * The review page in a real browser, signed in with the admin token, against a real bridge that
 * receives SCIM requests like an IdP sends them: a task appears, a person completes it, the
 * identity map moves, the follow-up appears; failing needs a reason; keyboard and clipboard work.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { createUser, joinGroup, launchChromium, leaveGroup, newContext, screenshot, signIn, startWebBridge, type WebBridge } from "./browser.js";

describe("review page (admin)", () => {
  let browser: Browser;
  let w: WebBridge;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    [browser, w] = await Promise.all([launchChromium(), startWebBridge()]);
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
    // No CSP violation, no script error on any page a test visited.
    expect(problems).toEqual([]);
  });

  const task = (id: number) => page.locator(`#task-${id}`);
  const openTask = (userId: string) => w.bridge.running.tasks.openFor(userId, "huntress");

  it("shows the sign-in page with a labelled token field, and signs in with the admin token", async () => {
    await page.goto(`${w.origin}/admin`);
    expect(await page.getAttribute("html", "lang")).toBe("en");
    expect(await page.title()).toBe("Sign in · scim-bridge");
    await screenshot(page, "01-sign-in");
    const field = page.getByLabel("Admin or reviewer token");
    expect(await field.getAttribute("type")).toBe("password");
    await field.fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${w.origin}/admin`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Task queue");
    expect(await page.locator(".who").textContent()).toContain("env:SCIM_BRIDGE_ADMIN_TOKEN");
    // The token is exchanged, not kept: nowhere in the page, the session table or the log.
    expect(await page.content()).not.toContain(ADMIN_TOKEN);
    expect(JSON.stringify(w.bridge.running.db.prepare("SELECT * FROM sessions").all())).not.toContain(ADMIN_TOKEN);
    expect(w.bridge.logLines.join("\n")).not.toContain(ADMIN_TOKEN);
  });

  it("shows a task raised by a SCIM request with its steps, copy buttons, due time and forms", async () => {
    const ada = await createUser(w, "Ada Lovelace", "ada@example.com");
    await joinGroup(w, ada, "Huntress Admins");
    const t = openTask(ada)!;
    await signIn(page, w.origin, ADMIN_TOKEN);
    const card = task(t.id);
    expect(await card.getByRole("heading", { level: 3 }).textContent()).toBe("Invite Ada Lovelace to Huntress as Account Admin");
    expect(await card.locator("ol.steps li").allTextContents()).toEqual([
      "Sign in to https://huntress.io as an Account Admin (only Account Admins manage users).",
      "Open Settings › Users and choose Invite User.",
      "Email: ada@example.com",
      "Role: Account Admin",
      "Choose Send Invite, then mark this task done.",
    ]);
    expect(await card.getByRole("button", { name: "Copy email ada@example.com" }).getAttribute("data-copy")).toBe("ada@example.com");
    expect(await card.getByRole("button", { name: "Copy role Account Admin" }).getAttribute("data-copy")).toBe("Account Admin");
    expect(await card.locator("time").textContent()).toMatch(/^due in 2[34] h \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
    expect(await card.getByLabel("Note or evidence (optional)").count()).toBe(1);
    expect(await card.getByLabel("Why it failed (required)").count()).toBe(1);
    expect(await page.locator("#app-huntress + p").textContent()).toBe("1 open · 0 overdue · 0 blocked");
    await screenshot(page, "02-queue");
  });

  it("puts overdue work first with a badge, and says why a task is blocked", async () => {
    const kim = await createUser(w, "Kim Key", "kim@example.com");
    await joinGroup(w, kim, "Portal Users"); // the portal's tasks are due after 0.36 s
    const portalTask = w.bridge.running.tasks.openFor(kim, "portal")!;
    // Lou becomes the only confirmed Account Admin, then leaves the group: removing Lou is blocked.
    const lou = await createUser(w, "Lou Last", "lou@example.com");
    await joinGroup(w, lou, "Huntress Admins");
    w.bridge.running.review.complete(openTask(lou)!.id, "ops", null);
    w.bridge.running.review.complete(openTask(lou)!.id, "ops", null);
    await w.bridge.running.worker.drain();
    await leaveGroup(w, lou, "Huntress Admins");
    const blocked = openTask(lou)!;
    expect(blocked.state).toBe("blocked");
    await new Promise((r) => setTimeout(r, 400));

    await signIn(page, w.origin, ADMIN_TOKEN);
    expect(await page.getByRole("heading", { level: 2 }).allTextContents()).toEqual(["portal", "Huntress"]);
    expect(await page.locator("#app-portal + p").textContent()).toBe("1 open · 1 overdue · 0 blocked");
    expect(await page.locator("#app-huntress + p").textContent()).toBe("1 open · 0 overdue · 1 blocked");
    expect(await task(portalTask.id).locator(".badge.overdue").textContent()).toBe("Overdue");
    expect(await task(portalTask.id).locator("time").textContent()).toMatch(/^overdue by less than a minute \(/);
    const card = task(blocked.id);
    expect(await card.locator(".badge.blocked").textContent()).toBe("Blocked");
    expect(await card.locator(".blocked-reason").textContent()).toMatch(/^Blocked: Lou Last is the last Account Admin of Huntress/);
    // A blocked task cannot be done or failed until the guard lets it through.
    expect(await card.locator("form").count()).toBe(0);
    await screenshot(page, "02b-queue-overdue-blocked");
    // On a phone the forms stack under the task.
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "02c-queue-phone", false);
  });

  it("completes a task with a note: the result shows, the follow-up confirm task appears, the user page says invited", async () => {
    const bob = await createUser(w, "Bob Byte", "bob@example.com");
    await joinGroup(w, bob, "Huntress Users");
    const invite = openTask(bob)!;
    await signIn(page, w.origin, ADMIN_TOKEN);
    await task(invite.id).getByLabel("Note or evidence (optional)").fill("Invite sent 10:02, ticket #4711");
    await task(invite.id).getByRole("button", { name: "Mark done" }).click();
    await page.waitForURL(/\/admin\?did=done&task=\d+#outcome$/);

    const outcome = page.locator("#outcome");
    expect(await outcome.getAttribute("role")).toBe("status");
    const text = await outcome.textContent();
    expect(text).toContain(`Done: “Invite Bob Byte to Huntress as Standard User” (task #${invite.id}), recorded by env:SCIM_BRIDGE_ADMIN_TOKEN with the note “Invite sent 10:02, ticket #4711”.`);
    expect(text).toContain("Now done (unverified): this app cannot be read back");
    expect(text).toContain("Huntress now shows bob@example.com as invited.");
    const confirm = openTask(bob)!;
    expect(confirm).toMatchObject({ action: "confirm", title: "Confirm Bob Byte accepted the Huntress invitation" });
    expect(text).toContain("Next: Confirm Bob Byte accepted the Huntress invitation is in the queue.");
    // The list is fresh: the done task is gone, its follow-up is there.
    expect(await task(invite.id).count()).toBe(0);
    expect(await task(confirm.id).getByRole("heading", { level: 3 }).textContent()).toBe("Confirm Bob Byte accepted the Huntress invitation");
    await screenshot(page, "03-queue-after-done");
    expect(w.bridge.running.tasks.get(invite.id)).toMatchObject({ state: "done", note: "Invite sent 10:02, ticket #4711", completedBy: "env:SCIM_BRIDGE_ADMIN_TOKEN" });

    await task(confirm.id).getByRole("link", { name: "Bob Byte" }).click();
    await page.waitForURL(`${w.origin}/admin/users/${bob}`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Bob Byte");
    const huntress = page.getByRole("row", { name: /^Huntress/ });
    const cells = await huntress.locator("td").allTextContents();
    expect(cells[0]).toMatch(/^invited\s+as Standard User/);
    expect(cells[1]).toContain("Standard User");
    expect(cells[1]).toContain("standard because member of 'Huntress Users' (rules[3])");
    expect(cells[2]).toContain(`Waiting for task #${confirm.id}: Confirm Bob Byte accepted the Huntress invitation`);
    const halo = await page.getByRole("row", { name: /^HaloPSA/ }).locator("td").allTextContents();
    expect(halo[0]).toBe("no account");
    expect(halo[1]).toBe("no access (no rule grants it)");
    const rows = await page.locator("table").nth(1).locator("tbody tr").allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain("Confirm Bob Byte accepted the Huntress invitation");
    expect(rows[0]).toContain("open");
    expect(rows[1]).toContain("done");
    expect(rows[1]).toContain("Invite sent 10:02, ticket #4711");
    await screenshot(page, "04-user");
  });

  it("refuses to fail a task without a reason, and fails it with one", async () => {
    const cy = await createUser(w, "Cy Cipher", "cy@example.com");
    await joinGroup(w, cy, "Huntress Users");
    const t = openTask(cy)!;
    await signIn(page, w.origin, ADMIN_TOKEN);
    const fail = task(t.id).getByRole("button", { name: "Mark failed" });
    // The browser will not send it: the reason field is required.
    await fail.click();
    expect(page.url()).toBe(`${w.origin}/admin`);
    expect(await task(t.id).getByLabel("Why it failed (required)").evaluate((e: any) => e.validity.valueMissing)).toBe(true);
    // Nor will the server accept it when sent anyway (a blank reason, as a script could send).
    await task(t.id).getByLabel("Why it failed (required)").fill("   ");
    await fail.click();
    await page.waitForLoadState();
    const alert = page.getByRole("alert");
    expect(await alert.textContent()).toContain(`Task #${t.id} was not changed: a reason is required to fail a task`);
    expect(w.bridge.running.tasks.get(t.id)?.state).toBe("open");
    await screenshot(page, "05-fail-without-reason");

    await task(t.id).getByLabel("Why it failed (required)").fill("Huntress says the seat limit is reached");
    await task(t.id).getByRole("button", { name: "Mark failed" }).click();
    await page.waitForURL(/did=fail/);
    expect(await page.locator("#outcome").textContent()).toContain("Marked failed: “Invite Cy Cipher to Huntress as Standard User”");
    expect(w.bridge.running.tasks.get(t.id)).toMatchObject({ state: "failed", reason: "Huntress says the seat limit is reached" });
    // It can be reopened right from the result.
    await page.getByRole("button", { name: "Reopen it" }).click();
    await page.waitForURL(/did=reopen/);
    expect(w.bridge.running.tasks.get(t.id)?.state).toBe("open");
    expect(await task(t.id).count()).toBe(1);
  });

  it("reopens a failed task from the user page", async () => {
    const ned = await createUser(w, "Ned Node", "ned@example.com");
    await joinGroup(w, ned, "Huntress Users");
    const t = openTask(ned)!;
    w.bridge.running.review.fail(t.id, "ops", "Huntress was down");
    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.goto(`${w.origin}/admin/users/${ned}`);
    const row = page.getByRole("row", { name: new RegExp(`^#${t.id} `) });
    expect(await row.textContent()).toContain("Huntress was down");
    await row.getByRole("button", { name: `Reopen task #${t.id}` }).click();
    await page.waitForURL(`${w.origin}/admin/users/${ned}?did=reopen&task=${t.id}#outcome`);
    expect(await page.locator("#outcome").textContent()).toContain("Reopened: Invite Ned Node to Huntress as Standard User is back in the queue.");
    expect(w.bridge.running.tasks.get(t.id)?.state).toBe("open");
    await page.getByRole("link", { name: "Invite Ned Node to Huntress as Standard User" }).first().click();
    await page.waitForURL(`${w.origin}/admin#task-${t.id}`);
    expect(await task(t.id).count()).toBe(1);
  });

  it("claims a task and shows who has it", async () => {
    const dee = await createUser(w, "Dee Delta", "dee@example.com");
    await joinGroup(w, dee, "Huntress Users");
    const t = openTask(dee)!;
    await signIn(page, w.origin, ADMIN_TOKEN);
    await task(t.id).getByRole("button", { name: "Claim" }).click();
    await page.waitForURL(/did=claim/);
    expect(await task(t.id).locator(".badge.claimed").textContent()).toBe("Claimed by env:SCIM_BRIDGE_ADMIN_TOKEN");
    expect(await task(t.id).getByText("You claimed this task.").count()).toBe(1);
  });

  it("lets a person complete a task with the keyboard alone, with a visible focus ring", async () => {
    const eve = await createUser(w, "Eve Echo", "eve@example.com");
    await joinGroup(w, eve, "Huntress Users");
    const t = openTask(eve)!;
    await signIn(page, w.origin, ADMIN_TOKEN);
    // Page-side code is passed as a string: the test project is typed for Node, without the DOM library.
    const focused = () =>
      page.evaluate(`({ id: document.activeElement.id, text: document.activeElement.textContent.trim(), outline: getComputedStyle(document.activeElement).outlineStyle })`) as Promise<{
        id: string;
        text: string;
        outline: string;
      }>;
    // The first Tab reaches the skip link.
    await page.keyboard.press("Tab");
    expect((await focused()).text).toBe("Skip to content");
    async function tabTo(match: (f: { id: string; text: string }) => boolean): Promise<void> {
      for (let i = 0; i < 200; i++) {
        await page.keyboard.press("Tab");
        const f = await focused();
        if (match(f)) {
          expect(f.outline).toBe("solid");
          return;
        }
      }
      throw new Error("never reached by Tab");
    }
    await tabTo((f) => f.id === `note-${t.id}`);
    await page.keyboard.type("done from the keyboard");
    await page.keyboard.press("Tab");
    expect((await focused()).text).toBe("Mark done");
    await page.keyboard.press("Enter");
    await page.waitForURL(/did=done/);
    expect(w.bridge.running.tasks.get(t.id)).toMatchObject({ state: "done", note: "done from the keyboard" });
  });

  it("copies the email to the clipboard", async () => {
    const fay = await createUser(w, "Fay Final", "fay@example.com");
    await joinGroup(w, fay, "Huntress Admins");
    const t = openTask(fay)!;
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: w.origin });
    await signIn(page, w.origin, ADMIN_TOKEN);
    const copy = task(t.id).getByRole("button", { name: "Copy email fay@example.com" });
    await copy.click();
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe("fay@example.com");
    expect(await copy.textContent()).toBe("Copied");
    expect(await page.locator("#copy-status").textContent()).toBe("Copied fay@example.com");
    await task(t.id).getByRole("button", { name: "Copy role Account Admin" }).click();
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe("Account Admin");
  });

  it("shows what a hostile display name says as text, never as markup", async () => {
    const hostile = `Mallory <img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
    const mal = await createUser(w, hostile, "mallory@example.com");
    await joinGroup(w, mal, "Huntress Users");
    const t = openTask(mal)!;
    await signIn(page, w.origin, ADMIN_TOKEN);
    expect(await task(t.id).getByRole("heading", { level: 3 }).textContent()).toBe(`Invite ${hostile} to Huntress as Standard User`);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.title()).toBe("Task queue · scim-bridge");
    await page.goto(`${w.origin}/admin/users/${mal}`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(hostile);
    expect(await page.locator("img").count()).toBe(0);
  });

  it("shows the drift the last reconcile found", async () => {
    // An agent someone created by hand in HaloPSA that no rule grants: an orphan.
    w.bridge.running.haloPsaSimulator!.seedAgent({ name: "Hand Made", email: "hand.made@example.com" });
    await w.bridge.running.reconciler.run("test");
    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.getByRole("link", { name: "Drift" }).click();
    await page.waitForURL(`${w.origin}/admin/drift`);
    const row = page.getByRole("row", { name: /hand\.made@example\.com/ });
    expect(await row.locator("td").first().textContent()).toContain("orphan");
    expect(await page.locator("#drift-huntress + p").textContent()).toBe("Huntress has no API the bridge can read back, so drift is not checked.");
    await screenshot(page, "06-drift");
  });

  it("shows recent audit events, the review actions among them", async () => {
    const max = await createUser(w, "Max Audit", "max@example.com");
    await joinGroup(w, max, "Huntress Users");
    const { review } = w.bridge.running;
    const t = openTask(max)!;
    review.claim(t.id, "ops");
    review.fail(t.id, "ops", "portal down");
    review.reopen(t.id, "ops");
    review.complete(t.id, "ops", "sent");
    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(`${w.origin}/admin/audit`);
    expect(await page.getByRole("link", { name: "Audit log" }).getAttribute("aria-current")).toBe("page");
    const actions = await page.locator("tbody td:nth-child(3) code").allTextContents();
    expect(actions).toContain("task.done");
    expect(actions).toContain("task.failed");
    expect(actions).toContain("task.claim");
    expect(actions).toContain("task.reopen");
    const done = page.getByRole("row", { name: /task\.done/ }).first();
    expect(await done.locator("td").nth(1).textContent()).toBe("ops");
    expect(await done.getByRole("link").textContent()).toBe(`task #${t.id} for Max Audit`);
    // A long page: the first screenful is what a person reads.
    await page.locator("details").first().locator("summary").click();
    await screenshot(page, "07-audit", false);
  });

  // How fast it renders is a benchmark's question, not a test's: a time limit here fails on a busy machine.
  it("says how long the queue took to render (Server-Timing)", async () => {
    await signIn(page, w.origin, ADMIN_TOKEN);
    const res = await page.goto(`${w.origin}/admin`);
    const timing = (await res!.headerValue("server-timing")) ?? "";
    const ms = Number(/render;dur=([\d.]+)/.exec(timing)?.[1]);
    expect(Number.isFinite(ms) && ms > 0).toBe(true);
  });

  it("signs out: the session is gone from the server, not just the browser", async () => {
    await signIn(page, w.origin, ADMIN_TOKEN);
    const [cookie] = await context.cookies(`${w.origin}/admin`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/admin\/sign-in\?signed-out$/);
    expect(await page.locator("#outcome").textContent()).toContain("You are signed out.");
    // Replaying the old cookie does not get back in.
    const replay = await fetch(`${w.origin}/admin`, { headers: { Cookie: `${cookie!.name}=${cookie!.value}` }, redirect: "manual" });
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toBe("/admin/sign-in?next=%2Fadmin");
  });
});
