/**
 * "Waiting for your approval" in a real browser: after the IdP removes three agents at once from a
 * bridge whose deprovision limit is 1, the admin's landing page says a change waits, the approvals
 * page lists the two people held with why, and rejecting keeps their agents, recorded with the
 * admin's name.
 */
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { waitFor } from "../support/provisioning.js";
import { accessibilityProblems, createUser, joinGroup, leaveGroup, LIMITED_CONFIG, screenshot, signIn, usePagesWith } from "./browser.js";

describe("approvals page", () => {
  const t = usePagesWith({}, LIMITED_CONFIG);

  it("shows the held people with why, and rejecting keeps their access and names who decided", async () => {
    const { w, page } = t;
    const ids: string[] = [];
    for (const [name, email] of [["Ada Lovelace", "ada@example.com"], ["Alan Turing", "alan@example.com"], ["Grace Hopper", "grace@example.com"]] as const) {
      const id = await createUser(w, name, email);
      await joinGroup(w, id, "HaloPSA Agents");
      ids.push(id);
    }
    const enabled = () => [...w.bridge.running.haloPsaSimulator!.state.agents.values()].filter((a) => !a.isapiagent && !a.isdisabled).length;
    await waitFor(() => enabled() === 3, 10_000, "three agents");
    for (const id of ids) await leaveGroup(w, id, "HaloPSA Agents");
    await waitFor(() => w.bridge.running.db.prepare("SELECT count(*) FROM holds").pluck().get() === 2, 10_000, "two held");
    expect(enabled()).toBe(2);

    await signIn(page, w.origin, ADMIN_TOKEN);
    const alert = page.getByRole("alert");
    expect(await alert.textContent()).toContain("1 change waits for your approval.");
    await alert.getByRole("link", { name: "Review them" }).click();
    await page.waitForURL(`${w.origin}/admin/approvals`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Waiting for your approval");
    expect(await page.getByRole("link", { name: "Approvals" }).getAttribute("aria-current")).toBe("page");
    const section = page.locator("section.approval");
    expect(await section.getByRole("heading", { level: 2 }).textContent()).toMatch(/^Change set \d+: 2 people would lose or change access$/);
    expect(await section.textContent()).toContain("more than 1 deactivations in this app within 60 minutes");
    const rows = await section.locator("tbody tr").allTextContents();
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/@example\.com\s*halopsa\s*deactivate halopsa account \d+ \(not-granted\)/);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "approvals");

    // A held person's page says the deactivation waits, and where to decide.
    await section.locator("tbody tr a").first().click();
    const haloRow = page.locator("tr", { has: page.getByRole("rowheader", { name: "HaloPSA" }) });
    expect(await haloRow.textContent()).toMatch(/deactivate halopsa account \d+ \(not-granted\): held for approval \(change set \d+\)/);
    await haloRow.getByRole("link", { name: /change set/ }).click();
    await page.waitForURL(`${w.origin}/admin/approvals`);

    await section.getByLabel("Note for the audit log (optional)").fill("the IdP sync rule broke");
    await section.getByRole("button", { name: "Reject: everyone keeps their access" }).click();
    await page.waitForURL(/\/admin\/approvals\?did=reject/);
    expect(await page.locator("#outcome").textContent()).toMatch(/Change set \d+ rejected: everyone keeps their access\./);
    expect(await page.locator(".empty").textContent()).toBe("Nothing waits for your approval.");
    expect(await page.locator("#decided + ul").textContent()).toContain("by env:SCIM_BRIDGE_ADMIN_TOKEN");
    await w.bridge.running.worker.drain();
    expect(enabled()).toBe(2);
    const audit = w.bridge.running.db.prepare("SELECT actor, after FROM audit_events WHERE action = 'approval.reject'").all() as { actor: string; after: string }[];
    expect(audit).toMatchObject([{ actor: "env:SCIM_BRIDGE_ADMIN_TOKEN" }]);
    expect(JSON.parse(audit[0]!.after)).toMatchObject({ note: "the IdP sync rule broke" });
  });
});
