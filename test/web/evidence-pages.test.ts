/**
 * Offboarding evidence in a real browser: the access timeline on the user page, its printable page
 * (no navigation, when and by which bridge it was generated, print styles), and the deprovisioning
 * section of the status page with who still waits; each passes axe-core and reflows at 320 px.
 */
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { waitFor } from "../support/provisioning.js";
import { axeViolations, createUser, horizontalOverflow, joinGroup, leaveGroup, screenshot, signIn, usePages, type WebBridge } from "./browser.js";

async function accessibleAtEveryWidth(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  await page.setViewportSize({ width: 320, height: 800 });
  expect(await horizontalOverflow(page), name).toEqual({ overflow: 0, culprits: [] });
  expect(await axeViolations(page), `${name} at 320 px`).toEqual([]);
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** Ada's HaloPSA agent made and deactivated by the API; Hal's Huntress account invited, confirmed, then a removal task nobody did. */
async function offboarded(w: WebBridge): Promise<{ ada: string; hal: string; removal: number }> {
  const ada = await createUser(w, "Ada Lovelace", "ada@example.com");
  await joinGroup(w, ada, "HaloPSA Agents");
  await leaveGroup(w, ada, "HaloPSA Agents");
  const hal = await createUser(w, "Hal Hunt", "hal@example.com");
  await joinGroup(w, hal, "Huntress Users");
  const { review, tasks } = w.bridge.running;
  for (const note of ["invited", null]) {
    review.complete(tasks.openFor(hal, "huntress")!.id, "token:rita", note);
    await w.bridge.running.worker.drain();
  }
  await leaveGroup(w, hal, "Huntress Users");
  const removal = await waitFor(() => tasks.openFor(hal, "huntress")?.id, 10_000, "Hal's removal task");
  return { ada, hal, removal };
}

describe("offboarding evidence pages", () => {
  const t = usePages();

  it("show a person's timeline on their page and as a printable page, and the deprovisioning report on the status page", async () => {
    const { w, page } = t;
    const { ada, hal, removal } = await offboarded(w);
    await signIn(page, w.origin, ADMIN_TOKEN);

    await page.goto(`${w.origin}/admin/users/${ada}`);
    const section = page.locator("section", { has: page.getByRole("heading", { level: 2, name: "Access timeline" }) });
    const rows = (await section.locator("tbody tr").allTextContents()).map((r) => r.replace(/\s+/g, " ").trim());
    expect(rows[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC IdP IdP created the user env:SCIM_BRIDGE_SCIM_TOKEN /);
    expect(rows.some((r) => /IdP added them to group "HaloPSA Agents"/.test(r))).toBe(true);
    const removed = rows.findIndex((r) => /IdP removed them from group "HaloPSA Agents"/.test(r));
    const deactivated = rows.findIndex((r) => /HaloPSA account deactivated \(disabled\) worker/.test(r));
    expect(removed).toBeGreaterThan(0);
    expect(deactivated).toBeGreaterThan(removed);
    await accessibleAtEveryWidth(page, "user page with timeline");
    await screenshot(page, "user-timeline");

    await section.getByRole("link", { name: "Printable version" }).click();
    await page.waitForURL(`${w.origin}/admin/users/${ada}/timeline`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Access timeline of ada@example.com");
    expect(await page.locator("nav, header").count()).toBe(0);
    const facts = (await page.locator("dl.facts dd").allTextContents()).map((f) => f.replace(/\s+/g, " ").trim());
    expect(facts).toEqual([ada, expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), expect.stringMatching(new RegExp(`^scim-bridge \\S+ at ${w.origin}$`))]);
    expect(await page.locator("tbody tr").count()).toBe(rows.length);
    await accessibleAtEveryWidth(page, "printable timeline");
    await page.emulateMedia({ media: "print" });
    expect(await page.getByRole("link", { name: "Back to the user page" }).isVisible()).toBe(false);
    expect(await page.locator("tbody tr").first().isVisible()).toBe(true);
    await screenshot(page, "user-timeline-print");
    await page.emulateMedia({ media: "screen" });

    await page.goto(`${w.origin}/admin/status`);
    const report = page.locator("section", { has: page.getByRole("heading", { level: 2, name: "Deprovisioning, last 30 days" }) });
    const appRows = report.locator("table").first().locator("tbody tr");
    const cells = async (i: number) => (await appRows.nth(i).locator("th, td").allTextContents()).map((c) => c.trim());
    expect(await appRows.count()).toBe(2);
    // The API deactivated Ada within the same second or so: p50 = p90 = max, one removal.
    const halo = await cells(0);
    expect(halo.slice(0, 2)).toEqual(["HaloPSA", "1"]);
    expect(halo[2]).toMatch(/^\d+ s$/);
    expect(new Set(halo.slice(2)).size).toBe(1);
    expect(await cells(1)).toEqual(["All apps", ...halo.slice(1)]);
    const waiting = report.locator("table").nth(1).locator("tbody tr");
    expect(await waiting.count()).toBe(1);
    const waitingCells = (await waiting.locator("td").allTextContents()).map((c) => c.replace(/\s+/g, " ").trim());
    expect(waitingCells[0]).toBe("hal@example.com");
    expect(waitingCells[1]).toBe("Huntress");
    expect(waitingCells[3]).toBe(`task #${removal} (open): Remove Hal Hunt from Huntress`);
    expect(await waiting.getByRole("link", { name: "hal@example.com" }).getAttribute("href")).toBe(`/admin/users/${hal}`);
    await accessibleAtEveryWidth(page, "status page with deprovisioning");
    await screenshot(page, "status-deprovisioning");

    const csv = await page.request.get(`${w.origin}/admin/reports/deprovisioning.csv`);
    expect(csv.headers()["content-type"]).toBe("text/csv; charset=utf-8; header=present");
    const lines = (await csv.text()).split("\r\n");
    expect(lines[0]).toBe("user_id,user_name,app,request_id,requested_at,gone_at,seconds,gone_by,how,waiting_on");
    expect(lines.filter((l) => l.startsWith(`${ada},ada@example.com,halopsa,`))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith(`${hal},hal@example.com,huntress,`))).toHaveLength(1);
  });

  it("answers 404 with a page for a timeline nobody knows", async () => {
    const { w, page } = t;
    await signIn(page, w.origin, ADMIN_TOKEN);
    const r = await page.goto(`${w.origin}/admin/users/no-such-user/timeline`);
    expect(r?.status()).toBe(404);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("User not found");
  });
});
