/**
 * The admin console's users, drift and audit pages in Chromium: the access matrix searched by email
 * and by group, filtered, and exported as CSV; drift named by people with a fix and when it was
 * checked; the audit log's changes in words. Each page is checked at desktop width and at 640 px.
 */
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { AuditLog } from "../../src/db/audit.js";
import { DriftStore } from "../../src/db/drift.js";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { patch } from "../support/scim.js";
import { accessibilityProblems, createUser, joinGroup, screenshot, signIn, usePages } from "./browser.js";

/** No structural accessibility problem at a laptop's width nor at 640 px (WCAG 1.4.10 reflow at 200% zoom). */
async function checkWidths(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  await page.setViewportSize({ width: 640, height: 900 });
  expect(await accessibilityProblems(page), `${name} at 640 px`).toEqual([]);
  await screenshot(page, `${name}-640`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe("the console's users, drift and audit pages", () => {
  const p = usePages();
  const ids: Record<string, string> = {};

  async function people(): Promise<void> {
    if (ids["ada"]) return;
    ids["ada"] = await createUser(p.w, "Ada Lovelace", "ada@example.com");
    ids["bo"] = await createUser(p.w, "Bo Byte", "bo@example.com");
    // A displayName a spreadsheet would run as a formula.
    ids["eve"] = await createUser(p.w, "=cmd Eve", "eve@example.com");
    await joinGroup(p.w, ids["ada"], "HaloPSA Agents");
    await joinGroup(p.w, ids["bo"], "Huntress Users");
  }
  const rowNames = async () => (await p.page.locator("table.matrix tbody th[scope=row] a").allTextContents()).sort();

  it("lists every user with their state and role per app, finds one by email and by group, and filters by open task", async () => {
    await people();
    const { page, w } = p;
    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
    await page.waitForURL(`${w.origin}/admin/users`);
    expect(await rowNames()).toEqual(["=cmd Eve", "Ada Lovelace", "Bo Byte"]);

    // The matrix cell: Ada's HaloPSA agent, as the identity map holds it.
    const account = w.bridge.running.accounts.get(ids["ada"]!, "halopsa")!;
    expect(account).toMatchObject({ state: "active", role: "agent" });
    const headers = await page.locator("table.matrix thead th").allTextContents();
    const haloColumn = headers.findIndex((h) => h.includes("HaloPSA"));
    const adaRow = page.locator("table.matrix tbody tr", { hasText: "Ada Lovelace" });
    const adaHalo = (await adaRow.locator("th, td").nth(haloColumn).textContent())!.replace(/\s+/g, " ").trim();
    expect(adaHalo).toBe("active agent");
    expect((await adaRow.locator("th, td").nth(headers.findIndex((h) => h.includes("Huntress"))).textContent())!.trim()).toBe("no account");
    await checkWidths(page, "users");

    await page.getByLabel("Search").fill("ada@example.com");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=ada%40example.com/);
    expect(await rowNames()).toEqual(["Ada Lovelace"]);

    await page.getByLabel("Search").fill("huntress users");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=huntress/);
    expect(await rowNames()).toEqual(["Bo Byte"]);

    await page.getByLabel("Search").fill("");
    await page.getByLabel("an open task").check();
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/task=1/);
    // Bo's Huntress invitation is a manual task waiting for a person.
    expect(await rowNames()).toEqual(["Bo Byte"]);
    expect(await page.locator("table.matrix tbody tr").first().textContent()).toContain("open task");
  });

  it("downloads the matrix as CSV, quoting per RFC 4180 and defusing formulas", async () => {
    await people();
    const { page, w } = p;
    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.goto(`${w.origin}/admin/users?active=yes`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download these users as CSV" }).click()]);
    expect(download.suggestedFilename()).toBe("users.csv");
    const csv = readFileSync((await download.path())!, "utf8");
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(
      "userName,displayName,email,active,groups,openTask,deadJob,drift,halopsa state,halopsa role,halopsa wanted role,huntress state,huntress role,huntress wanted role,portal state,portal role,portal wanted role",
    );
    expect(lines.slice(1, -1).sort()).toEqual([
      "eve@example.com,'=cmd Eve,eve@example.com,true,,false,false,false,none,,,none,,,none,,",
      `ada@example.com,Ada Lovelace,ada@example.com,true,HaloPSA Agents,false,false,false,active,agent,agent,none,,,none,,`,
      "bo@example.com,Bo Byte,bo@example.com,true,Huntress Users,true,false,false,none,,,pending,standard,standard,none,,",
    ].sort());
    expect(lines.at(-1)).toBe("");
  });

  it("names the people drift concerns, says what to do, and tells never checked from checked", async () => {
    await people();
    const { page, w } = p;
    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.goto(`${w.origin}/admin/drift`);
    const halo = page.locator("section", { has: page.getByRole("heading", { name: "HaloPSA" }) });
    expect(await halo.textContent()).toContain("Never checked");
    expect(await page.locator("main").textContent()).not.toContain("No drift");
    await checkWidths(page, "drift-never-checked");

    new DriftStore(w.bridge.running.db, systemClock).replace("halopsa", [
      { kind: "disabled-outside", externalId: "17", userId: ids["ada"]!, email: "ada@example.com", detail: {} },
    ]);
    await page.reload();
    const text = (await halo.textContent())!.replace(/\s+/g, " ");
    expect(text).toMatch(/Last checked just now \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    expect(text).toContain("Ada Lovelace");
    expect(text).toContain("ada@example.com");
    expect(text).not.toContain(ids["ada"]);
    expect(text).toContain("Enable the account in the app again, or remove the user from the group that grants it.");
    await checkWidths(page, "drift-checked");

    new DriftStore(w.bridge.running.db, systemClock).replace("halopsa", []);
    await page.reload();
    expect(await halo.textContent()).toContain("No drift: the last pass found HaloPSA as the identity map says.");
  });

  it("summarises each audited change in words, with its raw JSON one click away", async () => {
    await people();
    const { page, w } = p;
    const r = await w.bridge.scim("PATCH", `/Users/${ids["ada"]}`, patch({ op: "replace", path: "active", value: false }));
    expect(r.status, r.text).toBe(200);
    await w.bridge.running.worker.drain();
    await signIn(page, w.origin, ADMIN_TOKEN);
    await page.goto(`${w.origin}/admin/audit`);
    const row = (action: string) => page.locator("table.audit tbody tr", { has: page.locator("code", { hasText: new RegExp(`^${action.replace(".", "\\.")}$`) }) }).first();
    expect(await row("user.patch").locator(".change-summary").textContent()).toContain("active true → false");
    const deactivated = (await row("provision.deactivate").locator(".change-summary li").allTextContents()).join("\n");
    expect(deactivated).toContain("state active → disabled");
    const details = row("user.patch").locator("details");
    const seq = new AuditLog(w.bridge.running.db, systemClock).recent(100).find((e) => e.action === "user.patch")!.seq;
    expect(await details.locator("summary").textContent()).toBe(`Raw JSON of event ${seq}`);
    await details.locator("summary").click();
    expect(await details.locator("pre").first().isVisible()).toBe(true);
    await checkWidths(page, "audit");
  });
});
