/**
 * The status and jobs pages in a real browser. A rule sends one person to a HaloPSA team the
 * tenant lacks, so their pass is dead-lettered at once: the status page counts it, the jobs page
 * shows it with the error and the person's name, their user page says the pass stopped, and once
 * the team exists, Retry runs the pass again and the agent appears. Each page is checked for
 * structure at desktop width and at 640 px.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { waitFor } from "../support/provisioning.js";
import { create, patch } from "../support/scim.js";
import { accessibilityProblems, CONFIG, createUser, joinGroup, screenshot, signIn, startWebBridge, usePagesWith } from "./browser.js";

const BROKEN = CONFIG.replace(
  "provisioning: { reconcileIntervalMinutes: 0 }",
  "  - { group: HaloPSA Escalations, app: halopsa, role: agent, settings: { teams: [Night Shift] } }\nprovisioning: { reconcileIntervalMinutes: 0, maxAttempts: 2, backoffBaseSeconds: 0.05, maxBackoffSeconds: 0.2 }",
);

/** Structure at desktop width and at 640 px (WCAG 1.4.10 reflow: nothing wider than the viewport). */
async function checkBothWidths(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  await page.setViewportSize({ width: 640, height: 900 });
  expect(await accessibilityProblems(page), `${name} at 640 px`).toEqual([]);
  expect(await page.evaluate("document.documentElement.scrollWidth"), `${name} scrolls sideways at 640 px`).toBeLessThanOrEqual(640);
  await screenshot(page, `${name}-640`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe("status and jobs pages", () => {
  const t = usePagesWith({}, BROKEN);

  it("the status page shows the SCIM URL, each app's instance and live check, and the queue", async () => {
    const { w, page } = t;
    // The IdP calls, naming itself: the page shows who called and when.
    const call = await w.bridge.scim("GET", "/Users?count=1", undefined, { "User-Agent": "Okta SCIM Client 1.0.0" });
    expect(call.status).toBe(200);
    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Status" }).click();
    await page.waitForURL(`${w.origin}/admin/status`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Status");
    expect(await page.locator("#scim-base-url").textContent()).toBe(`${w.origin}/scim/v2`);
    const caller = page.locator("tr", { has: page.getByRole("rowheader", { name: "env:SCIM_BRIDGE_SCIM_TOKEN" }) });
    expect(await caller.textContent()).toMatch(/just now[\s\S]*Okta SCIM Client 1\.0\.0/);
    const halo = page.locator("tr", { has: page.getByRole("rowheader", { name: /HaloPSA/ }) });
    expect(await halo.textContent()).toContain("halopsa:built-in-simulator");
    expect(await halo.textContent()).toMatch(/reachable[\s\S]*signed in with these credentials and read from the instance/);
    expect(await halo.textContent()).toContain("never checked");
    const huntress = page.locator("tr", { has: page.getByRole("rowheader", { name: /Huntress/ }) });
    expect(await huntress.textContent()).toContain("not checked");
    expect(await page.locator("dl").last().textContent()).toMatch(/Queued\s*0 jobs[\s\S]*Dead letters\s*none/);
    await checkBothWidths(page, "status");
  });

  it("the jobs page shows a dead job with its error and user, and Retry runs it again", async () => {
    const { w, page } = t;
    const group = (await create(w.bridge, "Groups", { displayName: "HaloPSA Escalations" })).id;
    const ada = await createUser(w, "Ada Lovelace", "ada@example.com");
    const r = await w.bridge.scim("PATCH", `/Groups/${group}`, patch({ op: "Add", path: "members", value: [{ value: ada }] }));
    expect(r.status, r.text).toBe(204);
    const dead = await waitFor(() => w.bridge.running.db.prepare("SELECT id, last_error FROM jobs WHERE dead = 1").get() as { id: number; last_error: string } | undefined, 10_000, "a dead letter");

    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.goto(`${w.origin}/admin/status`);
    expect(await page.locator("dl").last().textContent()).toMatch(/Dead letters\s*1: stopped until an admin retries them/);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs" }).click();
    await page.waitForURL(`${w.origin}/admin/jobs`);
    const row = page.locator("#jobs-dead ~ .table-wrap tbody tr");
    expect(await row.count()).toBe(1);
    expect(await row.getByRole("link").textContent()).toBe("Ada Lovelace");
    expect(await row.textContent()).toContain(dead.last_error);
    expect(dead.last_error).toMatch(/Night Shift/);
    await checkBothWidths(page, "jobs");

    // The user page says the pass stopped, instead of promising a next action.
    await row.getByRole("link", { name: "Ada Lovelace" }).click();
    const haloRow = page.locator("tr", { has: page.getByRole("rowheader", { name: "HaloPSA" }) });
    expect(await haloRow.textContent()).toContain(`Stopped: ${dead.last_error}; retry from /admin/jobs`);
    await haloRow.getByRole("link", { name: "/admin/jobs" }).click();
    await page.waitForURL(`${w.origin}/admin/jobs`);

    // Fix the cause, then retry: the pass runs at once and the agent appears.
    w.bridge.running.haloPsaSimulator!.state.teams.push({ id: 9001, name: "Night Shift", inactive: false });
    await page.getByRole("button", { name: `Retry job #${dead.id} for Ada Lovelace` }).click();
    await page.waitForURL(/\/admin\/jobs\?did=retry/);
    expect(await page.locator("#outcome").textContent()).toContain(`Job #${dead.id} queued to run now`);
    await waitFor(() => [...w.bridge.running.haloPsaSimulator!.state.agents.values()].some((a) => a.email === "ada@example.com" && !a.isdisabled), 10_000, "Ada's agent");
    await w.bridge.running.worker.drain();
    expect(w.bridge.running.db.prepare("SELECT count(*) FROM jobs").pluck().get()).toBe(0);
    await page.reload();
    expect(await page.locator("#jobs-dead + p.empty").textContent()).toContain("No dead letters");
  });
});

/** CONFIG with Huntress tasks also as tickets in the built-in HaloPSA simulator. */
const TICKETED = CONFIG.replace("- { name: huntress, type: manual, template: huntress }", '- { name: huntress, type: manual, template: huntress, tickets: { halopsa: { ticketTypeId: 3, team: "1st Line" } } }');

describe("status page: tasks as HaloPSA tickets", () => {
  const t = usePagesWith({}, TICKETED);

  it("shows the last ticket read, what waits in the outbox and the last error, as GET /admin/api/status does", async () => {
    const { w, page } = t;
    const sim = w.bridge.running.haloPsaSimulator!;
    // HaloPSA refuses ticket creates for a while: the task's ticket waits, failing.
    sim.faults.failNext(1000, { status: 503, match: { method: "POST", path: "/api/Tickets" } });
    const hal = await createUser(w, "Hal Hunt", "hal@example.com");
    await joinGroup(w, hal, "Huntress Users");
    await waitFor(() => w.bridge.running.ticketSync!.status().failing === 1, 10_000, "a failing ticket create");
    await w.bridge.running.ticketSync!.readBack();

    const api = await fetch(`${w.origin}/admin/api/status`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { tickets } = (await api.json()) as { tickets: Record<string, unknown> };
    expect(tickets).toMatchObject({ toCreate: 1, toClose: 0, toReopen: 0, failing: 1, lastReadError: null, lastError: expect.stringContaining("503") });
    expect(Date.parse(tickets["lastReadAt"] as string)).not.toBeNaN();

    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.goto(`${w.origin}/admin/status`);
    const section = page.locator("#ticket-sync");
    const text = (await section.innerText()).replace(/\s+/g, " ");
    expect(text).toMatch(/Last read of the tickets just now/);
    expect(text).toContain("Waiting for HaloPSA 1 to create, 0 to close, 0 to reopen");
    expect(text).toMatch(/Failing 1 retried with backoff; last error: .*503/);
    expect(await page.getByRole("heading", { level: 2, name: "HaloPSA tickets" }).isVisible()).toBe(true);
    await checkBothWidths(page, "status-tickets");

    // HaloPSA recovers: the ticket is made, nothing waits.
    sim.faults.reset();
    await waitFor(() => w.bridge.running.ticketSync!.status().toCreate === 0, 20_000, "the ticket made");
    await page.reload();
    expect((await page.locator("#ticket-sync").innerText()).replace(/\s+/g, " ")).toContain("Waiting for HaloPSA 0 to create, 0 to close, 0 to reopen Failing none");
  });

  it("leaves the section out where no app has tickets", async () => {
    const w = await startWebBridge();
    try {
      const api = await fetch(`${w.origin}/admin/api/status`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(await api.json()).not.toHaveProperty("tickets");
    } finally {
      await w.bridge.close();
    }
  });
});
